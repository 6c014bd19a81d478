#pragma once
// Noise CipherState (Noise spec rev 34, §5.1) for ChaChaPoly: a key k and a 64-bit nonce n.
//
// ENCRYPT is crypto_aead_chacha20poly1305_ietf with the 96-bit nonce 4 zero bytes || n as 64-bit
// little endian (§12.3). The cipher state is what the Noise handshake encrypts with, and what
// the known-answer tests use for transport messages; natter's own transport uses the split()
// keys differently (docs/NOISE.md).
//
// Failure contract: encrypt_with_ad() and decrypt_with_ad() return std::nullopt, never partial
// plaintext, and leave n unchanged when they fail. They fail when
//   - n has reached 2^64-1: §5.1 reserves that value, so the nonce is exhausted for good (the
//     counter never wraps, which would reuse a nonce);
//   - decrypting, the ciphertext is shorter than the 16-byte tag or does not authenticate.
// Without a key ("empty k") both pass the bytes through unchanged, as the spec says.
// The key is wiped with sodium_memzero on destruction, on move and on clear().
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "natter/crypto/keys.hpp"

namespace natter::crypto::noise {

using bytes = std::vector<std::uint8_t>;

inline constexpr std::size_t cipher_key_size = 32;  // crypto_aead_chacha20poly1305_ietf_KEYBYTES
inline constexpr std::size_t tag_size = 16;         // crypto_aead_chacha20poly1305_ietf_ABYTES
inline constexpr std::uint64_t max_nonce = 0xffff'ffff'ffff'ffffull;  // reserved, never used

class cipher_state {
 public:
  cipher_state() = default;  // empty k: encrypt/decrypt are the identity
  explicit cipher_state(const secret_key& k) { initialize_key(k); }
  ~cipher_state();
  cipher_state(const cipher_state&) = delete;
  cipher_state& operator=(const cipher_state&) = delete;
  cipher_state(cipher_state&& other) noexcept;
  cipher_state& operator=(cipher_state&& other) noexcept;

  // InitializeKey(key): k = key (copied), n = 0.
  void initialize_key(const secret_key& k);
  [[nodiscard]] bool has_key() const { return has_key_; }
  // SetNonce (§5.1): for transport messages out of order; tests use it to reach exhaustion.
  void set_nonce(std::uint64_t n) { n_ = n; }
  [[nodiscard]] std::uint64_t nonce() const { return n_; }

  // ENCRYPT(k, n++, ad, plaintext): ciphertext || 16-byte tag.
  [[nodiscard]] std::optional<bytes> encrypt_with_ad(std::span<const std::uint8_t> ad,
                                                     std::span<const std::uint8_t> plaintext);
  // DECRYPT(k, n++, ad, ciphertext); n advances only when the ciphertext authenticates.
  [[nodiscard]] std::optional<bytes> decrypt_with_ad(std::span<const std::uint8_t> ad,
                                                     std::span<const std::uint8_t> ciphertext);

  // Back to empty k, n = 0; the key bytes are wiped.
  void clear();

 private:
  secret_key k_;
  bool has_key_ = false;
  std::uint64_t n_ = 0;
};

}  // namespace natter::crypto::noise
