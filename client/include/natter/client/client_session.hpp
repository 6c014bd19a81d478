#pragma once
// The client side of the protocol as a pure object: frame bodies from the server go in, wire
// bytes to send and events for the UI come out. No sockets and no clocks, so a whole session
// (handshake included) can be run in memory against a server-role crypto::handshake_v2.
//
// Lifecycle: awaiting_hello -> awaiting_verdict (caller checks the pin, then accept_server_key()
// or abort()) -> handshaking -> joining (join sent) -> joined (welcome received) -> quitting
// (quit sent) ; any fatal problem -> closed. The owner closes the socket once closed() is true
// and the output is flushed.
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <vector>

#include "natter/client/client_events.hpp"
#include "natter/client/e2e_layer.hpp"
#include "natter/crypto/handshake_v2.hpp"
#include "natter/crypto/identity_v2.hpp"
#include "natter/crypto/keys.hpp"
#include "natter/crypto/session_cipher_v2.hpp"
#include "natter/frame.hpp"
#include "natter/limits.hpp"
#include "natter/messages.hpp"

namespace natter::client {

struct session_settings {
  std::string name;    // must satisfy is_valid_name
  bool trace = false;  // emit a trace_event for every frame
  // Told the session keys when the handshake derives them (the opt-in key log); borrowed, may be null.
  crypto::handshake_v2_observer* key_observer = nullptr;
  // A protocol 1 identity this user had: if the server refuses our name as taken, the join is
  // sent again with a proof of this key, so a name the server registered under it moves to the
  // v2 identity (PROTOCOL.md §7).
  // Borrowed, may be null.
  const crypto::key_pair* v1_identity = nullptr;
  // The end-to-end layer (e2e_layer.hpp): when enabled, say and whisper are sealed for the
  // recipients' clients and sent as e2e requests; what peers seal is opened and shown.
  e2e_settings e2e = {};
};

class client_session {
 public:
  enum class phase { awaiting_hello, awaiting_verdict, handshaking, joining, joined, quitting, closed };

  // `identity` is borrowed and must outlive the session.
  client_session(const crypto::identity_v2& identity, session_settings settings);

  // One frame body received from the server.
  void on_frame(std::span<const std::uint8_t> body);

  // In awaiting_verdict: the server key is trusted; queues our hello and Noise message 1.
  void accept_server_key();

  // Ends the session without sending anything more (refused key, local error, lost connection).
  void abort(failure_kind kind, std::string message);

  // Queues a request. say/whisper/users/whois need a joined session; ping and quit work once the
  // handshake is done. Requests that carry a `ref` get a fresh, strictly increasing one, which is
  // returned. Returns nullopt, sends nothing and emits a notice_event if the request is not
  // possible now or would not fit in the server's maximum frame. `route`: how a say goes with
  // the end-to-end layer on (in_the_clear: the conversation showed it as not end to end).
  std::optional<std::uint64_t> send(client_message message, room_route route = room_route::end_to_end);

  // What the user asks of the end-to-end layer (/accept, /verify's safety number).
  void e2e_command(const e2e_user_command& cmd);
  // Time-driven end-to-end work (missing messages given up, unanswered handshakes); call about
  // once a second.
  void tick();

  // The transport is gone (EOF or error). Emits the final closed_event.
  void on_disconnected(const std::string& reason);

  // Bytes to write to the socket, in order (whole frames with their length prefix).
  [[nodiscard]] bytes take_output();
  [[nodiscard]] std::vector<client_event> take_events();

  [[nodiscard]] phase current() const { return phase_; }
  [[nodiscard]] bool closed() const { return phase_ == phase::closed; }
  [[nodiscard]] const crypto::public_key& server_key() const { return handshake_.peer_key(); }
  // Valid once message 1 is sent: our ephemeral key, which names the connection in key logs.
  [[nodiscard]] const crypto::public_key& connection_id() const { return handshake_.connection_id(); }
  [[nodiscard]] const crypto::session_cipher_v2* cipher() const { return cipher_ ? &*cipher_ : nullptr; }
  // Hands the cipher, with its counters, to a caller that carries the connection on by itself
  // (natter-bench, after the join); the session is closed afterwards. Throws without a cipher.
  [[nodiscard]] crypto::session_cipher_v2 release_cipher();

