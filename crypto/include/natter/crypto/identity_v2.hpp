#pragma once
// Identity v2 (docs/PROTOCOL.md §6, docs/PROTOCOL.md §6): one Ed25519 key names a
// user; its X25519 form is the Noise static key. The identity is a 32-byte Ed25519 seed
// (crypto_sign_seed_keypair); everything else is derived from it, so the seed is the only secret
// a file has to hold.
//
// The Ed25519 public key has its own type, not natter::crypto::public_key (an X25519 key), so
// that a fingerprint, a store or the server's check cannot be handed the wrong one of the two:
// they are both 32 bytes, and mixing them up would compile otherwise.
#include <array>
#include <compare>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "natter/crypto/keys.hpp"

namespace natter::crypto {

inline constexpr std::size_t ed25519_public_key_size = 32;  // crypto_sign_PUBLICKEYBYTES
inline constexpr std::size_t ed25519_seed_size = 32;        // crypto_sign_SEEDBYTES
inline constexpr std::size_t signature_size = 64;           // crypto_sign_BYTES

struct ed25519_public_key {
  std::array<std::uint8_t, ed25519_public_key_size> bytes{};
  friend auto operator<=>(const ed25519_public_key&, const ed25519_public_key&) = default;
};

using signature = std::array<std::uint8_t, signature_size>;

// An identity v2. Not copyable (it holds secrets: the seed and the derived X25519 secret, both
// secret_bytes, wiped on destruction and when moved from).
class identity_v2 {
 public:
  // A fresh identity from a random seed (randombytes_buf).
  [[nodiscard]] static identity_v2 generate();
  // The identity whose seed is `seed`: the same seed gives the same keys, always.
  [[nodiscard]] static identity_v2 from_seed(secret_bytes seed);

  identity_v2(identity_v2&&) noexcept = default;
  identity_v2& operator=(identity_v2&&) noexcept = default;

  // The Ed25519 public key: the identity's name (fingerprint_v2, stores, the client identity
  // payload of Noise message 3).
  [[nodiscard]] const ed25519_public_key& public_key() const { return ed25519_public_; }
  // The X25519 key pair derived from the seed (crypto_sign_ed25519_sk_to_curve25519): the
  // Noise static. Its public half equals x25519_of(public_key()).
  [[nodiscard]] const key_pair& x25519() const { return x25519_; }
  // The seed, for the identity file writer only.
  [[nodiscard]] const secret_bytes& seed() const { return seed_; }

  // An Ed25519 signature of `message` (crypto_sign_detached; deterministic). The 64-byte
  // expanded secret key is rebuilt from the seed for each call and wiped afterwards.
  [[nodiscard]] signature sign(std::span<const std::uint8_t> message) const;

 private:
  identity_v2() = default;

  secret_bytes seed_;
  ed25519_public_key ed25519_public_;
  key_pair x25519_;
};

// True exactly when `sig` is a valid Ed25519 signature of `message` by `key`
// (crypto_sign_verify_detached, which also refuses small-order keys and non-canonical
// signatures).
[[nodiscard]] bool verify(const ed25519_public_key& key, std::span<const std::uint8_t> message, const signature& sig);

// The X25519 form of an Ed25519 public key (crypto_sign_ed25519_pk_to_curve25519): what the
// server compares with the Noise static key message 3 proved. nullopt for a key libsodium
// refuses: not a point, of small order, or not in the main subgroup (e.g. all zero).
[[nodiscard]] std::optional<public_key> x25519_of(const ed25519_public_key& key);

// Lowercase hex of the key, and the reverse (nullopt unless exactly 64 hex digits). Stores keep
// full public keys in this form, not fingerprints.
[[nodiscard]] std::string to_hex(const ed25519_public_key& key);
[[nodiscard]] std::optional<ed25519_public_key> ed25519_public_key_from_hex(std::string_view hex);

}  // namespace natter::crypto
