#pragma once
// Sealing and opening protocol v2 session frames (docs/PROTOCOL.md §3,
// docs/PROTOCOL.md §3).
//
// Two keys, one per direction, from Noise Split(): the client seals with k_c2s and opens with
// k_s2c, the server the other way round. Each is used directly as crypto_box's precomputed key
// (crypto_box_easy_afternm, XSalsa20-Poly1305). The nonce still carries the direction byte, so
// a frame reflected to its sender is named as such (it would fail the MAC anyway: the sender
// does not open with its own sending key).
//
// Body: nonce (24) | MAC (16) | ciphertext of the padded plaintext. The plaintext is padded
// with sodium_pad (ISO/IEC 7816-4: 0x80 then zeros) to the next multiple of padding_block, always
// adding 1..128 bytes, so a body is 40 + 128·k bytes (k ≥ 1) and its size tells an observer
// the plaintext's size only to 128 bytes. Overhead per frame: 24 + 16 + 1..128 padding bytes.
//
// Strict counters: each direction counts its frames from 1, and the receiver accepts only
// last + 1. Anything else is refused and the caller closes the connection, logging the status
// (for a gap: "frame <expected> missing, got <counter>").
//
// Failure contract of open()/open_into(): a refused frame never advances the receive counter
// and never yields plaintext (the buffer is left empty). The statuses judged before the MAC
// (too_short, wrong_direction, bad_nonce) describe bytes anyone can write; the others are
// given only for frames that authenticate, so a `gap` or a `replayed` is a fact about the
// peer's frames (a relay dropped or repeated one), never a forger's claim.
//
// Sealing never throws and never wraps: once the counter 2^64-1 has been used the cipher is
// exhausted, seal()/end_body() return seal_status::exhausted and append nothing, and the
// caller must close that connection (cleanly: a new handshake gives new keys).
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "natter/crypto/keys.hpp"
#include "natter/crypto/noise_symmetric_state.hpp"
#include "natter/crypto/session_nonce.hpp"

namespace natter::crypto {

class session_cipher_v2 {
 public:
  static constexpr std::size_t padding_block = 128;
  // nonce + MAC before the padded ciphertext.
  static constexpr std::size_t header_size = nonce_size + mac_size;
  // The smallest body: an empty plaintext padded to one block.
  static constexpr std::size_t min_body_size = header_size + padding_block;
  static constexpr std::uint64_t max_counter = 0xffff'ffff'ffff'ffffull;

  // The body size for a plaintext of `plaintext_size` bytes: 40 + 128·(⌊size/128⌋ + 1).
  [[nodiscard]] static constexpr std::size_t sealed_size(std::size_t plaintext_size) {
    return header_size + (plaintext_size / padding_block + 1) * padding_block;
  }

  enum class seal_status : std::uint8_t {
    ok,
    exhausted,  // the counter 2^64-1 has been used: close the connection, never seal again
  };

  enum class open_status : std::uint8_t {
    ok,
    too_short,        // shorter than nonce + MAC + one padding block (168 bytes)
    wrong_direction,  // the direction byte is ours: a reflected frame
    bad_nonce,        // unknown direction byte, or the 15 nonce padding bytes not zero
    bad_mac,          // does not authenticate under the peer's key: forged or corrupted
    replayed,         // authentic, but counter <= last accepted: a replay or reordering
    gap,              // authentic, but counter > last + 1: frames `expected`.. are missing
    bad_padding,      // authentic, but the plaintext is not a whole number of blocks or
                      // sodium_unpad refuses it: a broken or hostile peer
  };

  // What open_into() found, beyond the status. For a frame refused before its nonce could be
  // read (too_short), counter is 0.
  struct open_result {
    open_status status = open_status::ok;
    std::uint64_t counter = 0;   // the counter the frame carried
    std::uint64_t expected = 0;  // the counter that was due (last + 1; 0 once 2^64-1 was accepted)
  };

  struct opened_frame {
    open_status status = open_status::ok;
    std::uint64_t counter = 0;
    std::uint64_t expected = 0;
    std::string plaintext;  // the unpadded plaintext if ok (may be empty), else empty
  };

  // `sending` seals this side's frames, `receiving` opens the peer's; `outgoing` is this side's
  // direction. The keys are moved in and wiped when the cipher is destroyed.
  session_cipher_v2(secret_key sending, secret_key receiving, direction outgoing);
  // The ciphers the two sides of a Noise_XK handshake make from its Split(): the client
  // (initiator, client_to_server) seals with initiator_to_responder, the server with the other.
  [[nodiscard]] static session_cipher_v2 from_split(noise::split_keys keys, direction outgoing);
  // A cipher continuing at given counters: `sent` frames sealed, `received` the last counter
  // accepted. For tests (counter exhaustion) and tools taking an established session over;
  // anything but the true values reuses nonces or refuses frames.
  [[nodiscard]] static session_cipher_v2 resume(secret_key sending, secret_key receiving, direction outgoing,
                                                std::uint64_t sent, std::uint64_t received);

  // Appends a sealed frame *body* (nonce, MAC, padded ciphertext) to `out`; the length prefix is
  // common/'s job (natter/frame.hpp). Returns exhausted, appending nothing, once the counter is
  // used up. Deliberately not [[nodiscard]]: natter::append_sealed_frame calls seal() and cannot
  // see the status, so a caller sealing through it must check exhausted() first (an exhausted
  // cipher appends no body, and end_frame then throws for the empty frame).
  seal_status seal(std::string_view plaintext, std::vector<std::uint8_t>& out);

  // Sealing a plaintext the caller assembles straight into `out` (a batch of queued messages):
  // begin_body() appends room for nonce and MAC and returns where the body starts; the caller
  // appends the plaintext (possibly none); end_body() pads it in place (growing `out`),
  // encrypts it in place and fills in nonce and MAC. Byte for byte what seal() appends.
  // If exhausted, end_body() wipes and removes the plaintext (out is cut back to body_start, so
  // nothing unsealed can be sent) and the caller drops its frame header as well.
  // Throws std::logic_error if body_start is not a begin_body() result for this `out`.
  [[nodiscard]] static std::size_t begin_body(std::vector<std::uint8_t>& out);
  [[nodiscard]] seal_status end_body(std::vector<std::uint8_t>& out, std::size_t body_start);

  // Opens a frame body from the peer. On ok the receive counter advances by one.
  [[nodiscard]] opened_frame open(std::span<const std::uint8_t> body);
  // The same into `plaintext`, whose capacity is reused: receiving many frames into one buffer
  // costs no allocation. `plaintext` holds the unpadded plaintext if ok, nothing otherwise.
  [[nodiscard]] open_result open_into(std::span<const std::uint8_t> body, std::string& plaintext);

  [[nodiscard]] std::uint64_t frames_sent() const { return send_counter_; }
  [[nodiscard]] std::uint64_t last_received_counter() const { return receive_counter_; }
  [[nodiscard]] bool exhausted() const { return send_counter_ == max_counter; }
  [[nodiscard]] direction outgoing() const { return outgoing_; }

 private:
  secret_key sending_;
  secret_key receiving_;
  direction outgoing_;
  direction incoming_;
  std::uint64_t send_counter_ = 0;     // counter of the last frame sealed
  std::uint64_t receive_counter_ = 0;  // counter of the last frame accepted
};

[[nodiscard]] std::string_view to_string(session_cipher_v2::open_status status);
[[nodiscard]] std::string_view to_string(session_cipher_v2::seal_status status);

}  // namespace natter::crypto
