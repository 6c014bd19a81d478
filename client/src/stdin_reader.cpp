#include "natter/client/stdin_reader.hpp"

#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

namespace natter::client {

stdin_reader::stdin_reader(std::size_t max_pending, line_handler on_line, end_handler on_end)
    : max_pending_(max_pending), on_line_(std::move(on_line)), on_end_(std::move(on_end)) {}

stdin_reader::~stdin_reader() {
  stop();
  if (thread_.joinable()) thread_.join();
}

void stdin_reader::start() { thread_ = std::thread([this] { run(); }); }

void stdin_reader::consumed() {
  {
    std::lock_guard lock(mutex_);
    if (pending_ > 0) --pending_;
  }
  room_.notify_one();
}

void stdin_reader::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  room_.notify_one();
}

void stdin_reader::run() {
  std::string line;
  char buffer[4096];
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      room_.wait(lock, [this] { return stop_ || pending_ < max_pending_; });
      if (stop_) return;
    }
    // poll with a timeout instead of a blocking read, so stop() is noticed even while the user
    // types nothing.
    pollfd fd{STDIN_FILENO, POLLIN, 0};
    const int ready = ::poll(&fd, 1, 100);
    if (ready < 0 && errno != EINTR) break;
    if (ready <= 0) continue;
    const auto n = ::read(STDIN_FILENO, buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      break;
    }
    if (n == 0) break;  // end of input (Ctrl-D on a terminal)
    for (ssize_t i = 0; i < n; ++i) {
      const char c = buffer[i];
      if (c != '\n') {
        if (line.size() < max_input_line) line.push_back(c);  // the excess is dropped
        continue;
      }
      {
        std::lock_guard lock(mutex_);
        ++pending_;
      }
      // One read may hold several lines, so pending_ can pass max_pending_ by a chunk's worth:
      // still bounded.
      on_line_(std::exchange(line, {}));
    }
  }
  if (!line.empty()) {
    std::lock_guard lock(mutex_);
    ++pending_;
  }
  if (!line.empty()) on_line_(std::move(line));  // a last line without newline still counts
  on_end_();
}

}  // namespace natter::client
