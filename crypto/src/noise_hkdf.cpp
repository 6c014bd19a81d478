#include "natter/crypto/noise_hkdf.hpp"

#include <sodium.h>

namespace natter::crypto::noise {

static_assert(hash_size == crypto_hash_sha256_BYTES);
static_assert(hash_size == crypto_auth_hmacsha256_BYTES);
static_assert(hash_size == secret_key::size());

namespace {

// HMAC-SHA256(key, a || b) into out. The state holds the key's padded hash states: wiped.
void hmac(const secret_key& key, std::span<const std::uint8_t> a, std::span<const std::uint8_t> b,
          secret_key& out) {
  crypto_auth_hmacsha256_state st;
  crypto_auth_hmacsha256_init(&st, key.data(), key.size());
  crypto_auth_hmacsha256_update(&st, a.data(), a.size());
  crypto_auth_hmacsha256_update(&st, b.data(), b.size());
  crypto_auth_hmacsha256_final(&st, out.data());
  sodium_memzero(&st, sizeof st);
}

}  // namespace

hash sha256(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, a.data(), a.size());
  crypto_hash_sha256_update(&st, b.data(), b.size());
  hash out{};
  crypto_hash_sha256_final(&st, out.data());
  sodium_memzero(&st, sizeof st);
  return out;
}

void hkdf(const secret_key& chaining_key, std::span<const std::uint8_t> input_key_material,
          secret_key& output1, secret_key& output2) {
  static constexpr std::uint8_t one = 0x01;
  static constexpr std::uint8_t two = 0x02;
  secret_key temp_key;
  hmac(chaining_key, input_key_material, {}, temp_key);
  // output1 may alias the chaining key: ck is not read again once temp_key exists.
  hmac(temp_key, {}, std::span(&one, 1), output1);
  hmac(temp_key, std::span<const std::uint8_t>(output1.data(), output1.size()), std::span(&two, 1), output2);
}  // temp_key is wiped by its destructor

}  // namespace natter::crypto::noise
