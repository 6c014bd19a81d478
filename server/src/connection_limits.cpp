#include "natter/server/connection_limits.hpp"

namespace natter::server {

std::unique_ptr<connection_limits::slot> connection_limits::try_acquire(const std::string& address,
                                                                        refusal& why) {
  std::lock_guard lock(mutex_);
  if (max_total_ && total_ >= max_total_) {
    why = refusal::server_full;
    return nullptr;
  }
  auto& count = per_address_[address];
  if (max_per_address_ && count >= max_per_address_) {
    if (count == 0) per_address_.erase(address);
    why = refusal::address_full;
    return nullptr;
  }
  ++count;
  ++total_;
  why = refusal::none;
  return std::make_unique<slot>(shared_from_this(), address);
}

void connection_limits::release(const std::string& address) {
  std::lock_guard lock(mutex_);
  --total_;
  if (const auto it = per_address_.find(address); it != per_address_.end() && --it->second == 0) {
    per_address_.erase(it);
  }
}

std::size_t connection_limits::total() const {
  std::lock_guard lock(mutex_);
  return total_;
}

}  // namespace natter::server
