#include "natter/server/session.hpp"

#include <array>

#include "natter/crypto/fingerprint.hpp"
#include "natter/limits.hpp"
#include "natter/message_build.hpp"
#include "natter/message_parse.hpp"
#include "natter/server/log.hpp"

namespace natter::server {

namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string endpoint_text(const asio::ip::tcp::endpoint& remote) {
  const auto ip = remote.address();
  return (ip.is_v6() ? "[" + ip.to_string() + "]" : ip.to_string()) + ":" + std::to_string(remote.port());
}

// Frames natter sends stay within the default limit every client accepts, whatever this
// server's own --max-frame is.
constexpr std::size_t max_outgoing_plaintext = limits::default_max_frame - crypto::session_overhead;

// Held presence notices leave without waiting for the timer once this many are queued: enough
// to make a batch frame worth its seal and syscall, few enough (~8 KB) to stay far below the
// queue limits that would cut a client off as too slow.
constexpr std::size_t deferred_flush_count = 64;

template <typename... Ts>
struct overloaded : Ts... {
  using Ts::operator()...;
};

}  // namespace

// ---- session_set -------------------------------------------------------------------------------

void session_set::add(std::uint64_t id, const std::shared_ptr<session>& s) {
  std::lock_guard lock(mutex_);
  sessions_.emplace(id, s);
  // Drop entries of ended sessions now and then, so the map tracks the live count.
  if (sessions_.size() >= 2 * live_at_last_prune_ + 64) {
    std::erase_if(sessions_, [](const auto& entry) { return entry.second.expired(); });
    live_at_last_prune_ = sessions_.size();
  }
}

std::vector<std::shared_ptr<session>> session_set::all() {
  std::vector<std::shared_ptr<session>> out;
  std::lock_guard lock(mutex_);
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (auto s = it->second.lock()) {
      out.push_back(std::move(s));
      ++it;
    } else {
      it = sessions_.erase(it);
    }
  }
  return out;
}

std::size_t session_set::size() {
  // Counting prunes: sessions do not deregister themselves, so that a session destroyed late
  // (during shutdown) never touches state that may already be gone.
  return all().size();
}

// ---- session -----------------------------------------------------------------------------------

session::session(asio::ip::tcp::socket socket, const asio::ip::tcp::endpoint& remote, shared_state& state,
                 std::unique_ptr<connection_limits::slot> slot, std::uint64_t id)
    : socket_(std::move(socket)),
      timer_(socket_.get_executor()),
      state_(state),
      slot_(std::move(slot)),
      id_(id),
      address_(endpoint_text(remote)),
      decoder_(state.settings.max_frame),
      handshake_(crypto::role::server, state.identity, &state.long_term_keys),
      rate_(state.settings.rate_per_second, state.settings.rate_burst) {}

session::~session() = default;

void session::start() {
  std::error_code ec;
  socket_.set_option(asio::ip::tcp::no_delay(true), ec);
  socket_.non_blocking(true, ec);  // reads are drained with read_some after async_wait
  state_.sessions.add(id_, shared_from_this());
  log_debug("connection from ", address_);
  last_frame_ = std::chrono::steady_clock::now();
  arm_timer(last_frame_ + state_.settings.handshake_timeout);
  for (auto& frame : handshake_.start()) {
    append_frame_header(raw_out_, frame.size());
    raw_out_.insert(raw_out_.end(), frame.begin(), frame.end());
  }
  {
    std::lock_guard lock(queue_mutex_);
    write_scheduled_ = true;
  }
  do_write();
  do_read();
}

std::string session::who() const { return name_.empty() ? address_ : name_ + " (" + address_ + ")"; }

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
      if (phase_ != phase::closing) {
        close(leave_reason::dropped, ec == asio::error::eof ? "connection closed without quit" : ec.message(),
              false);
      }
      return;
    }
    if (phase_ == phase::closing) return;  // after quit or an error, input is ignored
    decoder_.feed(std::span(buffer.data(), n));
    bytes body;
    for (;;) {
      const decode_status status = decoder_.next(body);
      if (status == decode_status::need_more) break;
      if (status != decode_status::frame) {
        log_warn("closing ", who(), ": ", to_string(status), " (limit ", decoder_.max_body(), " bytes)");
        close(leave_reason::protocol_error, std::string(to_string(status)), true);
        return;
      }
      last_frame_ = std::chrono::steady_clock::now();
      handle_frame(body);
      if (phase_ == phase::closing) return;
    }
    if (n < buffer.size()) break;
  }
  do_read();
}

