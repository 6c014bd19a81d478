#include "natter/server/name_registry.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <stdexcept>

#include "natter/text.hpp"

namespace natter::server {

claim_result memory_name_registry::claim(std::string_view name, const name_owner& owner, std::int64_t now_ms) {
  std::string folded = fold_name(name);
  std::lock_guard lock(mutex_);
  if (const auto it = names_.find(folded); it != names_.end()) {
    return it->second.owner == owner ? claim_result::owned_by_you : claim_result::taken;
  }
  registered_name entry{std::string(name), owner, now_ms};
  if (!persist(folded, entry)) return claim_result::storage_failed;
  names_.emplace(std::move(folded), std::move(entry));
  return claim_result::claimed_new;
}

migrate_result memory_name_registry::migrate(std::string_view name, const crypto::public_key& from,
                                             const crypto::ed25519_public_key& to) {
  const std::string folded = fold_name(name);
  std::lock_guard lock(mutex_);
  const auto it = names_.find(folded);
  // Only the v1 owner itself: a migrated name (version 2) never moves again this way.
  if (it == names_.end() || it->second.owner != name_owner::v1(from)) {
    return migrate_result::not_registered_to_that_key;
  }
  const name_owner moved = name_owner::v2(to);
  if (!persist_owner(folded, moved)) return migrate_result::storage_failed;
  it->second.owner = moved;
  return migrate_result::migrated;
}

std::optional<registered_name> memory_name_registry::lookup(std::string_view name) const {
  std::lock_guard lock(mutex_);
  if (const auto it = names_.find(fold_name(name)); it != names_.end()) return it->second;
  return std::nullopt;
}

release_result memory_name_registry::release(std::string_view name) {
  const std::string folded = fold_name(name);
  std::lock_guard lock(mutex_);
  const auto it = names_.find(folded);
  if (it == names_.end()) return release_result::not_registered;
  if (!persist_release(folded)) return release_result::storage_failed;
  names_.erase(it);
  return release_result::released;
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
// A registry written by protocol 1's natter has no key_version column: its keys are all v1
// (X25519) keys, which is the column's default.
void add_key_version_column(sqlite3* db) {
  statement info;
  sqlite3_prepare_v2(db, "PRAGMA table_info(names)", -1, &info.handle, nullptr);
  while (sqlite3_step(info.handle) == SQLITE_ROW) {
    const auto* column = reinterpret_cast<const char*>(sqlite3_column_text(info.handle, 1));
    if (column && std::string_view(column) == "key_version") return;
  }
  exec(db, "ALTER TABLE names ADD COLUMN key_version INTEGER NOT NULL DEFAULT 1");
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
         " registered_ms INTEGER NOT NULL,"
         " key_version INTEGER NOT NULL DEFAULT 1)");
    add_key_version_column(db_);
    statement select;
    sqlite3_prepare_v2(db_, "SELECT folded, display, public_key, registered_ms, key_version FROM names", -1,
                       &select.handle, nullptr);
    while (sqlite3_step(select.handle) == SQLITE_ROW) {
      const auto* folded = reinterpret_cast<const char*>(sqlite3_column_text(select.handle, 0));
      const auto* display = reinterpret_cast<const char*>(sqlite3_column_text(select.handle, 1));
      const auto* key = static_cast<const std::uint8_t*>(sqlite3_column_blob(select.handle, 2));
      if (!folded || !display || !key || sqlite3_column_bytes(select.handle, 2) != 32) continue;
      const auto version = sqlite3_column_int64(select.handle, 4);
      if (version != 1 && version != 2) continue;  // written by a later natter: not ours to judge
      registered_name entry{display, {}, sqlite3_column_int64(select.handle, 3)};
      entry.owner.version = static_cast<std::uint8_t>(version);
      std::copy(key, key + 32, entry.owner.key.begin());
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
                         "INSERT INTO names (folded, display, public_key, registered_ms, key_version)"
                         " VALUES (?, ?, ?, ?, ?)",
                         -1, &insert.handle, nullptr) != SQLITE_OK) {
    return false;
  }
  sqlite3_bind_text(insert.handle, 1, folded.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(insert.handle, 2, entry.display.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_blob(insert.handle, 3, entry.owner.key.data(), 32, SQLITE_TRANSIENT);
  sqlite3_bind_int64(insert.handle, 4, entry.registered_ms);
  sqlite3_bind_int64(insert.handle, 5, entry.owner.version);
  // A single INSERT is its own transaction: it is on disk, or it did not happen.
  return sqlite3_step(insert.handle) == SQLITE_DONE;
}

bool sqlite_name_registry::persist_owner(const std::string& folded, const name_owner& owner) {
  statement update;
  if (sqlite3_prepare_v2(db_, "UPDATE names SET public_key = ?, key_version = ? WHERE folded = ?", -1,
                         &update.handle, nullptr) != SQLITE_OK) {
    return false;
  }
  sqlite3_bind_blob(update.handle, 1, owner.key.data(), 32, SQLITE_TRANSIENT);
  sqlite3_bind_int64(update.handle, 2, owner.version);
  sqlite3_bind_text(update.handle, 3, folded.c_str(), -1, SQLITE_TRANSIENT);
  return sqlite3_step(update.handle) == SQLITE_DONE && sqlite3_changes(db_) == 1;
}

bool sqlite_name_registry::persist_release(const std::string& folded) {
  statement erase;
  if (sqlite3_prepare_v2(db_, "DELETE FROM names WHERE folded = ?", -1, &erase.handle, nullptr) != SQLITE_OK) {
    return false;
  }
  sqlite3_bind_text(erase.handle, 1, folded.c_str(), -1, SQLITE_TRANSIENT);
  return sqlite3_step(erase.handle) == SQLITE_DONE && sqlite3_changes(db_) == 1;
}

}  // namespace natter::server
