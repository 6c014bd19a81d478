#pragma once
// The one AEAD of the end-to-end layer (docs/E2E.md §4): crypto_aead_xchacha20poly1305_ietf over
// a plaintext padded with sodium_pad to a multiple of padding_block bytes, so the server sees a
// size class, not the length of the text.
//
//   padded     = sodium_pad(plaintext, padding_block)   (0x80, then zeros; always ≥ 1 byte added)
//   ciphertext = XChaCha20-Poly1305(key = mk_n, nonce, ad = header, padded)   (padded + 16 bytes)
//
// Each message key seals exactly one message. The 24-byte nonce is random anyway and travels
// with the message: should a client ever restore an old state and reuse an index, two messages
// under one key still never share a keystream.
//
// Failure contract: seal() refuses (nullopt) a plaintext over max_plaintext_size. open() returns
// nullopt, never partial plaintext, when the tag does not verify or the padding is malformed.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "natter/crypto/keys.hpp"

namespace natter::crypto::e2e {

using bytes = std::vector<std::uint8_t>;

inline constexpr std::size_t padding_block = 64;
inline constexpr std::size_t aead_nonce_size = 24;  // crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
inline constexpr std::size_t aead_tag_size = 16;    // crypto_aead_xchacha20poly1305_ietf_ABYTES
inline constexpr std::size_t max_plaintext_size = 32 * 1024;
inline constexpr std::size_t max_ciphertext_size = max_plaintext_size + padding_block + aead_tag_size;

using aead_nonce = std::array<std::uint8_t, aead_nonce_size>;

[[nodiscard]] aead_nonce random_nonce();
// The ciphertext size seal() gives for a plaintext of `size` bytes.
[[nodiscard]] std::size_t sealed_size(std::size_t plaintext_size);

[[nodiscard]] std::optional<bytes> seal(const secret_key& mk, const aead_nonce& nonce, std::span<const std::uint8_t> ad,
                                        std::span<const std::uint8_t> plaintext);
[[nodiscard]] std::optional<bytes> open(const secret_key& mk, const aead_nonce& nonce, std::span<const std::uint8_t> ad,
                                        std::span<const std::uint8_t> ciphertext);

}  // namespace natter::crypto::e2e
