#include "natter/crypto/identity_v2.hpp"

#include <sodium.h>

#include <stdexcept>

namespace natter::crypto {

static_assert(ed25519_public_key_size == crypto_sign_PUBLICKEYBYTES);
static_assert(ed25519_seed_size == crypto_sign_SEEDBYTES);
static_assert(ed25519_seed_size == secret_bytes::size());
static_assert(signature_size == crypto_sign_BYTES);
static_assert(key_size == crypto_scalarmult_curve25519_BYTES);

namespace {

// libsodium's 64-byte Ed25519 secret key, rebuilt from the seed where it is needed and wiped
// when it goes out of scope, on every path.
class expanded_secret {
 public:
  expanded_secret(const secret_bytes& seed, ed25519_public_key& public_out) {
    if (crypto_sign_seed_keypair(public_out.bytes.data(), bytes_.data(), seed.data()) != 0) {
      throw std::runtime_error("cannot derive an Ed25519 key pair from this seed");
    }
  }
  ~expanded_secret() { sodium_memzero(bytes_.data(), bytes_.size()); }
  expanded_secret(const expanded_secret&) = delete;
  expanded_secret& operator=(const expanded_secret&) = delete;

  [[nodiscard]] const std::uint8_t* data() const { return bytes_.data(); }

 private:
  std::array<std::uint8_t, crypto_sign_SECRETKEYBYTES> bytes_{};
};

}  // namespace

identity_v2 identity_v2::generate() {
  secret_bytes seed;
  random_bytes(std::span(seed.data(), seed.size()));
  return from_seed(std::move(seed));
}

identity_v2 identity_v2::from_seed(secret_bytes seed) {
  identity_v2 id;
  id.seed_ = std::move(seed);
  const expanded_secret expanded(id.seed_, id.ed25519_public_);
  secret_key x25519_secret;
  if (crypto_sign_ed25519_sk_to_curve25519(x25519_secret.data(), expanded.data()) != 0) {
    throw std::runtime_error("cannot derive an X25519 key from this Ed25519 key");
  }
  // The public half by crypto_scalarmult_base on the derived secret, not by converting the
  // Ed25519 public key: two routes to the same point, which the tests hold equal.
  id.x25519_ = key_pair::from_secret(std::move(x25519_secret));
  return id;
}

signature identity_v2::sign(std::span<const std::uint8_t> message) const {
  ed25519_public_key again;
  const expanded_secret expanded(seed_, again);
  signature sig{};
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), expanded.data());
  return sig;
}

bool verify(const ed25519_public_key& key, std::span<const std::uint8_t> message, const signature& sig) {
  return crypto_sign_verify_detached(sig.data(), message.data(), message.size(), key.bytes.data()) == 0;
}

std::optional<public_key> x25519_of(const ed25519_public_key& key) {
  public_key out{};
  if (crypto_sign_ed25519_pk_to_curve25519(out.data(), key.bytes.data()) != 0) return std::nullopt;
  return out;
}

std::string to_hex(const ed25519_public_key& key) { return to_hex(std::span<const std::uint8_t>(key.bytes)); }

std::optional<ed25519_public_key> ed25519_public_key_from_hex(std::string_view hex) {
  // The same rules as an X25519 key's hex: exactly 64 hex digits, nothing around them.
  const auto raw = public_key_from_hex(hex);
  if (!raw) return std::nullopt;
  return ed25519_public_key{*raw};
}

}  // namespace natter::crypto
