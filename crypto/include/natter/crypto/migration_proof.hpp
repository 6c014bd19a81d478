#pragma once
// The v1 → v2 migration proof (docs/PROTOCOL.md §7, docs/PROTOCOL.md §6).
//
// A client whose name is registered under a v1 X25519 key joins over v2 with its new identity
// and sends its v1 public key and this proof:
//
//   proof = nonce (24, random) ‖ crypto_box_easy(h, nonce, server_static_pk, v1_secret)   (72 bytes)
//
// where h is the Noise handshake hash of this very connection (split_keys::handshake_hash, after
// message 3). The server opens it with its static secret and the v1 key registered for the name
// and compares the plaintext with its own h in constant time.
//
// What it proves: whoever made it held the v1 secret key (crypto_box authenticates with the
// X25519 key shared by v1_secret and the server's key), and made it for this server (its static
// key) and this handshake (h): h binds both ephemerals, the server's static key and the client's
// new static key and identity payload of message 3, so a proof seen once cannot be replayed on
// another connection, sent to another server, or used to move the name to some other key.
//
// Its limits: the shared key is symmetric, so anyone holding the server's static secret can
// forge a proof for any v1 key — that is the server itself, which could rewrite its registry
// anyway (and a thief of the server key, who can already impersonate the server). It is not a
// signature: nobody but the server can check it, so it is no evidence to a third party. And it
// proves possession, not intent: someone who stole the v1 secret key can make one too, and
// whoever migrates first gets the name; the server should accept a migration once per name (the
// v1 key is no longer registered afterwards) and log it.
//
// Same key as v1's key exchange: a v1 key exchange frame (handshake.hpp, 72 bytes on the wire in
// clear) is nonce ‖ crypto_box of an ephemeral public key under exactly this (v1 client, server
// static) key, from either side. Such a box passes as a proof only if its plaintext equals this
// connection's h, and nobody can steer a SHA-256 chain onto a given 32 bytes; nor does a proof
// passed off as a v1 key exchange help, since nobody knows a secret key whose public key is h.
// So the two uses do not mix, but only by that argument, not by a label in the plaintext.
#include <array>
#include <cstdint>
#include <optional>
#include <span>

#include "natter/crypto/keys.hpp"

namespace natter::crypto {

inline constexpr std::size_t handshake_hash_size = 32;  // Noise HASHLEN for SHA256
inline constexpr std::size_t migration_proof_size = nonce_size + mac_size + handshake_hash_size;  // 72

using migration_proof = std::array<std::uint8_t, migration_proof_size>;

// Seals h under the v1 key for this server, with a fresh random nonce. nullopt only if libsodium
// refuses `server_static` (all-zero or low-order: no shared key), which a pinned server key is not.
[[nodiscard]] std::optional<migration_proof> make_migration_proof(
    const key_pair& v1, const public_key& server_static,
    std::span<const std::uint8_t, handshake_hash_size> handshake_hash);

// True exactly when `proof` is migration_proof_size bytes, opens under (v1_public, the server's
// secret) and holds `handshake_hash`. Every other input is false: a proof for another handshake,
// another server key or another v1 key, any flipped bit, a wrong length, a low-order v1 key.
[[nodiscard]] bool check_migration_proof(std::span<const std::uint8_t> proof, const public_key& v1_public,
                                         const key_pair& server_static,
                                         std::span<const std::uint8_t, handshake_hash_size> handshake_hash);

}  // namespace natter::crypto