void session::handle_frame(std::span<const std::uint8_t> body) {
  if (phase_ == phase::handshake) {
    handle_handshake_frame(body);
    return;
  }
  crypto::opened_frame opened = cipher_->open(body);
  if (opened.status != crypto::open_status::ok) {
    log_warn("closing ", who(), ": ", crypto::to_string(opened.status));
    close(leave_reason::protocol_error, std::string(crypto::to_string(opened.status)), true);
    return;
  }
  for (auto& item : parse_client_frame(opened.plaintext, {state_.settings.max_text})) {
    if (auto* error = std::get_if<message_error>(&item)) {
      log_debug("refused a message from ", who(), ": ", error->code);
      send_error(*error);
    } else {
      handle_request(std::move(std::get<client_message>(item)));
    }
    if (phase_ == phase::closing) return;
  }
}

void session::handle_handshake_frame(std::span<const std::uint8_t> body) {
  for (auto& frame : handshake_.on_frame(body)) {
    append_frame_header(raw_out_, frame.size());
    raw_out_.insert(raw_out_.end(), frame.begin(), frame.end());
  }
  switch (handshake_.current()) {
    case crypto::handshake::state::failed:
      log_warn("handshake with ", address_, " failed: ", handshake_.error());
      close(leave_reason::protocol_error, handshake_.error(), true);  // flushes a refusal
      return;
    case crypto::handshake::state::established:
      cipher_.emplace(handshake_.take_cipher());
      if (state_.keylog) state_.keylog->append(handshake_.connection_id(), cipher_->key());
      phase_ = phase::awaiting_join;
      // Checked here: the arguments (a SHA-256) would be computed even with debug off.
      if (logger::enabled(log_level::debug)) {
        log_debug("handshake with ", address_, " complete, client key ",
                  crypto::fingerprint(handshake_.peer_key()));
      }
      break;
    default:
      break;
  }
  std::lock_guard lock(queue_mutex_);
  if (write_scheduled_) return;
  write_scheduled_ = true;
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->do_write(); });
}

void session::handle_request(client_message&& request) {
  const bool joined = phase_ == phase::joined;
  std::visit(
      overloaded{
          [&](join_request& m) {
            if (joined) send_error({std::string(errc::already_joined), "you have already joined as " + name_, m.ref});
            else handle_join(std::move(m));
          },
          [&](say_request& m) {
            if (!joined) return send_error({std::string(errc::not_joined), "join first", m.ref});
            if (!rate_.allow(now_ms())) {
              return send_error({std::string(errc::rate_limited), "too many messages; slow down", m.ref});
            }
            answer(state_.routes.say(name_, this, std::move(m.text), m.ref));
          },
          [&](whisper_request& m) {
            if (!joined) return send_error({std::string(errc::not_joined), "join first", m.ref});
            if (!rate_.allow(now_ms())) {
              return send_error({std::string(errc::rate_limited), "too many messages; slow down", m.ref});
            }
            answer(state_.routes.whisper(name_, m.to, std::move(m.text), m.ref));
          },
          [&](users_request& m) {
            if (!joined) return send_error({std::string(errc::not_joined), "join first", m.ref});
            for (auto& message : state_.routes.users(m.ref)) deliver(std::move(message));
          },
          [&](whois_request& m) {
            if (!joined) return send_error({std::string(errc::not_joined), "join first", m.ref});
            const auto answer = state_.routes.whois(m.name, m.ref);
            if (const auto* error = std::get_if<message_error>(&answer)) send_error(*error);
            else send(server_message{std::get<whois_event>(answer)});
          },
          [&](ping_request& m) { send(server_message{pong_event{m.ref}}); },
          [&](quit_request&) { close(leave_reason::quit, "goodbye", true); },
      },
      request);
}

