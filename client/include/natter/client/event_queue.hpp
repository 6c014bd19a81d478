#pragma once
// A small thread-safe FIFO: the I/O thread pushes, the UI thread pops (with a timeout so the UI
// can also watch its own deadlines). Unbounded on purpose: what goes in is bounded upstream (a
// frame of at most max_frame bytes yields at most max_batch events, and the server paces us).
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <optional>

namespace natter::client {

template <typename T>
class event_queue {
 public:
  void push(T item) {
    {
      std::lock_guard lock(mutex_);
      items_.push_back(std::move(item));
    }
    ready_.notify_one();
  }

  // The oldest item, or nullopt if none arrived within `timeout`.
  [[nodiscard]] std::optional<T> pop(std::chrono::milliseconds timeout) {
    std::unique_lock lock(mutex_);
    if (!ready_.wait_for(lock, timeout, [this] { return !items_.empty(); })) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    return item;
  }

  // The oldest item if there is one, without waiting (a UI that polls several sources).
  [[nodiscard]] std::optional<T> try_pop() {
    std::lock_guard lock(mutex_);
    if (items_.empty()) return std::nullopt;
    T item = std::move(items_.front());
    items_.pop_front();
    return item;
  }

 private:
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<T> items_;
};

}  // namespace natter::client
