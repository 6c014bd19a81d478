#pragma once
// The two payloads of the natter v2 handshake (docs/PROTOCOL.md §2.4–2.5), canonical binary:
//
//   server parameters (Noise message 2): u32 BE max_frame || u16 BE max_text   (6 bytes)
//   client identity   (Noise message 3): u8 identity_version (2) || Ed25519 public key (32)
//
// A reader ignores bytes after the fields it knows (later versions may append fields). Both
// payloads arrive only inside an authenticated Noise message, but their contents are still the
// peer's word: decoding checks the shape, the caller judges the values.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "natter/crypto/identity_v2.hpp"
#include "natter/crypto/keys.hpp"

namespace natter::crypto {

inline constexpr std::size_t server_parameters_size = 6;
inline constexpr std::uint8_t identity_version_2 = 2;
inline constexpr std::size_t client_identity_payload_size = 1 + ed25519_public_key_size;

// What the server tells the client before the session starts.
struct server_parameters {
  std::uint32_t max_frame = 0;  // largest frame body the server accepts, in bytes
  std::uint16_t max_text = 0;   // largest message text, in bytes
  bool operator==(const server_parameters&) const = default;
};

[[nodiscard]] std::vector<std::uint8_t> encode_server_parameters(const server_parameters& parameters);
// nullopt if `payload` is shorter than server_parameters_size; extra bytes are ignored.
[[nodiscard]] std::optional<server_parameters> decode_server_parameters(std::span<const std::uint8_t> payload);

[[nodiscard]] std::vector<std::uint8_t> encode_client_identity(const ed25519_public_key& key);

enum class identity_payload_error : std::uint8_t { none, too_short, unknown_version };
struct client_identity_payload {
  identity_payload_error error = identity_payload_error::none;
  std::uint8_t version = 0;  // as sent, also when unknown
  ed25519_public_key key{};  // valid only when error == none
};
// The identity in `payload`: too_short if it has no version byte or, for version 2, fewer than
// 33 bytes; unknown_version for any version but 2. Extra bytes after a version 2 key are ignored.
[[nodiscard]] client_identity_payload decode_client_identity(std::span<const std::uint8_t> payload);


}  // namespace natter::crypto