void session::handle_join(join_request&& request) {
  auto result = state_.routes.join(shared_from_this(), request.name, handshake_.peer_key(), address_, request.ref);
  if (const auto* error = std::get_if<message_error>(&result)) {
    log_info("refused join as ", request.name, " from ", address_, ": ", error->code);
    send_error(*error);
    return;
  }
  auto& accepted = std::get<joined>(result);
  name_ = accepted.name;
  phase_ = phase::joined;
  log_info(name_, " joined from ", address_, " key ", accepted.fingerprint);
  for (auto& message : accepted.welcome_messages) deliver(std::move(message));
  arm_timer(last_frame_ + state_.settings.idle_timeout);
}

void session::send(const server_message& message) {
  deliver(std::make_shared<const std::string>(build(message)));
}

void session::answer(const send_result& result) {
  if (const auto* error = std::get_if<message_error>(&result)) send_error(*error);
  else send(server_message{std::get<ack_event>(result)});
}

void session::send_error(const message_error& error) {
  send(server_message{error_event{error.code, error.message, error.ref}});
}

// ---- writing -----------------------------------------------------------------------------------

void session::deliver(shared_message message) { enqueue(std::move(message), false); }

void session::deliver_soon(shared_message message) { enqueue(std::move(message), state_.deferred != nullptr); }

void session::enqueue(shared_message message, bool may_wait) {
  bool post_write = false;
  bool overflow = false;
  bool wait_for_flush = false;
  {
    std::lock_guard lock(queue_mutex_);
    if (!accepting_deliveries_) return;
    if (pending_.size() >= state_.settings.queue_messages ||
        pending_bytes_ + message->size() > state_.settings.queue_bytes) {
      // The client does not read fast enough. Stop queueing now (memory stays bounded) and
      // let the strand cut it off; everybody else keeps receiving.
      accepting_deliveries_ = false;
      overflow = true;
    } else {
      pending_bytes_ += message->size();
      pending_.push_back(std::move(message));
      // Held messages leave when a write happens anyway, when the deferred timer fires, or once
      // there are enough of them to fill a batch frame.
      if (!write_scheduled_ && may_wait && pending_.size() < deferred_flush_count) {
        wait_for_flush = !deferred_waiting_;
        deferred_waiting_ = true;
      } else {
        post_write = !write_scheduled_;
        write_scheduled_ = true;
      }
    }
  }
  if (wait_for_flush) state_.deferred->add(weak_from_this());
  if (overflow) {
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      log_warn("disconnecting ", self->who(), ": too slow (outgoing queue full)");
      self->close(leave_reason::too_slow, "you were disconnected: not reading fast enough", true);
    });
  } else if (post_write) {
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->do_write(); });
  }
}

void session::flush_deferred() {
  {
    std::lock_guard lock(queue_mutex_);
    deferred_waiting_ = false;
    if (write_scheduled_ || pending_.empty() || !accepting_deliveries_) return;
    write_scheduled_ = true;
  }
  asio::post(socket_.get_executor(), [self = shared_from_this()] { self->do_write(); });
}

void session::append_sealed(std::vector<shared_message>& batch) {
  // Pack queued messages into as few frames as fit: one seal and one MAC per frame. Each frame's
  // plaintext ("[m1,m2,...]", or a lone message as is) is assembled straight into the write
  // buffer and sealed in place, so every message is copied exactly once, with one allocation.
  std::size_t total = 0;
  for (const auto& message : batch) total += message->size() + 1;
  write_buffer_.reserve(write_buffer_.size() + total + (total / max_outgoing_plaintext + 1) * 64);
  std::size_t first = 0;
  while (first < batch.size()) {
    std::size_t end = first + 1;
    std::size_t size = 2 + batch[first]->size() + 1;  // brackets, message, comma
    while (end < batch.size() && end - first < limits::max_batch &&
           size + batch[end]->size() + 1 <= max_outgoing_plaintext) {
      size += batch[end]->size() + 1;
      ++end;
    }
    // Inserted as bytes, not as chars: a char -> uint8_t range is copied element by element.
    const auto append = [this](const std::string& text) {
      const auto* p = reinterpret_cast<const std::uint8_t*>(text.data());
      write_buffer_.insert(write_buffer_.end(), p, p + text.size());
    };
    const std::size_t frame = crypto::session_cipher::begin_frame(write_buffer_);
    if (end - first == 1) {
      append(*batch[first]);
    } else {
      write_buffer_.push_back('[');
      for (std::size_t i = first; i < end; ++i) {
        if (i != first) write_buffer_.push_back(',');
        append(*batch[i]);
      }
      write_buffer_.push_back(']');
    }
    cipher_->end_frame(write_buffer_, frame);
    first = end;
  }
}