  // say/whisper requests the server has neither acknowledged nor refused yet.
  [[nodiscard]] std::size_t unacknowledged() const { return pending_acks_.size(); }
  // say/whisper requests the server refused with an error, or that were too large to send.
  [[nodiscard]] std::size_t refused() const { return refused_; }
  [[nodiscard]] bool bye_received() const { return bye_received_; }
  [[nodiscard]] bool quit_sent() const { return quit_sent_; }
  // True if a quit could be sent now (the session key exists and nothing ended it yet).
  [[nodiscard]] bool can_quit() const {
    return cipher_.has_value() && phase_ != phase::closed && phase_ != phase::quitting;
  }
  // Our name as the server spells it once joined (the requested one before).
  [[nodiscard]] const std::string& name() const { return settings_.name; }
  // The server's text limit once joined (limits::max_text before).
  [[nodiscard]] std::size_t max_text() const { return max_text_; }

 private:
  void on_handshake_frame(std::span<const std::uint8_t> body);
  void on_session_frame(std::span<const std::uint8_t> body);
  void on_message(server_message message);
  void on_plain_message(server_message message);
  // The end-to-end layer's part of a server message; true if it was the layer's alone.
  bool e2e_before(const server_message& message, e2e_layer::output& out);
  void apply(e2e_layer::output& out);
  // After the welcome: ask for the members it did not list (PROTOCOL.md `users`).
  void request_directory();
  void report_dropped_texts();
  void send_handshake_frame(std::vector<std::uint8_t> body, std::string label, std::string detail);
  void on_established();
  [[nodiscard]] join_request make_join(bool with_proof);
  void seal(const client_message& message);
  void trace_received(std::span<const std::uint8_t> body, std::string label, std::string detail);
  void fail(failure_kind kind, std::string message);

  session_settings settings_;
  crypto::handshake_v2 handshake_;
  std::optional<crypto::session_cipher_v2> cipher_;
  std::string plaintext_;  // the frame being handled, opened; its capacity is reused
  phase phase_ = phase::awaiting_hello;
  bytes output_;
  std::vector<client_event> events_;

  std::uint64_t next_ref_ = 1;
  std::uint64_t join_ref_ = 0;
  std::set<std::uint64_t> pending_acks_;
  std::size_t refused_ = 0;
  std::vector<user_info> partial_users_;
  e2e_layer e2e_;
  struct control_sent {
    std::string to;
    std::string kind;  // handshake or key
  };
  std::map<std::uint64_t, control_sent> control_refs_;  // our handshake/key requests, by ref
  std::optional<std::uint64_t> directory_ref_;         // our own `users` request, until its last page
  std::set<std::uint64_t> texts_sent_;                 // e2e texts sent, not yet answered
  // Texts the layer will not send, reported as errors only once every earlier text is answered,
  // because the conversation matches answers to requests by their order (sent_requests.hpp).
  std::map<std::uint64_t, std::string> texts_dropped_;
  // Our end-to-end whispers until acknowledged: the server no longer echoes them (it cannot read
  // them), so the session shows them itself once the server has taken them. Wiped when shown.
  std::map<std::uint64_t, std::pair<std::string, std::string>> whispers_sent_;  // ref -> (to, text)  // a `users` answer split over several messages
  std::size_t max_text_;
  std::size_t server_max_frame_ = limits::min_max_frame;  // until message 2 says: the least any server accepts
  bool migration_tried_ = false;  // a join with the v1 proof has been sent
  bool bye_received_ = false;
  bool quit_sent_ = false;
  bool close_reported_ = false;
  std::uint64_t frames_sent_ = 0;      // all frames, handshake included (for --trace)
  std::uint64_t frames_received_ = 0;
};

}  // namespace natter::client
