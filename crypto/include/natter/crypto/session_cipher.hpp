#pragma once
// Sealing and opening session frames (docs/PROTOCOL.md §4) under the per-connection session key.
//
// One shared key serves both directions, so the nonce carries a direction byte: the two sides can
// never produce the same nonce, and a frame reflected back to its sender is refused. Each side
// counts its frames from 1; the receiver accepts only counters above the last one it accepted,
// which refuses replays and reordering without keeping a window of seen nonces.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "natter/crypto/keys.hpp"

namespace natter::crypto {

enum class direction : std::uint8_t { client_to_server = 1, server_to_client = 2 };

// Session frame body layout: nonce (24) | MAC (16) | ciphertext.
inline constexpr std::size_t session_overhead = nonce_size + mac_size;

enum class open_status {
  ok,
  too_short,        // shorter than nonce + MAC + 1 byte
  wrong_direction,  // direction byte is ours: a reflected frame
  bad_nonce,        // padding bytes not zero
  replayed,         // counter not above the last accepted one
  bad_mac,          // crypto_box_open_easy_afternm failed: forged or corrupted
};
[[nodiscard]] std::string_view to_string(open_status status);

struct opened_frame {
  open_status status = open_status::ok;
  std::uint64_t counter = 0;
  std::string plaintext;  // empty unless status == ok; never partial plaintext on failure
};

// Builds the nonce for `counter` in direction `dir`.
[[nodiscard]] nonce session_nonce(direction dir, std::uint64_t counter);

class session_cipher {
 public:
  session_cipher(shared_key key, direction outgoing);
  // A cipher that continues another's counters (e.g. a load generator taking a session over
  // from the client code that established it): `sent` frames sealed, `received` the last counter
  // accepted. Continuing from anything but the true values would reuse nonces or refuse frames.
  [[nodiscard]] static session_cipher resume(shared_key key, direction outgoing, std::uint64_t sent,
                                             std::uint64_t received);

  // Appends a sealed frame *body* to `out`: nonce, MAC, ciphertext. The transport's length
  // prefix is common/'s job (natter/frame.hpp: append_sealed_frame, begin_frame/end_frame).
  // Sealing writes straight into `out`, so a batch costs one allocation at most.
  void seal(std::string_view plaintext, std::vector<std::uint8_t>& out);

  // Sealing a plaintext that the caller assembles straight into `out` (a batch of queued
  // messages), with no plaintext buffer, copy or zero-fill: begin_body() appends room for the
  // nonce and MAC and returns where the body starts; the caller appends at least one byte of
  // plaintext; end_body() encrypts it in place and fills in nonce and MAC.
  [[nodiscard]] static std::size_t begin_body(std::vector<std::uint8_t>& out);
  void end_body(std::vector<std::uint8_t>& out, std::size_t body_start);

  // Opens a frame body received from the peer. On success the receive counter advances.
  [[nodiscard]] opened_frame open(std::span<const std::uint8_t> body);
  // The same, opening into `plaintext`, whose capacity is reused: receiving many frames into one
  // buffer costs no allocation. `plaintext` holds the frame's plaintext if ok, nothing otherwise.
  [[nodiscard]] open_status open_into(std::span<const std::uint8_t> body, std::string& plaintext,
                                      std::uint64_t* counter = nullptr);

  [[nodiscard]] std::uint64_t frames_sent() const { return send_counter_; }
  [[nodiscard]] std::uint64_t last_received_counter() const { return receive_counter_; }
  [[nodiscard]] direction outgoing() const { return outgoing_; }

 private:
  nonce next_nonce();  // the next outgoing counter's nonce; throws rather than wrap

  shared_key key_;
  direction outgoing_;
  direction incoming_;
  std::uint64_t send_counter_ = 0;     // counter of the last frame sealed
  std::uint64_t receive_counter_ = 0;  // counter of the last frame accepted
};

}  // namespace natter::crypto
