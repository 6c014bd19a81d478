#pragma once
// Noise HandshakeState (Noise spec rev 34, §5.3) for three patterns of
// Noise_*_25519_ChaChaPoly_SHA256: XK (the hop, docs/NOISE.md), and KK and IK (the end-to-end
// layer, docs/E2E.md). A pure state machine, bytes in and bytes out. The pattern is a table in
// the .cpp; the walk over it is the same for all three.
//
//   XK:
//     <- s
//     ...
//     -> e, es            message 1, initiator -> responder  (32 + 16 + payload bytes)
//     <- e, ee            message 2, responder -> initiator  (32 + 16 + payload bytes)
//     -> s, se            message 3, initiator -> responder  (48 + 16 + payload bytes)
//
//   KK:                         IK:
//     -> s                        <- s
//     <- s                        ...
//     ...                         -> e, es, s, ss   (32 + 48 + 16 + payload bytes)
//     -> e, es, ss                <- e, ee, se      (32 + 16 + payload bytes)
//     <- e, ee, se
//     (both 32 + 16 + payload bytes)
//
// Each side alternates write_message() and read_message() in that order. After the last message
// (3 for XK, 2 for KK and IK) the state is complete, and split() hands out the two transport keys and the handshake hash h once.
//
// Failure contract.
//   - Out of turn (writing when a read is due, reading when a write is due, anything after
//     completion but split(), split() before completion or twice): refused with std::nullopt
//     and error() == out_of_turn. Nothing has been computed, so the state is left as it was.
//   - write_message() with a payload that would make the message exceed 65535 bytes: refused the
//     same way (payload_too_large), state unchanged.
//   - Anything wrong with a received message (wrong size, a tag that does not verify, a public
//     key giving an all-zero X25519 result), or an all-zero DH result while writing: the
//     handshake fails for good. status() becomes failed, error() says why, every secret is
//     wiped, and every later call returns std::nullopt. No payload is ever returned from a
//     message that did not authenticate completely.
// Security of payloads (§7.7): message 1's payload reaches only the holder of the responder's
// static key but can be replayed, and a later theft of that key reveals it; message 2's goes to
// an initiator not yet authenticated. Only after message 3 does the responder know who it talks
// to.
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "natter/crypto/keys.hpp"
#include "natter/crypto/noise_symmetric_state.hpp"

namespace natter::crypto::noise {

inline constexpr std::string_view xk_protocol_name = "Noise_XK_25519_ChaChaPoly_SHA256";
inline constexpr std::string_view kk_protocol_name = "Noise_KK_25519_ChaChaPoly_SHA256";
inline constexpr std::string_view ik_protocol_name = "Noise_IK_25519_ChaChaPoly_SHA256";
inline constexpr std::size_t max_message_size = 65535;  // §3: every Noise message
inline constexpr std::size_t dh_size = 32;              // DHLEN for 25519
inline constexpr std::size_t xk_message_count = 3;
inline constexpr std::size_t kk_message_count = 2;
inline constexpr std::size_t ik_message_count = 2;

enum class handshake_pattern : std::uint8_t { xk, kk, ik };
[[nodiscard]] std::string_view protocol_name(handshake_pattern pattern);
[[nodiscard]] std::size_t message_count(handshake_pattern pattern);

enum class role : std::uint8_t { initiator, responder };

enum class handshake_error : std::uint8_t {
  none,
  out_of_turn,        // a call the state does not allow now (refused, state unchanged)
  payload_too_large,  // the message would exceed max_message_size (refused, state unchanged)
  bad_message_size,   // a received message shorter than its keys and tag, or over 65535 bytes
  bad_public_key,     // an X25519 result was all zeros (low-order or zero peer key)
  decrypt_failed,     // a tag did not verify: tampered, replayed, or the wrong keys
  nonce_exhausted,    // unreachable in a handshake; kept so no failure goes unnamed
};
[[nodiscard]] std::string_view to_string(handshake_error error);

// A pattern token: e, s, ee, es, se, ss (defined with the pattern table in the .cpp).
enum class pattern_token : std::uint8_t;

class handshake_state {
 public:
  enum class status : std::uint8_t { write_next, read_next, complete, split_done, failed };

