#include "event_loop.hpp"

#include <unistd.h>

#include <array>
#include <stdexcept>
#include <system_error>

namespace natter::bench {

event_loop::event_loop() : epoll_fd_(::epoll_create1(EPOLL_CLOEXEC)) {
  if (epoll_fd_ < 0) throw std::system_error(errno, std::generic_category(), "epoll_create1");
}

event_loop::~event_loop() { ::close(epoll_fd_); }

void event_loop::add(int fd, io_handler* handler) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = handler;
  if (::epoll_ctl(epoll_fd_, EPOLL_CTL_ADD, fd, &ev) != 0) {
    throw std::system_error(errno, std::generic_category(), "epoll_ctl");
  }
}

void event_loop::remove(int fd) { ::epoll_ctl(epoll_fd_, EPOLL_CTL_DEL, fd, nullptr); }

int event_loop::poll(std::chrono::milliseconds timeout) {
  std::array<epoll_event, 256> events;
  const int n = ::epoll_wait(epoll_fd_, events.data(), static_cast<int>(events.size()),
                             static_cast<int>(timeout.count()));
  for (int i = 0; i < n; ++i) static_cast<io_handler*>(events[i].data.ptr)->on_io(events[i].events);
  return n < 0 ? 0 : n;
}

}  // namespace natter::bench
