#pragma once
// The Noise hash functions for SHA256 (Noise spec rev 34, §4.3 and §12.5): HASH, HMAC-HASH and
// HKDF, from libsodium's crypto_hash_sha256 and crypto_auth_hmacsha256.
//
//   HKDF(chaining_key, input_key_material, num_outputs):
//     temp_key = HMAC(chaining_key, input_key_material)
//     output1  = HMAC(temp_key, 0x01)
//     output2  = HMAC(temp_key, output1 || 0x02)
//
// This is RFC 5869 HKDF with salt = chaining_key, empty info and 32-byte blocks. HMAC keys here
// are always 32 bytes (chaining key, temp_key); crypto_auth_hmacsha256_init takes any length
// (it hashes keys over 64 bytes and zero-pads shorter ones, as RFC 2104 says).
// Nothing here can fail. temp_key and the HMAC states are wiped before returning.
#include <array>
#include <cstdint>
#include <span>

#include "natter/crypto/keys.hpp"

namespace natter::crypto::noise {

inline constexpr std::size_t hash_size = 32;  // HASHLEN (crypto_hash_sha256_BYTES)
using hash = std::array<std::uint8_t, hash_size>;

// HASH(a || b): a second part saves the caller building the concatenation.
[[nodiscard]] hash sha256(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b = {});

// HKDF with two outputs, all that MixKey and Split need (three are for psk patterns' MixKeyAndHash,
// which natter does not use). `output1` may be the chaining key itself: MixKey overwrites ck.
void hkdf(const secret_key& chaining_key, std::span<const std::uint8_t> input_key_material,
          secret_key& output1, secret_key& output2);

}  // namespace natter::crypto::noise
