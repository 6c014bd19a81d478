#include "natter/server/ban_list.hpp"

#include <arpa/inet.h>
#include <sqlite3.h>

#include <stdexcept>

#include "natter/crypto/fingerprint_v2.hpp"

namespace natter::server {

// inet_pton then inet_ntop: "::0001" and "::1" are one address, and the text matches what the
// listener gets from Asio (which formats with inet_ntop too).
std::optional<std::string> canonical_ip(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') text = text.substr(1, text.size() - 2);
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
  const std::string copy(text);
  char out[INET6_ADDRSTRLEN] = {};
  unsigned char raw[16] = {};
  if (::inet_pton(AF_INET, copy.c_str(), raw) == 1) return std::string(::inet_ntop(AF_INET, raw, out, sizeof out));
  if (::inet_pton(AF_INET6, copy.c_str(), raw) == 1) return std::string(::inet_ntop(AF_INET6, raw, out, sizeof out));
  return std::nullopt;
}

std::optional<ban_target> parse_ban_target(std::string_view text) {
  if (const auto fingerprint = crypto::normalize_fingerprint_v2(text)) return ban_target{ban_kind::identity, *fingerprint};
  if (const auto key = crypto::ed25519_public_key_from_hex(text)) {
    return ban_target{ban_kind::identity, crypto::fingerprint_v2(*key)};
  }
  if (const auto ip = canonical_ip(text)) return ban_target{ban_kind::address, *ip};
  return std::nullopt;
}

std::string address_host(std::string_view address) {
  const auto colon = address.rfind(':');
  if (colon == std::string_view::npos) return {};
  return canonical_ip(address.substr(0, colon)).value_or("");
}

ban_result ban_list::add(const ban& entry) {
  std::lock_guard lock(mutex_);
  const auto key = std::pair{entry.target.kind, entry.target.value};
  if (bans_.count(key)) return ban_result::nothing_to_do;
  if (!persist_add(entry)) return ban_result::storage_failed;
  bans_.emplace(key, entry);
  return ban_result::done;
}

ban_result ban_list::remove(const ban_target& target) {
  std::lock_guard lock(mutex_);
  const auto it = bans_.find(std::pair{target.kind, target.value});
  if (it == bans_.end()) return ban_result::nothing_to_do;
  if (!persist_remove(target)) return ban_result::storage_failed;
  bans_.erase(it);
  return ban_result::done;
}

std::optional<ban> ban_list::find(const ban_target& target) const {
  std::lock_guard lock(mutex_);
  if (bans_.empty()) return std::nullopt;  // the usual case: no string copied for the key
  if (const auto it = bans_.find(std::pair{target.kind, target.value}); it != bans_.end()) return it->second;
  return std::nullopt;
}

std::vector<ban> ban_list::all() const {
  std::lock_guard lock(mutex_);
  std::vector<ban> list;
  list.reserve(bans_.size());
  for (const auto& [key, entry] : bans_) list.push_back(entry);
  return list;
}

void ban_list::load(ban entry) {
  auto key = std::pair{entry.target.kind, entry.target.value};
  bans_.emplace(std::move(key), std::move(entry));
}

// ---- SQLite ------------------------------------------------------------------------------------

namespace {
struct statement {
  sqlite3_stmt* handle = nullptr;
  ~statement() { sqlite3_finalize(handle); }
};

// The table's `kind` column holds words, not numbers, so that the file reads well in sqlite3.
const char* kind_word(ban_kind kind) { return kind == ban_kind::identity ? "identity" : "address"; }
}  // namespace

sqlite_ban_list::sqlite_ban_list(const std::filesystem::path& database) {
  if (sqlite3_open_v2(database.c_str(), &db_, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      nullptr) != SQLITE_OK) {
    const std::string why = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    throw std::runtime_error("cannot open ban list " + database.string() + ": " + why);
  }
  sqlite3_busy_timeout(db_, 2000);
  char* message = nullptr;
  if (sqlite3_exec(db_,
                   "CREATE TABLE IF NOT EXISTS bans ("
                   " kind TEXT NOT NULL CHECK (kind IN ('identity', 'address')),"
                   " value TEXT NOT NULL,"
                   " reason TEXT NOT NULL DEFAULT '',"
                   " banned_ms INTEGER NOT NULL,"
                   " PRIMARY KEY (kind, value))",
                   nullptr, nullptr, &message) != SQLITE_OK) {
    const std::string why = message ? message : "unknown error";
    sqlite3_free(message);
    sqlite3_close(db_);
    throw std::runtime_error("ban list: " + why);
  }
  statement select;
  sqlite3_prepare_v2(db_, "SELECT kind, value, reason, banned_ms FROM bans", -1, &select.handle, nullptr);
  while (sqlite3_step(select.handle) == SQLITE_ROW) {
    const auto* kind = reinterpret_cast<const char*>(sqlite3_column_text(select.handle, 0));
    const auto* value = reinterpret_cast<const char*>(sqlite3_column_text(select.handle, 1));
    const auto* reason = reinterpret_cast<const char*>(sqlite3_column_text(select.handle, 2));
    if (!kind || !value) continue;
    // Read back through the parser: a row edited by hand into something else is not a ban.
    const auto target = parse_ban_target(value);
    if (!target || std::string_view(kind) != kind_word(target->kind)) continue;
    load(ban{*target, reason ? reason : "", sqlite3_column_int64(select.handle, 3)});
  }
}

sqlite_ban_list::~sqlite_ban_list() { sqlite3_close(db_); }

bool sqlite_ban_list::persist_add(const ban& entry) {
  statement insert;
  if (sqlite3_prepare_v2(db_, "INSERT INTO bans (kind, value, reason, banned_ms) VALUES (?, ?, ?, ?)", -1,
                         &insert.handle, nullptr) != SQLITE_OK) {
    return false;
  }
  sqlite3_bind_text(insert.handle, 1, kind_word(entry.target.kind), -1, SQLITE_STATIC);
  sqlite3_bind_text(insert.handle, 2, entry.target.value.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(insert.handle, 3, entry.reason.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(insert.handle, 4, entry.banned_ms);
  return sqlite3_step(insert.handle) == SQLITE_DONE;
}

bool sqlite_ban_list::persist_remove(const ban_target& target) {
  statement erase;
  if (sqlite3_prepare_v2(db_, "DELETE FROM bans WHERE kind = ? AND value = ?", -1, &erase.handle, nullptr) !=
      SQLITE_OK) {
    return false;
  }
  sqlite3_bind_text(erase.handle, 1, kind_word(target.kind), -1, SQLITE_STATIC);
  sqlite3_bind_text(erase.handle, 2, target.value.c_str(), -1, SQLITE_TRANSIENT);
  return sqlite3_step(erase.handle) == SQLITE_DONE;
}

}  // namespace natter::server
