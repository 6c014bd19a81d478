#pragma once
// The operator console's terminal side: reads lines from a file descriptor (a dup of stdin) on
// the server's control strand, hands each to a handler and prints the handler's answer on
// stdout. What a line means is console_commands.hpp's job.
#include <asio.hpp>

#include <functional>
#include <string>

namespace natter::server {

class console_reader {
 public:
  // Returns the text to print for a line (empty: nothing).
  using line_handler = std::function<std::string(const std::string& line)>;

  // Takes ownership of `fd`. Every handler runs on `executor` (the server's control strand).
  console_reader(asio::strand<asio::io_context::executor_type> executor, int fd, line_handler handler);

  void start();
  // Stops reading (from the control strand); a read in progress ends with operation_aborted.
  void close();

 private:
  void read_line();

  asio::posix::stream_descriptor input_;
  asio::streambuf buffer_;
  line_handler handler_;
  bool closed_ = false;
};

}  // namespace natter::server
