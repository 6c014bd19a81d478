#include "natter/crypto/noise_cipher_state.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>

namespace natter::crypto::noise {

static_assert(cipher_key_size == crypto_aead_chacha20poly1305_ietf_KEYBYTES);
static_assert(cipher_key_size == secret_key::size());
static_assert(tag_size == crypto_aead_chacha20poly1305_ietf_ABYTES);
static_assert(crypto_aead_chacha20poly1305_ietf_NPUBBYTES == 12);

namespace {

// §12.3 ChaChaPoly: "32 bits of zeros followed by little-endian encoding of n".
std::array<std::uint8_t, 12> aead_nonce(std::uint64_t n) {
  std::array<std::uint8_t, 12> out{};
  for (int i = 0; i < 8; ++i) out[4 + i] = static_cast<std::uint8_t>(n >> (8 * i));
  return out;
}

}  // namespace

cipher_state::~cipher_state() { clear(); }

cipher_state::cipher_state(cipher_state&& other) noexcept
    : k_(std::move(other.k_)), has_key_(other.has_key_), n_(other.n_) {
  other.clear();  // k_ is already wiped by secret_bytes' move; the flag and n go back too
}

cipher_state& cipher_state::operator=(cipher_state&& other) noexcept {
  if (this != &other) {
    k_ = std::move(other.k_);
    has_key_ = other.has_key_;
    n_ = other.n_;
    other.clear();
  }
  return *this;
}

void cipher_state::initialize_key(const secret_key& k) {
  std::copy(k.data(), k.data() + k.size(), k_.data());
  has_key_ = true;
  n_ = 0;
}

void cipher_state::clear() {
  k_.wipe();
  has_key_ = false;
  n_ = 0;
}

std::optional<bytes> cipher_state::encrypt_with_ad(std::span<const std::uint8_t> ad,
                                                   std::span<const std::uint8_t> plaintext) {
  if (!has_key_) return bytes(plaintext.begin(), plaintext.end());
  if (n_ == max_nonce) return std::nullopt;
  bytes out(plaintext.size() + tag_size);
  const auto npub = aead_nonce(n_);
  unsigned long long written = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(out.data(), &written, plaintext.data(), plaintext.size(),
                                            ad.data(), ad.size(), nullptr, npub.data(), k_.data());
  ++n_;
  return out;
}

std::optional<bytes> cipher_state::decrypt_with_ad(std::span<const std::uint8_t> ad,
                                                   std::span<const std::uint8_t> ciphertext) {
  if (!has_key_) return bytes(ciphertext.begin(), ciphertext.end());
  if (n_ == max_nonce || ciphertext.size() < tag_size) return std::nullopt;
  bytes out(ciphertext.size() - tag_size);
  const auto npub = aead_nonce(n_);
  unsigned long long written = 0;
  if (crypto_aead_chacha20poly1305_ietf_decrypt(out.data(), &written, nullptr, ciphertext.data(),
                                                ciphertext.size(), ad.data(), ad.size(), npub.data(),
                                                k_.data()) != 0) {
    // libsodium verifies before it decrypts, so nothing was written; wipe anyway, cheaply.
    sodium_memzero(out.data(), out.size());
    return std::nullopt;
  }
  ++n_;
  return out;
}

}  // namespace natter::crypto::noise
