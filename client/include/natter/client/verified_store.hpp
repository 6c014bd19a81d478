#pragma once
// Keys the user has compared out of band and marked verified (`/verify`). Pinning (known_hosts)
// only says "the same key as last time"; verified says "a human checked this key". Stored beside
// known_hosts in a file named `verified` (mode 0600), one entry per line, naming the full key:
//
//   server HOST:PORT X25519_KEY_HEX          (the server's static key, 64 hex digits)
//   user HOST:PORT NAME ED25519_KEY_HEX      (the user's identity key, 64 hex digits)
//
// Every entry names the key it was made for, so a changed key is simply no longer verified:
// nothing has to notice the change and revoke anything. User names are folded to lower case
// (the server compares them case-insensitively). Pure apart from load()/save().
//
// Files written before keys were stored name a v2 fingerprint instead of the key (40 hex
// digits). Such a line is still honoured, for the key whose fingerprint it is, until the same
// server (or user) is marked again, which writes the key. Protocol 1 fingerprints name keys no
// v2 peer has: they are kept in the file but never match.
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "natter/crypto/identity_v2.hpp"
#include "natter/crypto/keys.hpp"

namespace natter::client {

struct verified_store_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct verified_entry {
  std::string server;  // "host:port" (known_hosts' host_key())
  std::string name;    // folded user name; empty for the server's own key
  std::string key;     // 64 lowercase hex digits; empty for an old line naming a fingerprint
  std::string legacy_fingerprint;  // an old line's fingerprint, canonical form; else empty
};

class verified_store {
 public:
  // Parses file content; malformed lines and comments are dropped (a bad line must not
  // un-verify everything else).
  [[nodiscard]] static verified_store parse(std::string_view content);
  // Reads `path`; a missing file is an empty store. Throws verified_store_error if unreadable
  // or refused: not a regular file, owned by someone else, or writable by group/others.
  [[nodiscard]] static verified_store load(const std::filesystem::path& path);

  [[nodiscard]] bool server_verified(std::string_view server, const crypto::public_key& key) const;
  [[nodiscard]] bool user_verified(std::string_view server, std::string_view name,
                                   const crypto::ed25519_public_key& key) const;

  // Marks a key verified, replacing any entry for the same server (or server and user): the old
  // key is no longer the one this user vouches for.
  void mark_server(std::string_view server, const crypto::public_key& key);
  void mark_user(std::string_view server, std::string_view name, const crypto::ed25519_public_key& key);

  [[nodiscard]] const std::vector<verified_entry>& entries() const { return entries_; }
  [[nodiscard]] std::string serialize() const;

  // Writes the whole store to `path` atomically (a mkstemp file beside it, fsync, rename, fsync of
  // the directory), mode 0600, the directory created 0700 if missing. Throws verified_store_error.
  void save(const std::filesystem::path& path) const;

 private:
  void mark(verified_entry entry);
  [[nodiscard]] bool contains(std::string_view server, std::string_view name, const std::string& key_hex,
                              const std::string& fingerprint) const;

  std::vector<verified_entry> entries_;
};

// load(), except that a store which cannot be read is treated as empty and the reason put in
// `error`: the session goes on, only the verified marks are missing.
[[nodiscard]] verified_store load_verified_or_empty(const std::filesystem::path& path, std::string& error);

}  // namespace natter::client
