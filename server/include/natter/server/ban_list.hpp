#pragma once
// Who may not use this server: the operator's bans (console `ban`, `unban`, `bans`). A ban names
// an identity, by its v2 fingerprint, or an IP address. Identity bans are checked when a client
// joins (refused with `banned`, PROTOCOL.md §5); address bans when a connection is accepted (the
// unauthenticated "banned" refusal in place of Noise message 2, PROTOCOL.md "Refusals") and again
// at join, for a connection that was mid-handshake when the ban was made.
//
// Identities are banned by fingerprint, not key: the operator may only have the fingerprint (a
// user pasted it, or it is in a log), and a fingerprint names exactly one key (160 bits,
// fingerprint_v2.hpp). A key given in hex is turned into its fingerprint.
//
// Concurrency: every method is thread-safe (the console adds, sessions check).
#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

struct sqlite3;

namespace natter::server {

enum class ban_kind { identity, address };

struct ban_target {
  ban_kind kind = ban_kind::identity;
  std::string value;  // the canonical v2 fingerprint ("2:…"), or the IP address as inet_ntop writes it
  friend bool operator==(const ban_target&, const ban_target&) = default;
};

struct ban {
  ban_target target;
  std::string reason;  // may be empty
  std::int64_t banned_ms = 0;
};

// What the operator typed: a v2 fingerprint (as normalize_fingerprint_v2 accepts it), an identity
// key (64 hex), or an IPv4/IPv6 address (brackets allowed). nullopt for anything else.
[[nodiscard]] std::optional<ban_target> parse_ban_target(std::string_view text);

// An IPv4 or IPv6 address (brackets allowed) in the canonical form inet_ntop writes; nullopt if
// `text` is not one.
[[nodiscard]] std::optional<std::string> canonical_ip(std::string_view text);

// The IP address of a connection's "ip:port" or "[ipv6]:port", in the canonical form; empty if
// it is neither.
[[nodiscard]] std::string address_host(std::string_view address);

enum class ban_result { done, nothing_to_do, storage_failed };

class ban_list {
 public:
  virtual ~ban_list() = default;

  // Adds the ban (nothing_to_do if that target is banned already; its reason stays).
  [[nodiscard]] ban_result add(const ban& entry);
  [[nodiscard]] ban_result remove(const ban_target& target);
  // The ban on this fingerprint or this address (canonical forms), if any.
  [[nodiscard]] std::optional<ban> find(const ban_target& target) const;
  [[nodiscard]] std::vector<ban> all() const;  // identities first, then addresses, each sorted

 protected:
  // Called with the lock held; a persistent subclass writes the change through first.
  virtual bool persist_add(const ban& /*entry*/) { return true; }
  virtual bool persist_remove(const ban_target& /*target*/) { return true; }
  void load(ban entry);

 private:
  mutable std::mutex mutex_;
  // Keyed by (kind, value): every accept and join looks one up.
  std::map<std::pair<ban_kind, std::string>, ban> bans_;
};

// The server's bans: a `bans` table in the name registry's SQLite database, loaded at start.
class sqlite_ban_list final : public ban_list {
 public:
  // Throws std::runtime_error with a readable message if the database cannot be opened.
  explicit sqlite_ban_list(const std::filesystem::path& database);
  ~sqlite_ban_list() override;
  sqlite_ban_list(const sqlite_ban_list&) = delete;
  sqlite_ban_list& operator=(const sqlite_ban_list&) = delete;

 private:
  bool persist_add(const ban& entry) override;
  bool persist_remove(const ban_target& target) override;
  sqlite3* db_ = nullptr;
};

}  // namespace natter::server
