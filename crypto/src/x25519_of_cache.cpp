#include "natter/crypto/x25519_of_cache.hpp"

#include <algorithm>
#include <cstring>

namespace natter::crypto {

std::size_t x25519_of_cache::key_hash::operator()(const key_bytes& key) const noexcept {
  // Keys are chosen by their owners, but a key that collides costs its maker only a slower
  // lookup in a table whose size is capped; the first 8 bytes of a point are as good as any.
  std::size_t h = 0;
  std::memcpy(&h, key.data(), sizeof h);
  return h;
}

x25519_of_cache::x25519_of_cache(std::size_t capacity) : capacity_(std::max<std::size_t>(capacity, 1)) {}

std::optional<public_key> x25519_of_cache::convert(const ed25519_public_key& key) {
  {
    std::lock_guard lock(mutex_);
    if (const auto it = entries_.find(key.bytes); it != entries_.end()) {
      order_.splice(order_.begin(), order_, it->second.position);
      ++hits_;
      return it->second.converted;
    }
  }
  auto converted = x25519_of(key);  // outside the lock: the expensive part
  std::lock_guard lock(mutex_);
  if (entries_.count(key.bytes)) return converted;  // another thread was quicker
  if (entries_.size() >= capacity_) {
    entries_.erase(order_.back());
    order_.pop_back();
  }
  order_.push_front(key.bytes);
  entries_.emplace(key.bytes, entry{converted, order_.begin()});
  return converted;
}

std::size_t x25519_of_cache::size() const {
  std::lock_guard lock(mutex_);
  return entries_.size();
}

std::uint64_t x25519_of_cache::hits() const {
  std::lock_guard lock(mutex_);
  return hits_;
}

}  // namespace natter::crypto
