#pragma once
// Opt-in session key log for traffic inspection (docs/PROTOCOL.md "Key log"), the counterpart of
// TLS's SSLKEYLOGFILE. One line per connection: the connection id (the client's ephemeral public
// key, the first 32 bytes of Noise message 1, visible on the wire) and that connection's two
// session keys. Long-term secrets and handshake keys are never written, so a key log opens the
// session frames of the connections it names and nothing else: not other connections, not the
// handshake's encrypted client identity.
#include <filesystem>
#include <mutex>
#include <string>

#include "natter/crypto/handshake_v2_observer.hpp"
#include "natter/crypto/keys.hpp"

namespace natter::crypto {

// "NATTER_V2_SESSION <connection id: 64 hex> <k_c2s: 64 hex> <k_s2c: 64 hex>" (no newline).
[[nodiscard]] std::string keylog_line(const public_key& connection_id, const secret_key& client_to_server,
                                      const secret_key& server_to_client);

// Appends lines to a key log file, created 0600 (O_EXCL) if missing. An existing file is used
// only if it is a regular file (not a symlink, FIFO or directory), owned by the effective user,
// with no group/other permission bits and one link. Thread-safe. Throws key_file_error from the
// constructor, naming the file and the reason, if the file cannot be opened or is refused.
// Handshakes given it as their observer log their connection's keys when Split() derives them.
class keylog_writer final : public handshake_v2_observer {
 public:
  explicit keylog_writer(const std::filesystem::path& path);
  ~keylog_writer() override;
  keylog_writer(const keylog_writer&) = delete;
  keylog_writer& operator=(const keylog_writer&) = delete;

  void append(const public_key& connection_id, const secret_key& client_to_server,
              const secret_key& server_to_client);
  // handshake_v2_observer: appends the line; a failed write is reported nowhere and never
  // thrown (losing a key log line must not end a connection).
  void on_session_keys(const public_key& connection_id, const secret_key& client_to_server,
                       const secret_key& server_to_client) noexcept override;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::mutex mutex_;
};

}  // namespace natter::crypto
