#include "natter/server/deferred_flush.hpp"

#include <algorithm>

namespace natter::server {

deferred_flush::deferred_flush(asio::io_context& io, std::chrono::milliseconds delay)
    : delay_(delay), strand_(asio::make_strand(io)), timer_(strand_) {}

void deferred_flush::add(std::weak_ptr<deferred_flush_target> waiting) {
  {
    std::lock_guard lock(mutex_);
    waiting_.push_back(std::move(waiting));
    if (armed_) return;
    armed_ = true;
  }
  asio::post(strand_, [this] {
    timer_.expires_at(std::max(std::chrono::steady_clock::now() + delay_, next_tick_not_before_));
    timer_.async_wait([this](std::error_code ec) {
      if (!ec) on_tick();
    });
  });
}

void deferred_flush::on_tick() {
  std::vector<std::weak_ptr<deferred_flush_target>> due;
  {
    std::lock_guard lock(mutex_);
    due.swap(waiting_);
    armed_ = false;  // the next add() arms the timer again
  }
  next_tick_not_before_ = std::chrono::steady_clock::now() +
                          std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                              std::chrono::duration<double>(static_cast<double>(due.size()) / max_flushes_per_second));
  for (const auto& entry : due) {
    if (const auto s = entry.lock()) s->flush_deferred();
  }
}

}  // namespace natter::server
