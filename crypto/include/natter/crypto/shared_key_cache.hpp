#pragma once
// Memoised long-term shared keys for a server's returning clients.
//
// crypto_box_beforenm(client key, server secret) gives the same 32 bytes every time the same
// client connects; libsodium's docs recommend precomputing it "for applications that send
// several messages to the same recipient". A server handshake costs three X25519 operations
// (PROTOCOL.md §3: this shared key, the ephemeral key pair and the session key); remembering
// the first for the last `capacity` clients makes a returning client's handshake cost two.
//
// Only keys of clients that completed a key exchange are remembered (remember() is called once
// the client has proved it holds its secret), so strangers sending hellos cannot evict real
// users. The cache is bounded (least recently used entry evicted), thread-safe, and wipes every
// key it drops. It holds nothing an attacker with the server's memory would not already have:
// the server's own secret key, from which each entry can be recomputed. See docs/SECURITY.md
// for what a hit's timing reveals.
#include <array>
#include <cstddef>
#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <unordered_map>

#include "natter/crypto/keys.hpp"

namespace natter::crypto {

class shared_key_cache {
 public:
  // Keys derived with `own`'s secret; `own` is borrowed and must outlive the cache.
  // capacity 0 disables the cache (every lookup derives).
  shared_key_cache(const key_pair& own, std::size_t capacity);
  ~shared_key_cache();
  shared_key_cache(const shared_key_cache&) = delete;
  shared_key_cache& operator=(const shared_key_cache&) = delete;

  [[nodiscard]] const key_pair& identity() const { return own_; }

  // The long-term shared key with `peer`: the remembered one, or freshly derived (not yet
  // remembered). nullopt if libsodium refuses the peer key (zero or low-order point).
  [[nodiscard]] std::optional<shared_key> derive(const public_key& peer);

  // Remembers `key` as the shared key with `peer` (a peer that has authenticated).
  void remember(const public_key& peer, const shared_key& key);

  struct counters {
    std::uint64_t hits = 0;
    std::uint64_t misses = 0;
    std::size_t entries = 0;
  };
  [[nodiscard]] counters stats() const;

 private:
  struct entry {
    public_key peer;
    secret_bytes key;
  };
  // Public keys are chosen by clients, so buckets are picked by a keyed hash (SipHash-2-4 with a
  // random key): nobody can aim many keys at one bucket.
  struct keyed_hash {
    const std::array<std::uint8_t, 16>* secret;
    std::size_t operator()(const public_key& key) const;
  };
  using lru_list = std::list<entry>;

  const key_pair& own_;
  const std::size_t capacity_;
  std::array<std::uint8_t, 16> hash_key_{};

  mutable std::mutex mutex_;
  lru_list order_;  // most recently used first
  std::unordered_map<public_key, lru_list::iterator, keyed_hash> index_;
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
};

}  // namespace natter::crypto
