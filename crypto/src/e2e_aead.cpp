#include "natter/crypto/e2e_aead.hpp"

#include <sodium.h>

#include <algorithm>

namespace natter::crypto::e2e {

static_assert(aead_nonce_size == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
static_assert(aead_tag_size == crypto_aead_xchacha20poly1305_ietf_ABYTES);
static_assert(key_size == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);

aead_nonce random_nonce() {
  aead_nonce nonce{};
  random_bytes(nonce);
  return nonce;
}

std::size_t sealed_size(std::size_t plaintext_size) {
  return (plaintext_size / padding_block + 1) * padding_block + aead_tag_size;
}

std::optional<bytes> seal(const secret_key& mk, const aead_nonce& nonce, std::span<const std::uint8_t> ad,
                          std::span<const std::uint8_t> plaintext) {
  if (plaintext.size() > max_plaintext_size) return std::nullopt;
  bytes padded(sealed_size(plaintext.size()) - aead_tag_size);
  std::copy(plaintext.begin(), plaintext.end(), padded.begin());
  std::size_t padded_size = 0;
  if (sodium_pad(&padded_size, padded.data(), plaintext.size(), padding_block, padded.size()) != 0) {
    return std::nullopt;  // unreachable: the buffer has room for the block
  }
  bytes out(padded_size + aead_tag_size);
  unsigned long long out_size = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(out.data(), &out_size, padded.data(), padded_size, ad.data(), ad.size(),
                                             nullptr, nonce.data(), mk.data());
  sodium_memzero(padded.data(), padded.size());
  out.resize(out_size);
  return out;
}

std::optional<bytes> open(const secret_key& mk, const aead_nonce& nonce, std::span<const std::uint8_t> ad,
                          std::span<const std::uint8_t> ciphertext) {
  if (ciphertext.size() < aead_tag_size + padding_block || ciphertext.size() > max_ciphertext_size ||
      (ciphertext.size() - aead_tag_size) % padding_block != 0) {
    return std::nullopt;
  }
  bytes padded(ciphertext.size() - aead_tag_size);
  unsigned long long padded_size = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(padded.data(), &padded_size, nullptr, ciphertext.data(),
                                                 ciphertext.size(), ad.data(), ad.size(), nonce.data(),
                                                 mk.data()) != 0) {
    return std::nullopt;
  }
  std::size_t size = 0;
  if (sodium_unpad(&size, padded.data(), padded_size, padding_block) != 0) {
    sodium_memzero(padded.data(), padded.size());
    return std::nullopt;
  }
  padded.resize(size);
  return padded;
}

}  // namespace natter::crypto::e2e
