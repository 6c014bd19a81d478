#include "natter/crypto/shared_key_cache.hpp"

#include <sodium.h>

#include <cstring>

namespace natter::crypto {

static_assert(crypto_shorthash_KEYBYTES == 16);

std::size_t shared_key_cache::keyed_hash::operator()(const public_key& key) const {
  std::uint8_t out[crypto_shorthash_BYTES];
  crypto_shorthash(out, key.data(), key.size(), secret->data());
  std::uint64_t value = 0;
  std::memcpy(&value, out, sizeof value);
  return static_cast<std::size_t>(value);
}

shared_key_cache::shared_key_cache(const key_pair& own, std::size_t capacity)
    : own_(own), capacity_(capacity), index_(0, keyed_hash{&hash_key_}) {
  crypto_shorthash_keygen(hash_key_.data());
}

// Every entry's key is a secret_bytes and wipes itself as the list is destroyed.
shared_key_cache::~shared_key_cache() { sodium_memzero(hash_key_.data(), hash_key_.size()); }

std::optional<shared_key> shared_key_cache::derive(const public_key& peer) {
  if (capacity_ > 0) {
    std::lock_guard lock(mutex_);
    if (const auto found = index_.find(peer); found != index_.end()) {
      order_.splice(order_.begin(), order_, found->second);  // now the most recently used
      ++hits_;
      return shared_key::from_bytes(std::span<const std::uint8_t, key_size>(found->second->key.data(), key_size));
    }
    ++misses_;
  }
  // Outside the lock: X25519 takes ~30 µs and other handshakes need not wait for it.
  return shared_key::derive(peer, own_.secret);
}

void shared_key_cache::remember(const public_key& peer, const shared_key& key) {
  if (capacity_ == 0) return;
  std::lock_guard lock(mutex_);
  if (const auto found = index_.find(peer); found != index_.end()) {
    order_.splice(order_.begin(), order_, found->second);
    return;  // the same peer key always gives the same shared key
  }
  if (order_.size() >= capacity_) {
    index_.erase(order_.back().peer);
    order_.pop_back();  // its secret_bytes wipes the key
  }
  order_.push_front(entry{peer, {}});
  std::memcpy(order_.front().key.data(), key.data(), key_size);
  index_.emplace(peer, order_.begin());
}

shared_key_cache::counters shared_key_cache::stats() const {
  std::lock_guard lock(mutex_);
  return {hits_, misses_, order_.size()};
}

}  // namespace natter::crypto
