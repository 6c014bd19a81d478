#pragma once
// The message rate limit per identity (docs/PROTOCOL.md "Rate limit"): one token bucket per
// identity key, kept by the server across that identity's connections, so reconnecting does not
// refill it (protocol 1 kept a bucket per connection, and reconnecting every 40 messages sent
// ~17 000 messages a second through a 20/s limit).
//
// A connection takes its identity's bucket once, at join, and keeps it (a shared_ptr) while it
// lives; the book remembers the buckets of the last `capacity` identities to join (least
// recently joined forgotten first), so its memory is bounded whatever strangers do. A
// forgotten identity starts with a full bucket: that takes `capacity` other identities
// joining in between.
//
// Thread-safe: the book behind a mutex (taken once per join), each bucket behind its own (taken
// per message; uncontended unless one identity is joined under two names at once).
#include <array>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "natter/crypto/identity_v2.hpp"
#include "natter/rate_limiter.hpp"

namespace natter::server {

class rate_bucket {
 public:
  rate_bucket(double rate_per_second, double burst) : limiter_(rate_per_second, burst) {}
  // True if a message at `now_ms` (steady clock) is allowed, taking a token.
  [[nodiscard]] bool allow(std::int64_t now_ms) {
    std::lock_guard lock(mutex_);
    return limiter_.allow(now_ms);
  }

 private:
  std::mutex mutex_;
  rate_limiter limiter_;
};

class rate_book {
 public:
  static constexpr std::size_t default_capacity = 65536;

  // rate <= 0: no limit (every bucket allows everything).
  rate_book(double rate_per_second, double burst, std::size_t capacity = default_capacity);

  // The bucket of `identity`, made full if the book does not remember it. Never null.
  [[nodiscard]] std::shared_ptr<rate_bucket> bucket_for(const crypto::ed25519_public_key& identity);

  [[nodiscard]] std::size_t size() const;

 private:
  struct key_hash {
    std::size_t operator()(const std::array<std::uint8_t, 32>& key) const noexcept;
  };
  using lru = std::list<std::array<std::uint8_t, 32>>;  // most recently joined first
  struct entry {
    std::shared_ptr<rate_bucket> bucket;
    lru::iterator position;
  };

  double rate_;
  double burst_;
  std::size_t capacity_;
  mutable std::mutex mutex_;
  lru order_;
  std::unordered_map<std::array<std::uint8_t, 32>, entry, key_hash> buckets_;
};

}  // namespace natter::server
