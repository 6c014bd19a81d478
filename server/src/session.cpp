#include "natter/server/session.hpp"

#include <array>

#include "natter/server/log.hpp"

namespace natter::server {

namespace {
// The core's deadlines are natter::steady_ms values: std::chrono::steady_clock's milliseconds.
std::chrono::steady_clock::time_point steady_time(std::int64_t steady_ms) {
  return std::chrono::steady_clock::time_point(std::chrono::milliseconds(steady_ms));
}
}  // namespace

session::session(asio::ip::tcp::socket socket, std::string address, shared_state& state,
                 std::unique_ptr<connection_limits::slot> slot, std::uint64_t id,
                 std::optional<std::string> admission_refusal)
    : socket_(std::move(socket)),
      timer_(socket_.get_executor()),
      state_(state),
      slot_(std::move(slot)),
      id_(id),
      core_(state.core, std::move(address), std::move(admission_refusal)),
      queue_(state.queue) {}

session::~session() = default;

void session::start() {
  std::error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  socket_.non_blocking(true, ec);  // reads are drained with read_some after async_wait
  state_.sessions.add(id_, shared_from_this());
  log_debug("connection from ", core_.address());
  core_.start(weak_from_this());  // the server's hello
  arm_timer(steady_time(core_.deadline_ms()));
  (void)queue_.schedule_write();  // nothing else can have scheduled one yet
  do_write();
  do_read();
}

// ---- reading -----------------------------------------------------------------------------------

void session::do_read() {
  // Waiting for readability instead of reading into a per-session buffer keeps an idle
  // connection's memory small: the bytes land in one buffer per thread.
  socket_.async_wait(asio::ip::tcp::socket::wait_read,
                     [self = shared_from_this()](std::error_code ec) { self->on_readable(ec); });
}

void session::on_readable(std::error_code ec) {
  if (ec) {
    if (ec != asio::error::operation_aborted) close(leave_reason::dropped, ec.message(), false);
    return;
  }
  thread_local std::array<std::uint8_t, 64 * 1024> buffer;
  for (;;) {
    const std::size_t n = socket_.read_some(asio::buffer(buffer), ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) break;
    if (ec) {
      // End of stream without a quit: the others hear "dropped", not a clean goodbye.
      close(leave_reason::dropped, ec == asio::error::eof ? "connection closed without quit" : ec.message(), false);
      return;
    }
    if (core_.closing()) return;  // after quit or an error, input is ignored
    on_input(core_.on_bytes(std::span(buffer.data(), n)));
    if (core_.closing()) return;
    if (n < buffer.size()) break;
  }
  do_read();
}

void session::on_input(const input_result& result) {
  if (result.joined) arm_timer(steady_time(core_.deadline_ms()));  // from the handshake timeout to the idle one
  if (result.close) {
    finish_close(*result.close);
  } else if (result.handshake_output) {
    if (queue_.schedule_write()) post_write();
  }
}

// ---- writing -----------------------------------------------------------------------------------

void session::deliver(shared_message message) { enqueue(std::move(message), false); }

void session::deliver_soon(shared_message message) { enqueue(std::move(message), state_.deferred != nullptr); }

void session::enqueue(shared_message message, bool may_wait) {
  switch (queue_.push(std::move(message), may_wait)) {
    case outgoing_queue::push_outcome::refused:
    case outgoing_queue::push_outcome::queued:
      break;
    case outgoing_queue::push_outcome::write:
      post_write();
      break;
    case outgoing_queue::push_outcome::wait:
      state_.deferred->add(weak_from_this());
      break;
    case outgoing_queue::push_outcome::overflow:
      asio::post(socket_.get_executor(), [self = shared_from_this()] {
        log_warn("disconnecting ", self->core_.who(), ": too slow (outgoing queue full)");
        self->close(leave_reason::too_slow, "you were disconnected: not reading fast enough", true);
      });
      break;
  }
}

void session::flush_deferred() {
  if (queue_.flush_deferred()) post_write();
}

void session::post_write() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->do_write(); });
}

void session::do_write() {
  if (write_in_flight_ || socket_closed_) return;
  std::vector<shared_message> batch;
  if (!queue_.take(batch, core_.has_handshake_output())) {
    // Nothing to write: an idle connection keeps no write buffer (memory per idle connection).
    // (Assigning bytes{}, not {}: `v = {}` picks the initializer_list overload, keeping capacity.)
    write_buffer_ = bytes{};
    if (close_after_flush_) hard_close();  // everything, the goodbye included, is written
    return;
  }
  if (auto exhausted = core_.write_output(batch, write_buffer_)) {
    // Write what was sealed, then close: nothing more can be sealed under this session's keys.
    queue_.shut(nullptr);
    close_after_flush_ = true;
  }
  if (write_buffer_.empty()) {
    post_write();
    return;
  }
  write_in_flight_ = true;
  asio::async_write(socket_, asio::buffer(write_buffer_),
                    [self = shared_from_this()](std::error_code ec, std::size_t) { self->on_write(ec); });
}

void session::on_write(std::error_code ec) {
  write_in_flight_ = false;
  if (ec) {
    if (ec != asio::error::operation_aborted) close(leave_reason::dropped, ec.message(), false);
    return;
  }
  // The buffer is kept while more is pending (a burst would otherwise map, fault in and unmap a
  // fresh few hundred kilobytes per write); do_write() frees it once nothing is. Its size is
  // bounded by the queue limits (--queue-bytes plus framing).
  do_write();
}

// ---- timers and closing -------------------------------------------------------------------------

void session::arm_timer(std::chrono::steady_clock::time_point when) {
  timer_.expires_at(when);
  timer_.async_wait([self = shared_from_this()](std::error_code ec) { self->on_timer(ec); });
}

void session::on_timer(std::error_code ec) {
  if (ec == asio::error::operation_aborted || socket_closed_) return;
  if (core_.closing()) {
    log_debug("closing ", core_.who(), ": goodbye not flushed in time");
    hard_close(/*abort=*/true);
  } else if (auto request = core_.on_deadline()) {
    finish_close(*request);
  } else {
    arm_timer(steady_time(core_.deadline_ms()));
  }
}

void session::disconnect(leave_reason reason, std::string message) {
  asio::post(socket_.get_executor(), [self = shared_from_this(), reason, message = std::move(message)] {
    self->close(reason, message, true);
  });
}

void session::close(leave_reason reason, std::string message, bool say_bye) {
  if (auto request = core_.close(reason, std::move(message), say_bye)) finish_close(*request);
}

void session::finish_close(const close_request& request) {
  queue_.shut(request.bye);
  if (!request.say_bye || (!request.bye && !core_.has_handshake_output())) {
    hard_close();
    return;
  }
  // Flush what is queued (the bye, a refusal), then close; bounded by the linger timer.
  close_after_flush_ = true;
  arm_timer(std::chrono::steady_clock::now() + state_.linger);
  if (queue_.schedule_write()) do_write();
}

void session::hard_close(bool abort) {
  if (socket_closed_) return;
  socket_closed_ = true;
  std::error_code ec;
  timer_.cancel();
  // A peer that would not read its goodbye in time gets a reset: the kernel must not keep
  // megabytes of unsent backlog alive for it.
  if (abort) socket_.set_option(asio::socket_base::linger(true, 0), ec);
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ec);
  socket_.close(ec);
  queue_.clear();
}

}  // namespace natter::server
