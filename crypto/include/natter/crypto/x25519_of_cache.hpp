#pragma once
// Remembered X25519 forms of Ed25519 identity keys (x25519_of, identity_v2.hpp), for the
// server's message 3 check. libsodium's crypto_sign_ed25519_pk_to_curve25519 checks that the
// point lies in the main subgroup — a multiplication by the group order, more work than one
// X25519 — and a server sees the same identities again and again, so it remembers the answers
// for the last `capacity` keys it converted (least recently used dropped). Only public data is
// kept: a key and its conversion, or the fact that it has none.
//
// Thread-safe (one mutex, held for a lookup or an insertion, never for the conversion).
#include <array>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "natter/crypto/identity_v2.hpp"
#include "natter/crypto/keys.hpp"

namespace natter::crypto {

class x25519_of_cache {
 public:
  static constexpr std::size_t default_capacity = 16384;  // about 2.5 MB when full

  explicit x25519_of_cache(std::size_t capacity = default_capacity);

  // Exactly x25519_of(key), from memory when the key was converted recently.
  [[nodiscard]] std::optional<public_key> convert(const ed25519_public_key& key);

  [[nodiscard]] std::size_t size() const;
  [[nodiscard]] std::uint64_t hits() const;

 private:
  using key_bytes = std::array<std::uint8_t, ed25519_public_key_size>;
  struct key_hash {
    std::size_t operator()(const key_bytes& key) const noexcept;
  };
  using lru = std::list<key_bytes>;  // most recently used first
  struct entry {
    std::optional<public_key> converted;
    lru::iterator position;
  };

  std::size_t capacity_;
  mutable std::mutex mutex_;
  lru order_;
  std::unordered_map<key_bytes, entry, key_hash> entries_;
  std::uint64_t hits_ = 0;
};

}  // namespace natter::crypto
