#pragma once
// Who owns which name. The first identity key to join as a name owns it from then on; another key
// asking for it is refused (name_taken). Names are compared case-insensitively (fold_name).
//
// Owners are identity v2 keys (Ed25519). A name registered under protocol 1 keeps its v1 owner
// (an X25519 key) until that user's client migrates it with a proof of the old key
// (docs/PROTOCOL.md "Migration"): migrate() moves it once, and nothing else can take it.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "natter/crypto/identity_v2.hpp"
#include "natter/crypto/keys.hpp"

struct sqlite3;

namespace natter::server {

// The key a name belongs to: an identity v2 key, or a protocol 1 key not migrated yet.
struct name_owner {
  std::uint8_t version = 2;  // 1: a v1 X25519 key; 2: an Ed25519 identity key
  std::array<std::uint8_t, 32> key{};

  [[nodiscard]] static name_owner v2(const crypto::ed25519_public_key& identity) { return {2, identity.bytes}; }
  [[nodiscard]] static name_owner v1(const crypto::public_key& x25519) { return {1, x25519}; }
  friend bool operator==(const name_owner&, const name_owner&) = default;
};

struct registered_name {
  std::string display;       // spelling used at first registration
  name_owner owner{};
  std::int64_t registered_ms = 0;
};

enum class claim_result { claimed_new, owned_by_you, taken, storage_failed };
enum class migrate_result { migrated, not_registered_to_that_key, storage_failed };
enum class release_result { released, not_registered, storage_failed };

// Interface so the router can be tested with an in-memory registry.
class name_registry {
 public:
  virtual ~name_registry() = default;
  // Registers `name` to `key` if free. Thread-safe.
  [[nodiscard]] virtual claim_result claim(std::string_view name, const name_owner& owner,
                                           std::int64_t now_ms) = 0;
  // Moves `name` from the v1 key `from` to the identity `to`, only if `from` owns it now. The
  // caller has checked the migration proof. Thread-safe.
  [[nodiscard]] virtual migrate_result migrate(std::string_view name, const crypto::public_key& from,
                                               const crypto::ed25519_public_key& to) = 0;
  [[nodiscard]] virtual std::optional<registered_name> lookup(std::string_view name) const = 0;
  // Forgets who owns `name`, so that the next key to join as it claims it (the console's `free`,
  // for a user who lost their identity). The caller makes sure nobody is online as it.
  [[nodiscard]] virtual release_result release(std::string_view name) = 0;
  // How many names are registered.
  [[nodiscard]] virtual std::size_t size() const = 0;
};

// Keeps everything in memory (tests, and `--ephemeral-names`).
class memory_name_registry : public name_registry {
 public:
  claim_result claim(std::string_view name, const name_owner& owner, std::int64_t now_ms) override;
  migrate_result migrate(std::string_view name, const crypto::public_key& from,
                         const crypto::ed25519_public_key& to) override;
  std::optional<registered_name> lookup(std::string_view name) const override;
  release_result release(std::string_view name) override;
  std::size_t size() const override;

 protected:
  // Called with the lock held for a new name; a persistent subclass writes it through.
  virtual bool persist(const std::string& /*folded*/, const registered_name& /*entry*/) { return true; }
  // Called with the lock held when a name moves to a new owner.
  virtual bool persist_owner(const std::string& /*folded*/, const name_owner& /*owner*/) { return true; }
  // Called with the lock held when a name is freed.
  virtual bool persist_release(const std::string& /*folded*/) { return true; }
  void load(std::string folded, registered_name entry) { names_.emplace(std::move(folded), std::move(entry)); }

 private:
  mutable std::mutex mutex_;
  std::unordered_map<std::string, registered_name> names_;  // key: folded name
};

// The server's registry: a SQLite database in the state directory, loaded into memory at start
// so joins do not touch the disk; a new registration is written in its own transaction before
// the join is accepted (so a crash never forgets an owner it told a client about).
class sqlite_name_registry final : public memory_name_registry {
 public:
  // Throws std::runtime_error with a readable message if the database cannot be opened.
  explicit sqlite_name_registry(const std::filesystem::path& database);
  ~sqlite_name_registry() override;
  sqlite_name_registry(const sqlite_name_registry&) = delete;
  sqlite_name_registry& operator=(const sqlite_name_registry&) = delete;

  [[nodiscard]] std::size_t size_at_open() const { return loaded_; }

 private:
  bool persist(const std::string& folded, const registered_name& entry) override;
  bool persist_owner(const std::string& folded, const name_owner& owner) override;
  bool persist_release(const std::string& folded) override;
  sqlite3* db_ = nullptr;
  std::size_t loaded_ = 0;
};

}  // namespace natter::server
