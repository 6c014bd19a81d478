#include "natter/server/console_reader.hpp"

#include <unistd.h>

#include <istream>

#include "natter/server/log.hpp"

namespace natter::server {

console_reader::console_reader(asio::strand<asio::io_context::executor_type> executor, int fd,
                               line_handler handler)
    : input_(executor, fd), handler_(std::move(handler)) {}

void console_reader::start() { read_line(); }

void console_reader::close() {
  closed_ = true;
  std::error_code ec;
  input_.close(ec);
}

void console_reader::read_line() {
  asio::async_read_until(input_, buffer_, '\n', [this](std::error_code ec, std::size_t) {
    if (ec) {
      if (ec == asio::error::eof) log_info("console closed (EOF); server keeps running");
      return;
    }
    std::istream in(&buffer_);
    std::string line;
    std::getline(in, line);
    const std::string answer = handler_(line);
    if (!answer.empty()) {
      const ssize_t n = ::write(STDOUT_FILENO, answer.data(), answer.size());
      (void)n;  // nowhere left to report a failing stdout
    }
    if (!closed_) read_line();
  });
}

}  // namespace natter::server
