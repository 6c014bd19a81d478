#pragma once
// Opt-in session key log for traffic inspection (docs/PROTOCOL.md §8), the counterpart of TLS's
// SSLKEYLOGFILE. One line per connection: the connection id (the client's key-exchange nonce,
// visible on the wire) and that connection's session key. Long-term secrets are never written.
#include <filesystem>
#include <mutex>
#include <string>

#include "natter/crypto/handshake_observer.hpp"
#include "natter/crypto/keys.hpp"

namespace natter::crypto {

// "NATTER_SESSION_KEY <48 hex> <64 hex>" (no newline).
[[nodiscard]] std::string keylog_line(const nonce& connection_id, const shared_key& session_key);

// Appends lines to a key log file, created 0600 (O_EXCL) if missing. An existing file is used
// only if it is a regular file (not a symlink, FIFO or directory), owned by the effective user,
// with no group/other permission bits and one link. Thread-safe. Throws key_file_error from the
// constructor, naming the file and the reason, if the file cannot be opened or is refused.
// Handshakes given it as their observer log their connection's key when it is derived.
class keylog_writer final : public handshake_observer {
 public:
  explicit keylog_writer(const std::filesystem::path& path);
  ~keylog_writer() override;
  keylog_writer(const keylog_writer&) = delete;
  keylog_writer& operator=(const keylog_writer&) = delete;

  void append(const nonce& connection_id, const shared_key& session_key);
  // handshake_observer: appends the line; a failed write is reported on stderr, never thrown.
  void on_session_key(const nonce& connection_id, const shared_key& session_key) noexcept override;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::mutex mutex_;
};

}  // namespace natter::crypto
