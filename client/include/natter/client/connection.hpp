#pragma once
// One TCP connection to the server, in the shape of Asio's chat client: it resolves, connects and
// then only moves bytes. A read is always pending, so receiving never waits for anything else;
// writes go through a bounded queue with one write in flight. It knows nothing about frames.
//
// Threading: every member function must be called on the thread running the io_context, and
// every handler is called there. Each pending operation holds a shared_ptr to the connection, so
// it lives as long as its I/O.
#include <array>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <asio.hpp>

namespace natter::client {

class connection : public std::enable_shared_from_this<connection> {
 public:
  struct handlers {
    std::function<void()> on_connected;
    std::function<void(std::span<const std::uint8_t>)> on_data;
    // Called exactly once when the connection is over, for whatever reason (also after close()).
    // `connect_failed` tells a failed connect from a lost connection.
    std::function<void(const std::string& reason, bool connect_failed)> on_closed;
  };

  // `max_queued_bytes` bounds what may wait to be written; send() refuses beyond it.
  connection(asio::io_context& io, std::size_t max_queued_bytes, handlers h);

  void start(const std::string& host, std::uint16_t port);

  // Queues bytes for writing. False if that would exceed the queue limit (nothing is queued).
  [[nodiscard]] bool send(std::vector<std::uint8_t> data);

  // Closes once everything queued has been written (a graceful end after our last frame).
  void close_after_writes(std::string reason);
  // Closes now; queued bytes are dropped.
  void close(std::string reason);

 private:
  void on_resolved(const asio::error_code& ec, const asio::ip::tcp::resolver::results_type& results);
  void on_connected(const asio::error_code& ec);
  void do_read();
  void on_read(const asio::error_code& ec, std::size_t n);
  void do_write();
  void on_write(const asio::error_code& ec);
  void finish(const std::string& reason, bool connect_failed = false);

  asio::ip::tcp::resolver resolver_;
  asio::ip::tcp::socket socket_;
  std::size_t max_queued_bytes_;
  handlers handlers_;
  std::string target_;
  std::deque<std::vector<std::uint8_t>> queue_;
  std::size_t queued_bytes_ = 0;
  std::array<std::uint8_t, 16 * 1024> read_buffer_{};
  bool connected_ = false;
  bool closing_ = false;  // close once the queue drains
  std::string closing_reason_;
  bool finished_ = false;
};

}  // namespace natter::client
