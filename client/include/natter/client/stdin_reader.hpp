#pragma once
// Reads lines from standard input on a thread of its own, so that the UI thread never blocks on
// the keyboard and messages keep arriving while the user types.
//
// Backpressure: at most `max_pending` lines are handed over but not yet marked consumed(); the
// reader stops reading until the UI catches up. A huge file piped into natter therefore never
// piles up in memory.
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace natter::client {

// Longest accepted input line. Longer lines are cut here and then refused by the command parser
// as too long (the text limit is 4096 bytes), instead of growing a buffer without bound.
inline constexpr std::size_t max_input_line = 64 * 1024;

class stdin_reader {
 public:
  using line_handler = std::function<void(std::string line)>;
  using end_handler = std::function<void()>;

  stdin_reader(std::size_t max_pending, line_handler on_line, end_handler on_end);
  ~stdin_reader();  // stops and joins
  stdin_reader(const stdin_reader&) = delete;
  stdin_reader& operator=(const stdin_reader&) = delete;

  void start();
  // The UI has dealt with one line.
  void consumed();
  // Stops reading (wakes within a poll interval).
  void stop();

 private:
  void run();

  std::size_t max_pending_;
  line_handler on_line_;
  end_handler on_end_;
  std::mutex mutex_;
  std::condition_variable room_;
  std::size_t pending_ = 0;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace natter::client