void session::do_write() {
  if (write_in_flight_ || socket_closed_) return;
  std::vector<shared_message> batch;
  bool idle = false;
  {
    std::lock_guard lock(queue_mutex_);
    batch.swap(pending_);
    pending_bytes_ = 0;
    idle = batch.empty() && raw_out_.empty();
    if (idle) write_scheduled_ = false;
  }
  if (idle) {
    // Nothing to write: an idle connection keeps no write buffer (memory per idle connection).
    // (Assigning bytes{}, not {}: `v = {}` picks the initializer_list overload, keeping capacity.)
    write_buffer_ = bytes{};
    if (close_after_flush_) hard_close();  // everything, the goodbye included, is written
    return;
  }
  write_buffer_.clear();
  if (!raw_out_.empty()) {
    // Handshake frames go first; the swap must not leave a second large buffer in raw_out_.
    write_buffer_.swap(raw_out_);
    raw_out_ = bytes{};
  }
  if (!batch.empty()) {
    if (cipher_) append_sealed(batch);
    // Without a cipher (handshake failed before it) there is no way to send sealed messages.
  }
  if (write_buffer_.empty()) {
    asio::post(socket_.get_executor(), [self = shared_from_this()] { self->do_write(); });
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
  const auto now = std::chrono::steady_clock::now();
  switch (phase_) {
    case phase::handshake:
    case phase::awaiting_join:
      log_info("closing ", address_, ": no handshake and join within ",
               state_.settings.handshake_timeout.count(), " ms");
      close(leave_reason::timeout, "handshake timed out", true);
      break;
    case phase::joined:
      if (now - last_frame_ >= state_.settings.idle_timeout) {
        log_info("closing ", who(), ": idle for ", state_.settings.idle_timeout.count(), " ms");
        close(leave_reason::timeout, "idle timeout", true);
      } else {
        arm_timer(last_frame_ + state_.settings.idle_timeout);
      }
      break;
    case phase::closing:
      log_debug("closing ", who(), ": goodbye not flushed in time");
      hard_close(/*abort=*/true);
      break;
  }
}

void session::disconnect(leave_reason reason, std::string message) {
  asio::post(socket_.get_executor(), [self = shared_from_this(), reason, message = std::move(message)] {
    self->close(reason, message, true);
  });
}

void session::close(leave_reason reason, std::string message, bool say_bye) {
  if (phase_ == phase::closing) return;
  const bool was_joined = phase_ == phase::joined;
  phase_ = phase::closing;
  if (was_joined) {
    state_.routes.leave(name_, this, reason);
    log_info(name_, " left (", to_string(reason), ")");
  }
  {
    std::lock_guard lock(queue_mutex_);
    accepting_deliveries_ = false;
    if (say_bye && cipher_) {
      // The goodbye goes past the queue limit: even a too-slow client is told why.
      auto bye = std::make_shared<const std::string>(
          build(server_message{bye_event{std::string(to_string(reason)), std::move(message)}}));
      pending_bytes_ += bye->size();
      pending_.push_back(std::move(bye));
    }
  }
  if (!say_bye || (!cipher_ && raw_out_.empty())) {
    hard_close();
    return;
  }
  // Flush what is queued (the bye, a refusal), then close; bounded by the linger timer.
  close_after_flush_ = true;
  arm_timer(std::chrono::steady_clock::now() + state_.settings.linger);
  bool post_write = false;
  {
    std::lock_guard lock(queue_mutex_);
    post_write = !write_scheduled_;
    write_scheduled_ = true;
  }
  if (post_write) do_write();
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
  {
    std::lock_guard lock(queue_mutex_);
    pending_.clear();
    pending_bytes_ = 0;
  }
}

}  // namespace natter::server
