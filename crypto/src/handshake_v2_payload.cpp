#include "natter/crypto/handshake_v2_payload.hpp"

#include <sodium.h>

#include <algorithm>

namespace natter::crypto {

static_assert(ed25519_public_key_size == crypto_sign_PUBLICKEYBYTES);
static_assert(key_size == crypto_scalarmult_curve25519_BYTES);

std::vector<std::uint8_t> encode_server_parameters(const server_parameters& parameters) {
  const std::uint32_t f = parameters.max_frame;
  const std::uint16_t t = parameters.max_text;
  return {static_cast<std::uint8_t>(f >> 24), static_cast<std::uint8_t>(f >> 16), static_cast<std::uint8_t>(f >> 8),
          static_cast<std::uint8_t>(f),       static_cast<std::uint8_t>(t >> 8),  static_cast<std::uint8_t>(t)};
}

std::optional<server_parameters> decode_server_parameters(std::span<const std::uint8_t> payload) {
  if (payload.size() < server_parameters_size) return std::nullopt;
  server_parameters p;
  p.max_frame = std::uint32_t{payload[0]} << 24 | std::uint32_t{payload[1]} << 16 | std::uint32_t{payload[2]} << 8 |
                std::uint32_t{payload[3]};
  p.max_text = static_cast<std::uint16_t>(std::uint16_t{payload[4]} << 8 | payload[5]);
  return p;
}

std::vector<std::uint8_t> encode_client_identity(const ed25519_public_key& key) {
  std::vector<std::uint8_t> payload(client_identity_payload_size);
  payload[0] = identity_version_2;
  std::copy(key.bytes.begin(), key.bytes.end(), payload.begin() + 1);
  return payload;
}

client_identity_payload decode_client_identity(std::span<const std::uint8_t> payload) {
  client_identity_payload out;
  if (payload.empty()) {
    out.error = identity_payload_error::too_short;
    return out;
  }
  out.version = payload[0];
  if (out.version != identity_version_2) {
    out.error = identity_payload_error::unknown_version;
  } else if (payload.size() < client_identity_payload_size) {
    out.error = identity_payload_error::too_short;
  } else {
    std::copy_n(payload.begin() + 1, out.key.bytes.size(), out.key.bytes.begin());
  }
  return out;
}

}  // namespace natter::crypto
