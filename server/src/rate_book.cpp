#include "natter/server/rate_book.hpp"

#include <algorithm>

namespace natter::server {

std::size_t rate_book::key_hash::operator()(const std::array<std::uint8_t, 32>& key) const noexcept {
  // Identity keys are public and chosen by their owners, so a plain prefix could be steered
  // into one bucket of the table; mixing all 32 bytes with a per-process seed would be better
  // still, but the table's size is capped, so the worst case is bounded work per join.
  std::size_t h = 1469598103934665603ull;
  for (const std::uint8_t b : key) h = (h ^ b) * 1099511628211ull;
  return h;
}

rate_book::rate_book(double rate_per_second, double burst, std::size_t capacity)
    : rate_(rate_per_second), burst_(burst), capacity_(std::max<std::size_t>(capacity, 1)) {}

std::shared_ptr<rate_bucket> rate_book::bucket_for(const crypto::ed25519_public_key& identity) {
  std::lock_guard lock(mutex_);
  if (const auto it = buckets_.find(identity.bytes); it != buckets_.end()) {
    order_.splice(order_.begin(), order_, it->second.position);
    return it->second.bucket;
  }
  if (buckets_.size() >= capacity_) {
    buckets_.erase(order_.back());
    order_.pop_back();
  }
  order_.push_front(identity.bytes);
  auto bucket = std::make_shared<rate_bucket>(rate_, burst_);
  buckets_.emplace(identity.bytes, entry{bucket, order_.begin()});
  return bucket;
}

std::size_t rate_book::size() const {
  std::lock_guard lock(mutex_);
  return buckets_.size();
}

}  // namespace natter::server
