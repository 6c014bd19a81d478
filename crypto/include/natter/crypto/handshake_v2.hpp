#pragma once
// The natter v2 handshake (docs/PROTOCOL.md, docs/PROTOCOL.md §2) as a pure state machine:
// frame bodies in, frame bodies out, no sockets. It wraps Noise_XK (noise::handshake_state) with
// natter's hellos, prologue, payloads and refusals.
//
//   server: start() -> [server hello]                       state awaiting_message_1
//   client: on_frame(server hello) -> []                    state awaiting_verdict (caller checks
//                                                           the pin against peer_key())
//   client: accept_peer_key() -> [client hello header || Noise message 1]   awaiting_message_2
//   server: on_frame(that) -> [Noise message 2 (server parameters)]         awaiting_message_3
//   client: on_frame(message 2) -> [Noise message 3 (client identity)]      established
//   server: on_frame(message 3) -> []                                       established
//
// Prologue, on both sides: "natter/2 handshake\n" || server hello (40) || client hello header (8),
// the bytes as sent and received, so any change to a hello fails Noise message 1.
//
// Failure contract. Every failure is final: current() becomes failed, error() says why in one
// human-readable line, the Noise state (ephemerals, ck, k, h) is wiped, and every later call
// returns no frames. Nothing is established, no key is handed out and the observer is not told.
//   - The server answers a bad client hello, a v1 or unknown-version hello, or a message 1 that
//     does not authenticate with one plaintext refusal ("NATE", hello.hpp) in place of message
//     2; after message 2 has gone out it fails silently (a refusal then is a sealed bye, the
//     session layer's).
//   - The client never sends a refusal. It accepts a "NATE" only while waiting for message 2,
//     and reports it as unauthenticated: refused_unauthenticated() and refusal_text() (raw peer
//     bytes: sanitise before display). A "NATE" at any other time is a plain failure.
//   - Calls out of place (accept_peer_key() on a server or outside awaiting_verdict, refuse() on
//     a client) fail the handshake too: no exceptions.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "natter/crypto/handshake_v2_observer.hpp"
#include "natter/crypto/handshake_v2_payload.hpp"
#include "natter/crypto/hello.hpp"
#include "natter/crypto/identity_v2.hpp"
#include "natter/crypto/keys.hpp"
#include "natter/crypto/noise_handshake_state.hpp"
#include "natter/crypto/x25519_of_cache.hpp"

namespace natter::crypto {

inline constexpr std::string_view handshake_v2_prologue_label = "natter/2 handshake\n";

// A v2 client identity: the Ed25519 public key that names the user, and the X25519 key pair
// derived from the same secret (crypto_sign_ed25519_sk_to_curve25519 / _pk_to_curve25519),
// which is the Noise static key. The client checks that they belong together before it sends
// anything (accept_peer_key() fails otherwise); the server checks it again at message 3.
struct client_identity_v2 {
  ed25519_public_key ed25519_public{};
  key_pair x25519;
};

// The two directional keys split() derived, for the session cipher v2. Move-only; wiped on
// destruction and when moved from (secret_key).
struct session_keys_v2 {
  secret_key client_to_server;  // Noise initiator_to_responder
  secret_key server_to_client;  // Noise responder_to_initiator
};

class handshake_v2 {
 public:
  enum class state : std::uint8_t {
    awaiting_hello,      // client: the server hello
    awaiting_verdict,    // client: the caller decides on peer_key()
    awaiting_message_1,  // server: the client hello header and Noise message 1
    awaiting_message_2,  // client
    awaiting_message_3,  // server
    established,
    failed,
  };
  using frame_body = std::vector<std::uint8_t>;

  // `identity` and `observer` are borrowed and must outlive the handshake.
  // `conversions`, if given, remembers the X25519 forms of identities seen before (the message 3
  // check); borrowed and shared by all of a server's handshakes.
  [[nodiscard]] static handshake_v2 server(const key_pair& identity, server_parameters parameters,
                                           handshake_v2_observer* observer = nullptr,
                                           x25519_of_cache* conversions = nullptr);
  // A client whose identity is a loaded identity_v2 (borrowed, like the struct form).
  [[nodiscard]] static handshake_v2 client(const identity_v2& identity, handshake_v2_observer* observer = nullptr);
  [[nodiscard]] static handshake_v2 client(const client_identity_v2& identity,
                                           handshake_v2_observer* observer = nullptr);

