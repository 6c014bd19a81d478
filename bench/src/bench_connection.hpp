#pragma once
// One load-generating connection to natter-server over 127.0.0.1, non-blocking, driven by the
// event_loop. It connects, does the real handshake and join, then speaks the session protocol:
//
//  * "session" mode reuses natter's client_session for the handshake and join (the reference
//    client behaviour);
//  * "lean" mode does only what a client must: server hello -> client hello + Noise message 1
//    -> message 2 -> message 3 -> join, with crypto::handshake_v2 directly (no pin check, no
//    trace, no event queue), and an identity generated before the clock starts. The X25519 work
//    of Noise_XK (the ephemeral, es, ee, se) is the client's share and cannot be prepared ahead.
//
// Once joined, the session's cipher is used directly (session_cipher_v2::open_into): received
// frames are opened into one reused buffer and scanned for the bench's own message marker
// instead of being parsed as JSON; that keeps the receiving side cheaper than the server's
// sending side.
#include <netinet/in.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "event_loop.hpp"
#include "natter/client/client_session.hpp"
#include "natter/crypto/handshake_v2.hpp"
#include "natter/crypto/identity_v2.hpp"
#include "natter/crypto/session_cipher_v2.hpp"
#include "natter/messages.hpp"

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
  // An end-to-end envelope (type e2e) arrived: its body is sealed, so only counted.
  virtual void on_e2e(bench_connection&) {}
  // The same, parsed, for a connection with parse_e2e(true): what a client's end-to-end layer
  // is handed (the frame is parsed as JSON, like the client does, only then).
  virtual void on_e2e_event(bench_connection&, const e2e_event&) {}
  // A presence notice (a join or a leave of another user).
  virtual void on_presence(bench_connection&) {}
  virtual void on_ack(bench_connection&) {}
  virtual void on_pong(bench_connection&) {}
  // An error or bye from the server, or the connection ended. The connection is closed after.
  virtual void on_failed(bench_connection& c, std::string_view why) = 0;
};

class bench_connection final : public io_handler {
 public:
  enum class state { connecting, handshaking, joined, closed };

  bench_connection(event_loop& loop, connection_events& events, std::size_t index);
  ~bench_connection() override;

  // Starts connecting; the handshake runs with client_session (identity borrowed).
  void start_session(const sockaddr_in& server, const crypto::identity_v2& identity, std::string name);
  // Starts connecting; the handshake runs with handshake_v2 directly (lean mode; identity
  // borrowed, generated before the clock starts).
  void start_lean(const sockaddr_in& server, const crypto::identity_v2& identity, std::string name);

  // Joined only: queue a request (sealed now, written by flush()).
  void say(std::string_view text);
  void whisper(std::string_view to, std::string_view text);
  // An end-to-end body (base64) of `kind` (room: to nobody; whisper: to `to`).
  void send_e2e(std::string_view kind, std::string_view to, std::string_view body_base64);
  void ping();
  // Parse the frames carrying e2e envelopes and hand them to on_e2e_event (key distribution).
  void parse_e2e(bool on) { parse_e2e_ = on; }
  void flush();
  void close();

  void on_io(std::uint32_t events) override;

  [[nodiscard]] state current() const { return state_; }
  [[nodiscard]] std::size_t index() const { return index_; }
  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] std::int64_t started_ns() const { return started_ns_; }
  // Bytes read from the socket so far (frames, prefixes and all).
  [[nodiscard]] std::uint64_t bytes_read() const { return bytes_read_; }
  // Bytes written to the socket so far.
  [[nodiscard]] std::uint64_t bytes_written() const { return bytes_written_; }

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
  std::optional<crypto::handshake_v2> lean_;         // lean mode, until established
  std::optional<crypto::session_cipher_v2> cipher_;  // once the session keys exist
  bool joined_reported_ = false;
  std::vector<std::uint8_t> partial_;  // an incomplete frame left over from the last read
  std::vector<std::uint8_t> out_;
  std::size_t out_pos_ = 0;
  std::uint64_t bytes_read_ = 0;
  std::uint64_t bytes_written_ = 0;
  bool parse_e2e_ = false;
};

}  // namespace natter::bench
