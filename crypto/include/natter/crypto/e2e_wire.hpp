#pragma once
// The byte formats of the end-to-end layer (docs/E2E.md §2), one definition that every reader
// and writer uses. All integers are big endian; every format starts with its version byte, 1.
//
//   handshake message   kind (1: init, 2: response) ‖ the Noise KK message
//   pairwise body       1 ‖ session id (8) ‖ n (u32) ‖ nonce (24) ‖ ciphertext
//                       header = the first 13 bytes (the AEAD's associated data)
//   room message        1 ‖ room length (u8, 1..64) ‖ room ‖ epoch (u32) ‖ sender key id (8) ‖ n (u32)
//                       ‖ nonce (24) ‖ ciphertext ‖ Ed25519 signature (64)
//                       header = everything before the nonce (associated data); the signature
//                       covers everything before it
//   distribution        1 ‖ room length (u8, 1..64) ‖ room ‖ epoch (u32) ‖ chain key (32)
//                       ‖ iteration (u32) ‖ signing public key (32)       (exactly this long)
//
// Failure contract: every parse_* takes untrusted bytes and returns nullopt for anything but
// exactly that layout (wrong version or kind, a room name empty or over max_room_size, a
// ciphertext that cannot be a padded AEAD output, trailing bytes); it never reads outside
// `in`. Parsed views point into `in`, which must outlive them.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "natter/crypto/e2e_aead.hpp"
#include "natter/crypto/identity_v2.hpp"
#include "natter/crypto/keys.hpp"

namespace natter::crypto::e2e {

inline constexpr std::uint8_t wire_version = 1;
inline constexpr std::size_t session_id_size = 8;
inline constexpr std::size_t sender_key_id_size = 8;
inline constexpr std::size_t max_room_size = 64;
inline constexpr std::size_t pairwise_header_size = 1 + session_id_size + 4;

using session_id = std::array<std::uint8_t, session_id_size>;
using sender_key_id = std::array<std::uint8_t, sender_key_id_size>;

enum class handshake_kind : std::uint8_t { init = 1, response = 2 };

struct handshake_message_view {
  handshake_kind kind;
  std::span<const std::uint8_t> noise_message;
};
[[nodiscard]] bytes write_handshake_message(handshake_kind kind, std::span<const std::uint8_t> noise_message);
[[nodiscard]] std::optional<handshake_message_view> parse_handshake_message(std::span<const std::uint8_t> in);

struct pairwise_header {
  session_id id{};
  std::uint32_t n = 0;
};
struct pairwise_body_view {
  pairwise_header header;
  std::span<const std::uint8_t> header_bytes;  // the associated data
  aead_nonce nonce{};
  std::span<const std::uint8_t> ciphertext;
};
[[nodiscard]] bytes write_pairwise_header(const pairwise_header& header);
[[nodiscard]] std::optional<pairwise_body_view> parse_pairwise_body(std::span<const std::uint8_t> in);

struct room_header {
  std::string room;
  std::uint32_t epoch = 0;
  sender_key_id key_id{};
  std::uint32_t n = 0;
};
struct room_message_view {
  room_header header;
  std::span<const std::uint8_t> header_bytes;  // the associated data
  aead_nonce nonce{};
  std::span<const std::uint8_t> ciphertext;
  std::span<const std::uint8_t> signed_bytes;  // everything the signature covers
  signature sig{};
};
// nullopt if the room name is empty or longer than max_room_size.
[[nodiscard]] std::optional<bytes> write_room_header(const room_header& header);
[[nodiscard]] std::optional<room_message_view> parse_room_message(std::span<const std::uint8_t> in);

// A sender key distribution. The chain key is a secret: the struct wipes it, and the caller
// should wipe the serialised bytes (sodium_memzero) once they are sealed into a pairwise body.
struct distribution {
  std::string room;
  std::uint32_t epoch = 0;
  secret_key chain_key;
  std::uint32_t iteration = 0;
  ed25519_public_key signing_key;
};
[[nodiscard]] std::optional<bytes> write_distribution(const distribution& d);
[[nodiscard]] std::optional<distribution> parse_distribution(std::span<const std::uint8_t> in);

}  // namespace natter::crypto::e2e
