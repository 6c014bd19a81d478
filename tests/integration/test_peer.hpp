#pragma once
// A natter client for tests, written against the pure libraries: it does the real handshake and
// real crypto, but gives the test full control of the bytes, so it can also misbehave (send
// garbage, replay frames, stop reading). Blocking POSIX socket with poll() timeouts.
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "../key_recorder.hpp"
#include "natter/crypto/handshake.hpp"
#include "natter/crypto/keys.hpp"
#include "natter/frame.hpp"
#include "natter/message_parse.hpp"
#include "natter/messages.hpp"

namespace natter::test {

using namespace std::chrono_literals;

class test_peer {
 public:
  // Connects to 127.0.0.1:port with a fresh identity (or the given one).
  explicit test_peer(std::uint16_t port);
  test_peer(std::uint16_t port, crypto::key_pair identity);
  // Connects from `source_ip` (another loopback address, e.g. "127.0.0.2"): a second client host.
  test_peer(std::uint16_t port, const std::string& source_ip);
  test_peer(std::uint16_t port, crypto::key_pair identity, const std::string& source_ip);
  ~test_peer();
  test_peer(const test_peer&) = delete;
  test_peer& operator=(const test_peer&) = delete;

  // Full handshake; returns false (with error()) if it did not complete.
  bool handshake();
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
  [[nodiscard]] const crypto::key_pair& identity() const { return identity_; }
  [[nodiscard]] const crypto::public_key& server_key() const { return handshake_.peer_key(); }
  [[nodiscard]] std::vector<bytes>& raw_frames_received() { return raw_frames_; }
  [[nodiscard]] std::uint64_t next_ref() { return ++ref_; }
  [[nodiscard]] crypto::session_cipher& cipher() { return *cipher_; }
  // Hex of the session key the handshake derived (told to a recording observer; tests only).
  [[nodiscard]] std::string session_key_hex() const { return session_key_.key_hex(); }
  // Stops the kernel from buffering much on our side, so a peer that does not read backs up fast.
  void shrink_receive_buffer();
  void close_now();

 private:
  bool read_frame(bytes& body, std::chrono::milliseconds timeout);
  bool fill(std::chrono::milliseconds timeout);

  int fd_ = -1;
  crypto::key_pair identity_;
  testing::key_recorder session_key_;
  crypto::handshake handshake_;
  std::optional<crypto::session_cipher> cipher_;
  frame_decoder decoder_{16 * 1024 * 1024};
  std::deque<server_message> inbox_;
  std::vector<bytes> raw_frames_;
  std::string error_;
  bool closed_ = false;
  std::uint64_t ref_ = 0;
};

}  // namespace natter::test
