#pragma once
// The server's side of one connection as a pure state machine: bytes in, frames out, no
// sockets, no Asio. The session (session.hpp) reads bytes from the socket into on_bytes(),
// writes what write_output() produces, and runs the timer at deadline_ms(); everything the
// bytes mean is decided here: the handshake, opening frames, parsing, the join check, rate
// limiting, handing requests to the router, and sealing what goes back.
//
//   start(self)        -> the server's hello waits in the output
//   on_bytes(chunk)    -> frames decoded and handled; says whether the client just joined, the
//                         handshake produced output, or the connection must close
//   write_output(q, o) -> handshake frames, then the queued messages `q` sealed into `o`
//   on_deadline()      -> the handshake or idle timeout, if it has passed
//
// Answers to the client (acks, errors, welcome) go to `self` through participant::deliver(), the
// same queue the router's deliveries use, so everything the client receives keeps one order.
//
// Time comes from an injected clock: `steady` (monotonic, natter::steady_ms in production)
// drives rate limiting and timeouts, so a step of the system clock changes neither; the router
// has its own wall clock for the `ts` people read. Tests pass fake clocks and never sleep.
//
// Concurrency: not thread-safe. The session calls every member on its strand.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>

#include "natter/clock.hpp"
#include "natter/crypto/handshake_v2.hpp"
#include "natter/crypto/handshake_v2_observer.hpp"
#include "natter/crypto/session_cipher_v2.hpp"
#include "natter/frame.hpp"
#include "natter/limits.hpp"
#include "natter/rate_limiter.hpp"
#include "natter/messages.hpp"
#include "natter/server/ban_list.hpp"
#include "natter/server/rate_book.hpp"
#include "natter/server/router.hpp"

namespace natter::server {

struct connection_settings {
  std::size_t max_frame = 0;               // largest frame body accepted from a client
  std::size_t max_text = 0;
  std::int64_t handshake_timeout_ms = 0;   // from connecting to joined
  std::int64_t idle_timeout_ms = 0;        // joined, without a frame from the client
};

// What every connection of one server shares; owned by the server, outliving every connection.
struct connection_context {
  const crypto::key_pair& identity;  // the server's static key (the Noise responder's s)
  router& routes;
  rate_book& rates;                  // say/whisper per identity, across its connections
  crypto::handshake_v2_observer* keylog = nullptr;  // the key log; null unless the operator opted in
  crypto::x25519_of_cache* conversions = nullptr;    // identities' X25519 forms, remembered; may be null
  connection_settings settings;
  ms_clock steady = natter::steady_ms;       // rates and timeouts; must be monotonic
  const ban_list* bans = nullptr;            // checked at join; null: nobody is banned
};

// The connection must end. The core has already left the router and stopped handling input;
// the session flushes `bye` (when set) and whatever is queued, then closes the socket.
struct close_request {
  bool say_bye = false;    // flush before closing; false: close the socket at once
  shared_message bye;      // the sealed-to-be goodbye; null without a cipher (handshake unfinished)
};

struct input_result {
  bool handshake_output = false;       // handshake frames wait in the output: schedule a write
  bool joined = false;                 // the client has just joined: the deadline moved
  std::optional<close_request> close;  // the connection must close (input stops here)
};

class connection_core {
 public:
  enum class phase { handshake, awaiting_join, joined, closing };

  // `address` ("ip:port") is for logs and the console. With `admission_refusal` the connection
  // is one the server has no room for: it gets the hello, and the refusal in place of Noise
  // message 2 (the one place a v2 client accepts an unauthenticated refusal), then closes.
  connection_core(const connection_context& context, std::string address,
                  std::optional<std::string> admission_refusal = std::nullopt);

  // Starts the handshake: the server's hello is queued in the output. `self` is the participant
  // the router holds for this connection once it joins; answers are delivered to it.
  void start(std::weak_ptr<participant> self);