  // Moving takes the whole state; the moved-from handshake is left failed (every call refused,
  // no keys, no outputs), as noise::handshake_state does.
  handshake_v2(handshake_v2&& other) noexcept;
  handshake_v2& operator=(handshake_v2&& other) noexcept;
  ~handshake_v2();

  // Test seam (noise::handshake_state::set_ephemeral_for_testing): this side's ephemeral secret.
  // Only before the Noise state exists (server: before message 1 arrives; client: before
  // accept_peer_key()); false otherwise. Never outside tests.
  [[nodiscard]] bool set_ephemeral_for_testing(secret_key ephemeral);

  // Frames to send right after connecting: the server hello; nothing for a client.
  [[nodiscard]] std::vector<frame_body> start();
  // One frame from the peer; returns the frames to send now, in order.
  [[nodiscard]] std::vector<frame_body> on_frame(std::span<const std::uint8_t> body);
  // Client, in awaiting_verdict: peer_key() is trusted. Returns the client hello + message 1.
  [[nodiscard]] std::vector<frame_body> accept_peer_key();
  // Server, before message 2 (e.g. admission: full, too many from one address): fails with
  // `reason` and returns the plaintext refusal to send in place of message 2. Later, or on a
  // client: fails and returns nothing.
  [[nodiscard]] std::vector<frame_body> refuse(std::string_view reason);

  [[nodiscard]] state current() const { return state_; }
  [[nodiscard]] const std::string& error() const { return error_; }
  // Client: a "NATE" arrived while waiting for message 2 (the handshake is failed). Not
  // authenticated: anyone on the path can send one.
  [[nodiscard]] bool refused_unauthenticated() const { return refused_unauthenticated_; }
  [[nodiscard]] const std::string& refusal_text() const { return refusal_text_; }

  // Client, from awaiting_verdict on: the server's static key from its hello (for the pin check).
  // Server: its own.
  [[nodiscard]] const public_key& peer_key() const { return server_static_; }
  // From message 1 on (both sides): the client's ephemeral public key, naming the connection.
  [[nodiscard]] const public_key& connection_id() const { return connection_id_; }
  // Established only (nullopt before and after failure):
  [[nodiscard]] std::optional<noise::hash> handshake_hash() const;
  // Server: the client's Ed25519 key, proven by message 3 (its X25519 form is the Noise static).
  [[nodiscard]] std::optional<ed25519_public_key> client_ed25519_key() const;
  // Client: what the server announced in message 2.
  [[nodiscard]] std::optional<server_parameters> peer_parameters() const;
  // Established, once: the session keys (nullopt otherwise, and the second time).
  [[nodiscard]] std::optional<session_keys_v2> take_keys();

 private:
  handshake_v2(role own_role, const key_pair& noise_static, const ed25519_public_key& own_ed25519,
               server_parameters parameters, handshake_v2_observer* observer);

  std::vector<frame_body> fail(std::string reason, std::optional<std::string> refusal = {});
  std::vector<frame_body> fail_noise(std::string_view what);
  std::vector<frame_body> on_server_hello(std::span<const std::uint8_t> body);
  std::vector<frame_body> on_message_1(std::span<const std::uint8_t> body);
  std::vector<frame_body> on_message_2(std::span<const std::uint8_t> body);
  std::vector<frame_body> on_message_3(std::span<const std::uint8_t> body);
  void start_noise(std::span<const std::uint8_t> client_header);
  void take_from(handshake_v2& other) noexcept;  // the moves' body; leaves `other` failed
  void establish();

  role role_;
  const key_pair* noise_static_;                 // borrowed: the server's key, or the client's X25519
  ed25519_public_key own_ed25519_;               // client: the identity sent in message 3
  server_parameters parameters_;                 // server: what it sends; client: what it received
  handshake_v2_observer* observer_;
  x25519_of_cache* conversions_ = nullptr;
  state state_;
  std::string error_;
  bool refused_unauthenticated_ = false;
  std::string refusal_text_;
  bool sent_message_2_ = false;

  frame_body server_hello_;  // as sent (server) or received (client): part of the prologue
  public_key server_static_{};
  public_key connection_id_{};
  std::optional<secret_key> test_ephemeral_;
  std::optional<noise::handshake_state> noise_;
  std::optional<session_keys_v2> keys_;
  noise::hash handshake_hash_{};
  ed25519_public_key client_ed25519_{};
};

[[nodiscard]] std::string_view to_string(handshake_v2::state s);

}  // namespace natter::crypto
