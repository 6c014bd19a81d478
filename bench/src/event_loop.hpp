#pragma once
// A minimal single-threaded epoll loop: file descriptors registered edge-triggered for reading
// and writing, each with a handler. One thread drives every bench connection.
#include <sys/epoll.h>

#include <chrono>
#include <cstdint>

namespace natter::bench {

class io_handler {
 public:
  virtual ~io_handler() = default;
  virtual void on_io(std::uint32_t events) = 0;
};

class event_loop {
 public:
  event_loop();
  ~event_loop();
  event_loop(const event_loop&) = delete;
  event_loop& operator=(const event_loop&) = delete;

  // Registers `fd` for EPOLLIN | EPOLLOUT | EPOLLRDHUP, edge-triggered.
  void add(int fd, io_handler* handler);
  void remove(int fd);
  // Waits up to `timeout` (0: do not wait) and dispatches what is ready; returns the event count.
  int poll(std::chrono::milliseconds timeout);

 private:
  int epoll_fd_ = -1;
};

[[nodiscard]] inline std::int64_t mono_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace natter::bench
