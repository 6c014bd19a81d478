#pragma once
// The connection handshake (docs/PROTOCOL.md §2-3) as a pure state machine: frame bodies in,
// frame bodies out, no sockets. The session layer moves the bytes; this decides what they mean.
//
//   server: start() -> [hello]         client: start() -> []
//   server: on_frame(client hello) -> [kx]
//   client: on_frame(server hello) -> [] and state awaiting_verdict (the caller checks the pin)
//   client: accept_peer_key() -> [hello, kx]
//   both:   on_frame(peer kx) -> [] and state established: take_cipher() gives the session cipher.
//
// Failures put the machine in state failed with a human-readable error(); a server may then have
// one plaintext refusal frame to send so the client can show why.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "natter/crypto/handshake_observer.hpp"
#include "natter/crypto/hello.hpp"
#include "natter/crypto/keys.hpp"
#include "natter/crypto/session_cipher.hpp"
#include "natter/crypto/shared_key_cache.hpp"

namespace natter::crypto {

inline constexpr std::size_t key_exchange_size = nonce_size + mac_size + key_size;  // 72

class handshake {
 public:
  enum class state { awaiting_hello, awaiting_verdict, awaiting_key_exchange, established, failed };
  using frame_body = std::vector<std::uint8_t>;

  // `identity` is borrowed and must outlive the handshake. A server may pass a cache of
  // long-term shared keys made for the same identity (borrowed too): returning clients then cost
  // it two X25519 operations instead of three, and each client that completes its key exchange
  // is remembered. An `observer` (borrowed; e.g. the key log) is told the session key once.
  handshake(role own_role, const key_pair& identity, shared_key_cache* long_term_keys = nullptr,
            handshake_observer* observer = nullptr);

  // Frames to send right after connecting (the server's hello; nothing for a client).
  [[nodiscard]] std::vector<frame_body> start();

  // Processes one frame from the peer; returns frames to send now, in order.
  [[nodiscard]] std::vector<frame_body> on_frame(std::span<const std::uint8_t> body);

  // Client only, in awaiting_verdict: the user (or pin store) trusts peer_key(); returns the
  // client's hello and key exchange frames.
  [[nodiscard]] std::vector<frame_body> accept_peer_key();

  [[nodiscard]] state current() const { return state_; }
  [[nodiscard]] const std::string& error() const { return error_; }
  // The server's refusal text, when a client received one.
  [[nodiscard]] bool refused_by_peer() const { return refused_by_peer_; }
  [[nodiscard]] const public_key& peer_key() const { return peer_long_term_; }
  [[nodiscard]] const nonce& connection_id() const { return connection_id_; }

  // Once established: the cipher for all later frames. Call once.
  [[nodiscard]] session_cipher take_cipher();

 private:
  std::vector<frame_body> fail(std::string reason, std::optional<std::string> refusal = {});
  std::vector<frame_body> on_hello(std::span<const std::uint8_t> body);
  std::vector<frame_body> on_key_exchange(std::span<const std::uint8_t> body);
  frame_body make_key_exchange();

  role role_;
  const key_pair& identity_;
  shared_key_cache* long_term_keys_;
  handshake_observer* observer_;
  state state_ = state::awaiting_hello;
  std::string error_;
  bool refused_by_peer_ = false;
  public_key peer_long_term_{};
  std::optional<shared_key> long_term_shared_;
  key_pair ephemeral_;               // wiped as soon as the session key exists
  bool sent_key_exchange_ = false;
  nonce connection_id_{};            // the client's key exchange nonce
  std::optional<session_cipher> cipher_;
};

}  // namespace natter::crypto
