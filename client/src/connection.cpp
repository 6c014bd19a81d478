#include "natter/client/connection.hpp"

namespace natter::client {

connection::connection(asio::io_context& io, std::size_t max_queued_bytes, handlers h)
    : resolver_(io), socket_(io), max_queued_bytes_(max_queued_bytes), handlers_(std::move(h)) {}

void connection::start(const std::string& host, std::uint16_t port) {
  target_ = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  resolver_.async_resolve(host, std::to_string(port),
                          [self = shared_from_this()](const asio::error_code& ec, auto results) {
                            self->on_resolved(ec, results);
                          });
}

void connection::on_resolved(const asio::error_code& ec,
                             const asio::ip::tcp::resolver::results_type& results) {
  if (finished_) return;
  if (ec) return finish("cannot resolve " + target_ + ": " + ec.message(), true);
  asio::async_connect(socket_, results,
                      [self = shared_from_this()](const asio::error_code& error, const auto&) {
                        self->on_connected(error);
                      });
}

void connection::on_connected(const asio::error_code& ec) {
  if (finished_) return;
  if (ec) return finish("cannot connect to " + target_ + ": " + ec.message(), true);
  connected_ = true;
  // Chat lines are small and interactive: do not let Nagle hold them back.
  asio::error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  if (handlers_.on_connected) handlers_.on_connected();
  if (finished_) return;
  do_read();
  if (!queue_.empty()) do_write();
}

void connection::do_read() {
  socket_.async_read_some(asio::buffer(read_buffer_),
                          [self = shared_from_this()](const asio::error_code& ec, std::size_t n) {
                            self->on_read(ec, n);
                          });
}

void connection::on_read(const asio::error_code& ec, std::size_t n) {
  if (finished_) return;
  if (ec) {
    return finish(ec == asio::error::eof ? "the server closed the connection" : "read failed: " + ec.message());
  }
  handlers_.on_data(std::span<const std::uint8_t>(read_buffer_.data(), n));
  if (!finished_) do_read();
}

bool connection::send(std::vector<std::uint8_t> data) {
  if (finished_ || closing_) return false;
  if (data.empty()) return true;
  if (queued_bytes_ + data.size() > max_queued_bytes_) return false;
  queued_bytes_ += data.size();
  queue_.push_back(std::move(data));
  // One write in flight: start one only if the queue was empty (and we are connected).
  if (queue_.size() == 1 && connected_) do_write();
  return true;
}

void connection::do_write() {
  asio::async_write(socket_, asio::buffer(queue_.front()),
                    [self = shared_from_this()](const asio::error_code& ec, std::size_t) {
                      self->on_write(ec);
                    });
}

void connection::on_write(const asio::error_code& ec) {
  if (finished_) return;
  if (ec) return finish("write failed: " + ec.message());
  queued_bytes_ -= queue_.front().size();
  queue_.pop_front();
  if (!queue_.empty()) {
    do_write();
  } else if (closing_) {
    finish(closing_reason_);
  }
}

void connection::close_after_writes(std::string reason) {
  if (finished_ || closing_) return;
  closing_ = true;
  closing_reason_ = std::move(reason);
  if (queue_.empty() || !connected_) finish(closing_reason_);
}

void connection::close(std::string reason) { finish(reason); }

void connection::finish(const std::string& reason, bool connect_failed) {
  if (finished_) return;
  finished_ = true;
  asio::error_code ignored;
  resolver_.cancel();
  if (socket_.is_open()) {
    socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    socket_.close(ignored);  // pending operations complete with operation_aborted and stop
  }
  queue_.clear();
  queued_bytes_ = 0;
  if (handlers_.on_closed) handlers_.on_closed(reason, connect_failed);
}

}  // namespace natter::client
