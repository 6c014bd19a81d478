#pragma once
// The known-hosts file (docs/PROTOCOL.md §6): server keys pinned trust-on-first-use, like SSH.
// One line per server, "HOST:PORT HEX_PUBLIC_KEY"; '#' starts a comment line. Pure apart from
// load()/append(), which touch only the named file.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "natter/crypto/keys.hpp"

namespace natter::client {

struct known_hosts_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The name a server is pinned under: "host:port", IPv6 literals in brackets ("[::1]:9900").
// Host names are folded to lower case, as DNS names are case-insensitive.
[[nodiscard]] std::string host_key(std::string_view host, std::uint16_t port);

struct known_host {
  std::string host;  // "host:port"
  crypto::public_key key{};
  std::size_t line = 0;  // 1-based line number in the file, for messages
};

class known_hosts {
 public:
  // Parses file content. Malformed lines are skipped (and counted), never fatal: one bad line
  // must not unpin every other server.
  [[nodiscard]] static known_hosts parse(std::string_view content);

  // Reads `path`; a missing file is an empty list. Throws known_hosts_error if it exists but
  // cannot be read, or is refused: not a regular file (a symlink, FIFO, ...), owned by someone
  // else, or writable by group/others (natter/secure_file.hpp).
  [[nodiscard]] static known_hosts load(const std::filesystem::path& path);

  // The pin for `host` ("host:port"), if any. With duplicate lines the first one wins, as in ssh.
  [[nodiscard]] const known_host* find(std::string_view host) const;

  // Adds a pin in memory.
  void add(std::string host, const crypto::public_key& key);

  [[nodiscard]] const std::vector<known_host>& entries() const { return entries_; }
  [[nodiscard]] std::size_t malformed_lines() const { return malformed_; }

  // The line for one pin, without newline: "host:port hex".
  [[nodiscard]] static std::string format_line(std::string_view host, const crypto::public_key& key);

  // Adds a pin to the file at `path` by rewriting it atomically (mkstemp beside it, fsync, rename,
  // fsync of the directory); the result is mode 0600, its directory created 0700 if missing.
  // Throws known_hosts_error on failure or if load() would refuse the existing file.
  static void append(const std::filesystem::path& path, std::string_view host,
                     const crypto::public_key& key);

 private:
  std::vector<known_host> entries_;
  std::size_t malformed_ = 0;
};

}  // namespace natter::client