  // The initiator knows the responder's static public key beforehand (the pre-message "<- s").
  // `own_static` is borrowed and must outlive the handshake state. The prologue is mixed into h
  // at once: both sides must pass the same bytes or message 1 fails.
  [[nodiscard]] static handshake_state initiator(const key_pair& own_static, const public_key& responder_static,
                                                 std::span<const std::uint8_t> prologue);
  [[nodiscard]] static handshake_state responder(const key_pair& own_static,
                                                 std::span<const std::uint8_t> prologue);
  // KK: each side knows the other's static key beforehand (pre-messages "-> s", "<- s"). Message
  // 1's payload is already encrypted to the responder and authenticated as the initiator's
  // (§7.7: destination 2, source 1 — KCI-weak until message 2); `remote_static` is the peer's
  // key, which remote_static() returns from the start.
  [[nodiscard]] static handshake_state initiator_kk(const key_pair& own_static, const public_key& remote_static,
                                                    std::span<const std::uint8_t> prologue);
  [[nodiscard]] static handshake_state responder_kk(const key_pair& own_static, const public_key& remote_static,
                                                    std::span<const std::uint8_t> prologue);
  // IK: the initiator knows the responder's static key; message 1 carries the initiator's,
  // encrypted. The responder's remote_static() is the key message 1 carried, once message 1 has
  // authenticated completely (whether that key is welcome is the caller's call).
  [[nodiscard]] static handshake_state initiator_ik(const key_pair& own_static, const public_key& responder_static,
                                                    std::span<const std::uint8_t> prologue);
  [[nodiscard]] static handshake_state responder_ik(const key_pair& own_static,
                                                    std::span<const std::uint8_t> prologue);

  ~handshake_state();
  // Moving takes the whole state; the moved-from one is left failed (every call refused).
  handshake_state(handshake_state&& other) noexcept;
  handshake_state& operator=(handshake_state&& other) noexcept;

  // Test seam for known-answer vectors: use this ephemeral secret instead of a fresh random one.
  // Only before this side's ephemeral exists (i.e. before it writes its "e"); false otherwise.
  // Never outside tests: a reused ephemeral key destroys forward secrecy.
  [[nodiscard]] bool set_ephemeral_for_testing(secret_key ephemeral);

  // The next handshake message, carrying `payload` (encrypted: in XK, KK and IK every one is).
  [[nodiscard]] std::optional<bytes> write_message(std::span<const std::uint8_t> payload);
  // The payload of the peer's next handshake message, if the whole message authenticates.
  [[nodiscard]] std::optional<bytes> read_message(std::span<const std::uint8_t> message);
  // Once complete, exactly once: the transport keys and h; the handshake secrets are wiped.
  [[nodiscard]] std::optional<split_keys> split();

  [[nodiscard]] status current() const { return status_; }
  [[nodiscard]] handshake_error error() const { return error_; }
  [[nodiscard]] role own_role() const { return role_; }
  // Messages written or read so far (0 to message_count(pattern())).
  [[nodiscard]] std::size_t messages_done() const { return message_index_; }
  [[nodiscard]] handshake_pattern pattern() const { return pattern_; }
  // The peer's static public key: one given beforehand (XK and IK initiators, both KK sides),
  // or the one a message carried (XK: message 3, IK: message 1) once that whole message has
  // authenticated — nullopt before, and after a failure. The handshake proves the peer holds the
  // secret half; whether that key is welcome is the caller's call.
  [[nodiscard]] std::optional<public_key> remote_static() const;

 private:
  handshake_state(handshake_pattern pattern, role own_role, const key_pair& own_static,
                  std::span<const std::uint8_t> prologue);
  void mix_pre_messages();  // the pattern's pre-messages, initiator's first (§7.1)

  [[nodiscard]] std::size_t message_overhead() const;  // key and tag bytes of the next message
  [[nodiscard]] bool mix_dh(pattern_token dh);        // es, ee, se or ss; false on an all-zero result
  void advance();
  std::nullopt_t refuse(handshake_error why);  // out of turn: state unchanged
  std::nullopt_t fail(handshake_error why);    // final: wipes everything
  void wipe_ephemerals();
  void abandon();  // what a moved-from state becomes

  handshake_pattern pattern_;
  role role_;
  const key_pair* s_;  // borrowed
  key_pair e_;
  bool has_e_ = false;
  public_key re_{};
  std::optional<public_key> rs_;
  bool rs_given_ = false;  // known before the handshake (kept on failure), not learned from it
  bool rs_shown_ = false;  // given, or carried by a message that has authenticated
  symmetric_state symmetric_;
  status status_;
  handshake_error error_ = handshake_error::none;
  std::size_t message_index_ = 0;
};

}  // namespace natter::crypto::noise
