#pragma once
// Keys the user has compared out of band and marked verified (`/verify`). Pinning (known_hosts)
// only says "the same key as last time"; verified says "a human checked this key". Stored beside
// known_hosts in a file named `verified` (mode 0600), one entry per line:
//
//   server HOST:PORT FINGERPRINT
//   user HOST:PORT NAME FINGERPRINT
//
// Every entry names the fingerprint it was made for, so a changed key is simply no longer
// verified: nothing has to notice the change and revoke anything. User names are folded to
// lower case (the server compares them case-insensitively). Pure apart from load()/save().
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace natter::client {

struct verified_store_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct verified_entry {
  std::string server;       // "host:port" (known_hosts' host_key())
  std::string name;         // folded user name; empty for the server's own key
  std::string fingerprint;  // canonical form
};

class verified_store {
 public:
  // Parses file content; malformed lines and comments are dropped (a bad line must not
  // un-verify everything else).
  [[nodiscard]] static verified_store parse(std::string_view content);
  // Reads `path`; a missing file is an empty store. Throws verified_store_error if unreadable
  // or refused: not a regular file, owned by someone else, or writable by group/others.
  [[nodiscard]] static verified_store load(const std::filesystem::path& path);

  [[nodiscard]] bool server_verified(std::string_view server, std::string_view fingerprint) const;
  [[nodiscard]] bool user_verified(std::string_view server, std::string_view name,
                                   std::string_view fingerprint) const;

  // Marks a key verified, replacing any entry for the same server (or server and user): the old
  // key is no longer the one this user vouches for. Fingerprints in any accepted spelling.
  void mark_server(std::string_view server, std::string_view fingerprint);
  void mark_user(std::string_view server, std::string_view name, std::string_view fingerprint);

  [[nodiscard]] const std::vector<verified_entry>& entries() const { return entries_; }
  [[nodiscard]] std::string serialize() const;

  // Writes the whole store to `path` atomically (a mkstemp file beside it, fsync, rename, fsync of
  // the directory), mode 0600, the directory created 0700 if missing. Throws verified_store_error.
  void save(const std::filesystem::path& path) const;

 private:
  void mark(verified_entry entry);
  [[nodiscard]] bool contains(std::string_view server, std::string_view name,
                              std::string_view fingerprint) const;

  std::vector<verified_entry> entries_;
};

// load(), except that a store which cannot be read is treated as empty and the reason put in
// `error`: the session goes on, only the verified marks are missing.
[[nodiscard]] verified_store load_verified_or_empty(const std::filesystem::path& path, std::string& error);

}  // namespace natter::client