  // Bytes read from the socket, in any chunks. Ignored once closing.
  [[nodiscard]] input_result on_bytes(std::span<const std::uint8_t> chunk);

  // The timer reached deadline_ms(): the close to perform if a timeout has passed (else the
  // caller arms the timer again at the new deadline_ms()).
  [[nodiscard]] std::optional<close_request> on_deadline();
  // When the handshake timeout (before joining) or the idle timeout (joined) runs out, in the
  // steady clock's milliseconds.
  [[nodiscard]] std::int64_t deadline_ms() const;

  // Closes for a reason found outside the core (read or write error, too slow, kicked, server
  // stopping): leaves the router and builds the goodbye. nullopt if already closing.
  [[nodiscard]] std::optional<close_request> close(leave_reason reason, std::string message, bool say_bye);

  // Replaces `out` by what is to be written: handshake frames first, then `batch` sealed (or
  // dropped, if the handshake failed before there was a cipher to seal it with). Returns a
  // close request if the send counter ran out while sealing (after 2^64-1 frames, never in
  // practice): what was sealed before is in `out`, the rest is dropped, and the connection must
  // end without another frame.
  [[nodiscard]] std::optional<close_request> write_output(std::span<const shared_message> batch, bytes& out);
  [[nodiscard]] bool has_handshake_output() const { return !raw_out_.empty(); }

  [[nodiscard]] phase current() const { return phase_; }
  [[nodiscard]] bool closing() const { return phase_ == phase::closing; }
  [[nodiscard]] const std::string& name() const { return name_; }
  [[nodiscard]] const std::string& address() const { return address_; }
  // "name (address)" once joined, else the address: who a log line is about.
  [[nodiscard]] std::string who() const;

 private:
  void handle_frame(std::span<const std::uint8_t> body, input_result& result);
  void handle_handshake_frame(std::span<const std::uint8_t> body, input_result& result);
  void handle_request(client_message&& request, input_result& result);
  void handle_join(join_request&& request, input_result& result);
  void handle_joined_request(say_request& request);
  void handle_joined_request(whisper_request& request);
  void handle_joined_request(users_request& request);
  void handle_joined_request(whois_request& request);
  void handle_joined_request(e2e_request& request);
  void handle_joined_request(away_request& request);
  [[nodiscard]] bool within_rate(const request_ref& ref);
  [[nodiscard]] std::optional<crypto::public_key> checked_migration(const join_request& request);
  [[nodiscard]] std::optional<std::string> ban_on_join() const;
  void append_handshake_frames(std::vector<crypto::handshake_v2::frame_body> frames);
  void send(const server_message& message);
  void send_error(const message_error& error);
  void answer(const send_result& result);

  const connection_context& context_;
  std::string address_;
  std::weak_ptr<participant> self_;
  participant* self_raw_ = nullptr;  // self_, for deliveries and the router's "skip the sender"

  phase phase_ = phase::handshake;
  frame_decoder decoder_;
  bytes body_;  // the frame being handled; its capacity is reused
  std::optional<std::string> admission_refusal_;
  crypto::handshake_v2 handshake_;
  std::optional<crypto::session_cipher_v2> cipher_;
  std::string plaintext_;  // the frame being handled, opened; its capacity is reused
  crypto::ed25519_public_key client_identity_{};  // proven by Noise message 3
  std::array<std::uint8_t, 32> handshake_hash_{};  // for a migration proof
  std::string name_;
  std::string quit_reason_;  // the client's quit reason (checked by the schema), for the others' notice
  std::shared_ptr<rate_bucket> rate_;  // this identity's, from the join on
  rate_limiter control_rate_{limits::e2e_control_rate, limits::e2e_control_burst};  // e2e handshake and key bodies
  std::int64_t started_ms_ = 0;
  std::int64_t last_frame_ms_ = 0;
  bytes raw_out_;  // plaintext handshake frames waiting to be written
};

}  // namespace natter::server
