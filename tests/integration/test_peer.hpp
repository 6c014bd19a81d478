#pragma once
// A natter client for tests, written against the pure libraries: it does the real protocol 2
// handshake (handshake_v2, Noise_XK) and real crypto (session_cipher_v2), but gives the test full
// control of the bytes, so it can also misbehave (send garbage, replay frames, skip a counter,
// stop reading). Blocking POSIX socket with poll() timeouts.
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "natter/crypto/handshake_v2.hpp"
#include "natter/crypto/handshake_v2_observer.hpp"
#include "natter/crypto/identity_v2.hpp"
#include "natter/crypto/keys.hpp"
#include "natter/crypto/session_cipher_v2.hpp"
#include "natter/frame.hpp"
#include "natter/message_parse.hpp"
#include "natter/messages.hpp"

namespace natter::test {

using namespace std::chrono_literals;

// A second identity_v2 with the same keys (identities are move-only: they hold secrets).
[[nodiscard]] crypto::identity_v2 copy_identity(const crypto::identity_v2& identity);
// The handshake's form of an identity (its Ed25519 public key and X25519 key pair), copied.
[[nodiscard]] crypto::client_identity_v2 client_identity_of(const crypto::identity_v2& identity);

// Tests only: keeps a copy of the session keys the handshake derived, as a key log would.
struct session_key_recorder final : crypto::handshake_v2_observer {
  int calls = 0;
  std::string connection_id_hex, client_to_server_hex, server_to_client_hex;
  void on_session_keys(const crypto::public_key& connection_id, const crypto::secret_key& client_to_server,
                       const crypto::secret_key& server_to_client) noexcept override;
};

class test_peer {
 public:
  // Connects to 127.0.0.1:port with a fresh identity (or the given one).
  explicit test_peer(std::uint16_t port);
  test_peer(std::uint16_t port, crypto::identity_v2 identity);
  // Connects from `source_ip` (another loopback address, e.g. "127.0.0.2"): a second client host.
  test_peer(std::uint16_t port, const std::string& source_ip);
  test_peer(std::uint16_t port, crypto::identity_v2 identity, const std::string& source_ip);
  // An identity as given, not checked here: for attackers holding only part of someone's keys.
  struct raw_identity {
    crypto::client_identity_v2 keys;
  };
  test_peer(std::uint16_t port, raw_identity identity);
  ~test_peer();
  test_peer(const test_peer&) = delete;
  test_peer& operator=(const test_peer&) = delete;

  // Full handshake; returns false (with error()) if it did not complete.
  bool handshake();
  // Reads the server hello and stops there (the handshake awaits the verdict on the server key).
  bool read_server_hello();
  // Handshake + join; true if a welcome came back.
  bool join(const std::string& name);

  // Seals and sends one message (or raw JSON text). Returns the bytes sent on the wire.
  bytes send(const client_message& message);
  bytes send_json(std::string_view plaintext);
  void send_raw(std::span<const std::uint8_t> data);

  // Next server message, waiting up to `timeout` (rounded up to whole milliseconds, so a short
  // timeout still polls the socket). nullopt on timeout or close.
  std::optional<server_message> next(std::chrono::milliseconds timeout = 3s);
  // Skips messages until one satisfies `match`.
  std::optional<server_message> wait_for(const std::function<bool(const server_message&)>& match,
                                         std::chrono::milliseconds timeout = 3s);
  template <typename T>
  std::optional<T> wait_for_type(std::chrono::milliseconds timeout = 3s) {
    auto m = wait_for([](const server_message& s) { return std::holds_alternative<T>(s); }, timeout);
    if (!m) return std::nullopt;
    return std::get<T>(*m);
  }
  // Reads until the server closes the connection; true if it did within `timeout`.
  bool wait_closed(std::chrono::milliseconds timeout = 3s);

  [[nodiscard]] bool closed() const { return closed_; }
  // Whole frames still buffered (e.g. a plaintext refusal read by wait_closed()).
  [[nodiscard]] std::vector<bytes> buffered_frames();
  [[nodiscard]] const std::string& error() const { return error_; }
  // The identity (throws std::logic_error for a raw_identity peer).
  [[nodiscard]] const crypto::identity_v2& identity() const;
  // The Ed25519 key this peer names itself by in message 3.
  [[nodiscard]] const crypto::ed25519_public_key& identity_key() const { return keys_.ed25519_public; }
  [[nodiscard]] const crypto::public_key& server_key() const { return handshake_.peer_key(); }
  [[nodiscard]] crypto::handshake_v2& handshake_state() { return handshake_; }
  [[nodiscard]] std::vector<bytes>& raw_frames_received() { return raw_frames_; }
  [[nodiscard]] std::uint64_t next_ref() { return ++ref_; }
  [[nodiscard]] crypto::session_cipher_v2& cipher() { return *cipher_; }
  // The session keys and connection id the handshake derived (told to a recording observer;
  // tests only), as a key log line holds them.
  [[nodiscard]] const session_key_recorder& session_keys() const { return recorder_; }
  // Stops the kernel from buffering much on our side, so a peer that does not read backs up fast.
  void shrink_receive_buffer();
  void close_now();

 private:
  test_peer(std::uint16_t port, std::optional<crypto::identity_v2> identity,
            std::optional<crypto::client_identity_v2> raw, const std::string& source_ip);
  bool read_frame(bytes& body, std::chrono::milliseconds timeout);
  bool fill(std::chrono::milliseconds timeout);
  bool drive_handshake(bool stop_at_verdict);

  int fd_ = -1;
  std::optional<crypto::identity_v2> identity_;
  crypto::client_identity_v2 keys_;  // what the handshake borrows
  session_key_recorder recorder_;
  crypto::handshake_v2 handshake_;
  std::optional<crypto::session_cipher_v2> cipher_;
  frame_decoder decoder_{16 * 1024 * 1024};
  std::deque<server_message> inbox_;
  std::vector<bytes> raw_frames_;
  std::string error_;
  bool closed_ = false;
  std::uint64_t ref_ = 0;
};

}  // namespace natter::test
