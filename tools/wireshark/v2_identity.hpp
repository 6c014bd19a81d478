#pragma once
// v2 identities and fingerprints for the Wireshark tools (make_capture, wire_poke), made with
// libsodium as docs/PROTOCOL.md §6 defines them.
//
// Why not identity_v2.hpp and fingerprint_v2.hpp: on this branch they cannot be included beside
// handshake_v2.hpp (both declare ed25519_public_key: a std::array in handshake_v2_payload.hpp, a
// struct holding one in identity_v2.hpp). The v2 wiring branch merges the two into the struct;
// ed25519_bytes() below compiles with either, so these tools build before and after it lands.
// Writing the fingerprints out here also checks the dissector against a second reading of the
// definition rather than against the code it is meant to agree with.
#include <sodium.h>

#include <array>
#include <cstdint>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

#include "natter/crypto/handshake_v2.hpp"
#include "natter/crypto/keys.hpp"

namespace natter::tools {

// The 32 bytes of an Ed25519 public key, whichever of the two forms the crypto headers use.
template <typename Key>
std::span<std::uint8_t, 32> ed25519_bytes(Key& key) {
  if constexpr (requires { key.bytes; }) {
    return key.bytes;
  } else {
    return key;
  }
}
template <typename Key>
std::span<const std::uint8_t, 32> ed25519_bytes(const Key& key) {
  if constexpr (requires { key.bytes; }) {
    return key.bytes;
  } else {
    return key;
  }
}

// The identity of an Ed25519 seed: the Ed25519 key names the user, its X25519 form
// (crypto_sign_ed25519_sk_to_curve25519) is the Noise static. Throws if libsodium refuses.
inline crypto::client_identity_v2 identity_from_seed(const crypto::secret_key& seed) {
  std::array<std::uint8_t, crypto_sign_SECRETKEYBYTES> ed_secret{};
  crypto::client_identity_v2 id;
  crypto::secret_key x;
  const bool ok = crypto_sign_seed_keypair(ed25519_bytes(id.ed25519_public).data(), ed_secret.data(), seed.data()) == 0 &&
                  crypto_sign_ed25519_sk_to_curve25519(x.data(), ed_secret.data()) == 0;
  sodium_memzero(ed_secret.data(), ed_secret.size());
  if (!ok) throw std::runtime_error("cannot derive a v2 identity from its seed");
  id.x25519 = crypto::key_pair::from_secret(std::move(x));
  return id;
}

// Fingerprint v2: SHA-256(label ‖ 0x00 ‖ key), the first 20 bytes as "2:" and 10 groups of 4
// lowercase hex digits.
inline std::string labelled_fingerprint(std::string_view label, std::span<const std::uint8_t, 32> key) {
  std::array<std::uint8_t, crypto_hash_sha256_BYTES> d{};
  crypto_hash_sha256_state st;
  crypto_hash_sha256_init(&st);
  crypto_hash_sha256_update(&st, reinterpret_cast<const unsigned char*>(label.data()), label.size());
  const unsigned char nul = 0;
  crypto_hash_sha256_update(&st, &nul, 1);
  crypto_hash_sha256_update(&st, key.data(), key.size());
  crypto_hash_sha256_final(&st, d.data());
  const std::string h = crypto::to_hex(std::span<const std::uint8_t>(d.data(), 20));
  std::string fp = "2:";
  for (std::size_t g = 0; g < 10; ++g) fp += (g ? "-" : "") + h.substr(g * 4, 4);
  return fp;
}

// A user's fingerprint (names the Ed25519 key) and a server's (names its X25519 static key).
inline std::string user_fingerprint(std::span<const std::uint8_t, 32> ed25519) {
  return labelled_fingerprint("natter fingerprint v2", ed25519);
}
inline std::string server_fingerprint(const crypto::public_key& server_static) {
  return labelled_fingerprint("natter server fingerprint v2", server_static);
}

}  // namespace natter::tools
