#pragma once
// How the server's heap gives memory back (glibc only; elsewhere this does nothing).
//
// Bursts allocate and free write buffers of up to a few hundred kilobytes. Left to itself glibc
// returns such memory at once (munmap, or brk when the top of the heap is free) and the next
// burst faults it in again, page by zeroed page: 5 % of the server's CPU at 50-way fan-out. So
// large blocks stay in the heap (mallopt), and a timer returns what is free every few seconds
// instead (malloc_trim): joins and bursts leave many freed pages resident, and an idle server
// would otherwise hold its high-water mark (about 20 KB per connection at 2 000 connections, of
// which 2.5 KB is live). Once every few seconds the trim costs next to nothing.
#include <asio.hpp>

#include <chrono>

namespace natter::server {

class heap_policy {
 public:
  static constexpr std::chrono::seconds trim_interval{5};

  explicit heap_policy(asio::strand<asio::io_context::executor_type> executor) : timer_(executor) {}

  // Sets the allocator's thresholds and starts the trim timer.
  void start();
  // Cancels the timer (from its executor).
  void stop();

 private:
  void schedule_trim();

  asio::steady_timer timer_;
};

}  // namespace natter::server
