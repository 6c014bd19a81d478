#include "natter/server/name_registry.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <stdexcept>

#include "natter/text.hpp"

namespace natter::server {

claim_result memory_name_registry::claim(std::string_view name, const crypto::public_key& key,
                                         std::int64_t now_ms) {
  std::string folded = fold_name(name);
  std::lock_guard lock(mutex_);
  if (const auto it = names_.find(folded); it != names_.end()) {
    return it->second.owner == key ? claim_result::owned_by_you : claim_result::taken;
  }
  registered_name entry{std::string(name), key, now_ms};
  if (!persist(folded, entry)) return claim_result::storage_failed;
  names_.emplace(std::move(folded), std::move(entry));
  return claim_result::claimed_new;
}

std::optional<registered_name> memory_name_registry::lookup(std::string_view name) const {
  std::lock_guard lock(mutex_);
  if (const auto it = names_.find(fold_name(name)); it != names_.end()) return it->second;
  return std::nullopt;
}

std::size_t memory_name_registry::size() const {
  std::lock_guard lock(mutex_);
  return names_.size();
}

namespace {
struct statement {
  sqlite3_stmt* handle = nullptr;
  ~statement() { sqlite3_finalize(handle); }
};

void exec(sqlite3* db, const char* sql) {
  char* message = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &message) != SQLITE_OK) {
    std::string text = message ? message : "unknown error";
    sqlite3_free(message);
    throw std::runtime_error(std::string("name registry: ") + text);
  }
}
}  // namespace

sqlite_name_registry::sqlite_name_registry(const std::filesystem::path& database) {
  if (sqlite3_open_v2(database.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw std::runtime_error("cannot open name registry " + database.string() + ": " + why);
  }
  try {
    sqlite3_busy_timeout(db_, 2000);
    // WAL keeps readers and the writer apart; NORMAL sync in WAL mode is durable across process
    // crashes (an OS crash may lose the newest registrations, never corrupt the file).
    exec(db_, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;");
    exec(db_,
         "CREATE TABLE IF NOT EXISTS names ("
         " folded TEXT PRIMARY KEY,"
         " display TEXT NOT NULL,"
         " public_key BLOB NOT NULL CHECK (length(public_key) = 32),"
         " registered_ms INTEGER NOT NULL)");
    statement select;
    sqlite3_prepare_v2(db_, "SELECT folded, display, public_key, registered_ms FROM names", -1,
                       &select.handle, nullptr);
    while (sqlite3_step(select.handle) == SQLITE_ROW) {
      const auto* folded = reinterpret_cast<const char*>(sqlite3_column_text(select.handle, 0));
      const auto* display = reinterpret_cast<const char*>(sqlite3_column_text(select.handle, 1));
      const auto* key = static_cast<const std::uint8_t*>(sqlite3_column_blob(select.handle, 2));
      if (!folded || !display || !key || sqlite3_column_bytes(select.handle, 2) != 32) continue;
      registered_name entry{display, {}, sqlite3_column_int64(select.handle, 3)};
      std::copy(key, key + 32, entry.owner.begin());
      load(folded, std::move(entry));
      ++loaded_;
    }
  } catch (...) {
    sqlite3_close(db_);
    throw;
  }
}

sqlite_name_registry::~sqlite_name_registry() { sqlite3_close(db_); }

bool sqlite_name_registry::persist(const std::string& folded, const registered_name& entry) {
  statement insert;
  if (sqlite3_prepare_v2(db_,
                         "INSERT INTO names (folded, display, public_key, registered_ms) VALUES (?, ?, ?, ?)",
                         -1, &insert.handle, nullptr) != SQLITE_OK) {
    return false;
  }
  sqlite3_bind_text(insert.handle, 1, folded.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(insert.handle, 2, entry.display.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_blob(insert.handle, 3, entry.owner.data(), 32, SQLITE_TRANSIENT);
  sqlite3_bind_int64(insert.handle, 4, entry.registered_ms);
  // A single INSERT is its own transaction: it is on disk, or it did not happen.
  return sqlite3_step(insert.handle) == SQLITE_DONE;
}

}  // namespace natter::server
