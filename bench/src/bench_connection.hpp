#pragma once
// One load-generating connection to natter-server over 127.0.0.1, non-blocking, driven by the
// event_loop. It connects, does the real handshake and join, then speaks the session protocol:
//
//  * "session" mode reuses natter's client_session for the handshake and join (the reference
//    client behaviour);
//  * "lean" mode does the same handshake with key material computed before the clock starts
//    (the client's long-term shared key and its ephemeral key pair), so that measuring the
//    server's handshake rate is not bounded by the bench's own X25519 work.
//
// Once joined, the session's cipher is used directly (session_cipher::open_into): received frames
// are opened into one reused buffer and scanned for the bench's own message marker instead of being parsed as JSON; that keeps the
// receiving side cheaper than the server's sending side.
#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "event_loop.hpp"
#include "natter/crypto/session_cipher.hpp"
#include "natter/client/client_session.hpp"
#include "natter/crypto/keys.hpp"

namespace natter::bench {

class bench_connection;

// The text of every bench message starts with this marker, then the send time and a space.
inline constexpr std::string_view text_marker = "nb ";

class connection_events {
 public:
  virtual ~connection_events() = default;
  virtual void on_joined(bench_connection& c) = 0;
  // A chat message carrying the bench marker; `sent_ns` is the sender's mono_ns() timestamp.
  virtual void on_chat(bench_connection& c, std::int64_t sent_ns) = 0;
  virtual void on_ack(bench_connection&) {}
  virtual void on_pong(bench_connection&) {}
  // An error or bye from the server, or the connection ended. The connection is closed after.
  virtual void on_failed(bench_connection& c, std::string_view why) = 0;
};

// Client key material prepared before a measured interval (lean mode).
struct lean_keys {
  const crypto::key_pair* identity = nullptr;
  std::array<std::uint8_t, 32> long_term_shared{};  // beforenm(server pk, identity sk)
  crypto::key_pair ephemeral;
};

class bench_connection final : public io_handler {
 public:
  enum class state { connecting, handshaking, joined, closed };

  bench_connection(event_loop& loop, connection_events& events, std::size_t index);
  ~bench_connection() override;

  // Starts connecting; the handshake runs with client_session (identity borrowed).
  void start_session(const sockaddr_in& server, const crypto::key_pair& identity, std::string name);
  // Starts connecting; the handshake uses `keys` (lean mode).
  void start_lean(const sockaddr_in& server, lean_keys keys, std::string name);

  // Joined only: queue a request (sealed now, written by flush()).
  void say(std::string_view text);
  void whisper(std::string_view to, std::string_view text);
  void ping();
  void flush();
  void close();

  void on_io(std::uint32_t events) override;

  [[nodiscard]] state current() const { return state_; }
  [[nodiscard]] std::size_t index() const { return index_; }
  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] std::int64_t started_ns() const { return started_ns_; }

 private:
  void open_socket(const sockaddr_in& server);
  void on_readable();
  void consume(const std::uint8_t* data, std::size_t size);
  std::size_t process(const std::uint8_t* data, std::size_t size);
  void on_frame(std::span<const std::uint8_t> body);
  void on_session_handshake_frame(std::span<const std::uint8_t> body);
  void on_lean_handshake_frame(std::span<const std::uint8_t> body);
  void on_plaintext(std::string_view text);
  void take_session_output();
  void fail(std::string_view why);

  event_loop& loop_;
  connection_events& events_;
  std::size_t index_;
  int fd_ = -1;
  state state_ = state::closed;
  std::string name_;
  std::int64_t started_ns_ = 0;
  std::unique_ptr<client::client_session> session_;  // session mode, until joined
  std::unique_ptr<lean_keys> lean_;                  // lean mode, until joined
  bool lean_hello_seen_ = false;
  std::optional<crypto::session_cipher> cipher_;  // once the session key exists
  bool joined_reported_ = false;
  std::vector<std::uint8_t> partial_;  // an incomplete frame left over from the last read
  std::vector<std::uint8_t> out_;
  std::size_t out_pos_ = 0;
};

}  // namespace natter::bench
