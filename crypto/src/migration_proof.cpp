#include "natter/crypto/migration_proof.hpp"

#include <sodium.h>

namespace natter::crypto {

static_assert(handshake_hash_size == crypto_hash_sha256_BYTES);
static_assert(migration_proof_size == crypto_box_NONCEBYTES + crypto_box_MACBYTES + handshake_hash_size);

std::optional<migration_proof> make_migration_proof(const key_pair& v1, const public_key& server_static,
                                                    std::span<const std::uint8_t, handshake_hash_size> handshake_hash) {
  migration_proof proof{};
  // A fresh nonce per proof: the (v1, server) key is the same on every connection, and a nonce
  // used twice under it would give away the Poly1305 key of both boxes.
  randombytes_buf(proof.data(), nonce_size);
  if (crypto_box_easy(proof.data() + nonce_size, handshake_hash.data(), handshake_hash.size(), proof.data(),
                      server_static.data(), v1.secret.data()) != 0) {
    return std::nullopt;
  }
  return proof;
}

bool check_migration_proof(std::span<const std::uint8_t> proof, const public_key& v1_public,
                           const key_pair& server_static,
                           std::span<const std::uint8_t, handshake_hash_size> handshake_hash) {
  if (proof.size() != migration_proof_size) return false;
  std::array<std::uint8_t, handshake_hash_size> opened{};
  const bool authentic = crypto_box_open_easy(opened.data(), proof.data() + nonce_size, proof.size() - nonce_size,
                                              proof.data(), v1_public.data(), server_static.secret.data()) == 0;
  // Authentic and holding this connection's h: a box the v1 key made for some other handshake
  // opens too, and is refused here.
  const bool same_hash = authentic && sodium_memcmp(opened.data(), handshake_hash.data(), handshake_hash.size()) == 0;
  sodium_memzero(opened.data(), opened.size());
  return same_hash;
}

}  // namespace natter::crypto
