#include "natter/server/connection_set.hpp"

namespace natter::server {

void connection_set::add(std::uint64_t id, const std::shared_ptr<participant>& connection) {
  std::lock_guard lock(mutex_);
  connections_.emplace(id, connection);
  // Drop entries of ended connections now and then, so the map tracks the live count.
  if (connections_.size() >= 2 * live_at_last_prune_ + 64) {
    std::erase_if(connections_, [](const auto& entry) { return entry.second.expired(); });
    live_at_last_prune_ = connections_.size();
  }
}

std::vector<std::shared_ptr<participant>> connection_set::all() {
  std::vector<std::shared_ptr<participant>> out;
  std::lock_guard lock(mutex_);
  for (auto it = connections_.begin(); it != connections_.end();) {
    if (auto c = it->second.lock()) {
      out.push_back(std::move(c));
      ++it;
    } else {
      it = connections_.erase(it);
    }
  }
  return out;
}

std::size_t connection_set::size() { return all().size(); }

}  // namespace natter::server
