#include "natter/client/client_driver.hpp"

#include <csignal>
#include <random>

#include "natter/client/known_hosts.hpp"
#include "natter/crypto/fingerprint_v2.hpp"
#include "natter/limits.hpp"

namespace natter::client {

client_driver::client_driver(const crypto::identity_v2& identity, driver_config config, event_sink sink)
    : identity_(identity), config_(std::move(config)), sink_(std::move(sink)),
      decoder_(config_.max_frame),
      // Jitter needs no secrecy, only that clients dropped together spread out.
      policy_([engine = std::mt19937{std::random_device{}()}]() mutable {
        return std::uniform_real_distribution<double>(0.0, 1.0)(engine);
      }),
      retry_timer_(io_), ping_timer_(io_), quit_timer_(io_), handshake_timer_(io_), e2e_timer_(io_),
      signals_(io_) {}

client_driver::~client_driver() {
  if (!thread_.joinable()) return;
  // work_ belongs to the I/O thread once it runs, so it is released there too.
  asio::post(io_, [this] {
    quit_requested_ = true;  // the close below must not schedule another attempt
    waiting_to_retry_ = false;
    retry_timer_.cancel();
    signals_.cancel();
    if (connection_) connection_->close("closed");
    work_.reset();
  });
  thread_.join();
}

void client_driver::start() {
  work_.emplace(io_.get_executor());
  if (config_.handle_signals) {
    signals_.add(SIGINT);
    signals_.add(SIGTERM);
    signals_.async_wait([this](const asio::error_code& ec, int) {
      if (!ec) do_quit("interrupted");
    });
  }
  asio::post(io_, [this] { begin_attempt(); });
  thread_ = std::thread([this] { io_.run(); });
}

void client_driver::begin_attempt() {
  // A connection that ended may still have handlers queued; the generation tells them apart.
  const std::uint64_t generation = ++generation_;
  decoder_ = frame_decoder(config_.max_frame);
  session_.emplace(identity_, config_.session);
  verdict_pending_ = false;
  ping_armed_ = false;
  newly_pinned_ = false;
  closing_ = false;
  failure_.reset();
  lost_reason_.clear();
  bye_reason_.clear();
  connection_ = std::make_shared<connection>(
      io_, max_outgoing_bytes,
      connection::handlers{
          [this, generation] {
            if (generation == generation_) on_connected();
          },
          [this, generation](std::span<const std::uint8_t> data) {
            if (generation == generation_) on_data(data);
          },
          [this, generation](const std::string& reason, bool connect_failed) {
            if (generation == generation_) on_closed(reason, connect_failed);
          },
      });
  arm_join_deadline();
  connection_->start(config_.host, config_.port);
}

void client_driver::on_connected() {
  // The client speaks second: nothing to send until the server's hello arrives.
}

void client_driver::arm_join_deadline() {
  // A server that never answers (or a host that never accepts) must not leave a script hanging,
  // so connecting, the handshake and the join share one deadline. It is suspended while the user
  // is asked about the server key, and re-armed after the answer.
  handshake_timer_.expires_after(join_timeout);
  handshake_timer_.async_wait([this](const asio::error_code& ec) {
    if (ec || session_->closed() || verdict_pending_) return;
    if (session_->current() == client_session::phase::joined ||
        session_->current() == client_session::phase::quitting) {
      return;
    }
    session_->abort(failure_kind::runtime, "no session with " + host_key(config_.host, config_.port) +
                                               " within " + std::to_string(join_timeout.count()) +
                                               " s (connect, handshake and join)");
    pump();
  });
}

void client_driver::on_data(std::span<const std::uint8_t> data) {
  decoder_.feed(data);
  bytes body;
  while (!session_->closed()) {
    const auto status = decoder_.next(body);
    if (status == decode_status::need_more) break;
    if (status != decode_status::frame) {
      session_->abort(failure_kind::runtime,
                      "closing the connection: the server sent a bad frame header (" +
                          std::string(to_string(status)) + ", limit " +
                          std::to_string(decoder_.max_body()) + " bytes; see --max-frame)");
      break;
    }
    session_->on_frame(body);
    if (session_->current() == client_session::phase::awaiting_verdict && !verdict_pending_) {
      check_server_key();
    }
  }
  pump();
}

void client_driver::check_server_key() {
  const std::string host = host_key(config_.host, config_.port);
  known_hosts pins;
  try {
    pins = known_hosts::load(config_.known_hosts_path);
  } catch (const known_hosts_error& e) {
    trust_refused_ = true;  // without the pins no key can be checked, now or on the next attempt
    session_->abort(failure_kind::runtime, e.what());
    return;
  }
  const auto result = verify_server_key(pins, host, session_->server_key(), config_.trust,
                                        config_.known_hosts_path.string());
  switch (result.outcome) {
    case verdict::trusted:
      session_->accept_server_key();
      return;
    case verdict::pin_and_trust:
      verdict_pending_ = true;
      answer_trust(true);
      return;
    case verdict::ask_user:
      verdict_pending_ = true;
      sink_(trust_request_event{host, result.offered_fingerprint});
      return;
    case verdict::refuse_unknown:
      trust_refused_ = true;
      session_->abort(failure_kind::runtime, result.message);
      return;
    case verdict::mismatch:
      session_->abort(failure_kind::key_mismatch, result.message);
      return;
  }
}

void client_driver::answer_trust(bool trusted) {
  asio::post(io_, [this, trusted] {
    if (session_->current() != client_session::phase::awaiting_verdict) return;
    if (!trusted) {
      trust_refused_ = true;
      session_->abort(failure_kind::runtime, "server key not trusted; nothing was sent");
    } else {
      const std::string host = host_key(config_.host, config_.port);
      newly_pinned_ = true;
      try {
        known_hosts::append(config_.known_hosts_path, host, session_->server_key());
        sink_(notice_event{"pinned the key of " + host + " in " + config_.known_hosts_path.string()});
      } catch (const known_hosts_error& e) {
        // Trusting for this session is still what the user asked for; the pin is a convenience.
        sink_(notice_event{std::string("could not save the pin: ") + e.what()});
      }
      session_->accept_server_key();
    }
    verdict_pending_ = false;
    // The user may have taken a while to answer: give the handshake a fresh deadline.
    arm_join_deadline();
    pump();
  });
}

void client_driver::submit(client_message message, room_route route) {
  asio::post(io_, [this, message = std::move(message), route]() mutable {
    (void)session_->send(std::move(message), route);  // a refusal arrives as a notice_event
    pump();
  });
}

void client_driver::quit(std::string reason) {
  asio::post(io_, [this, reason = std::move(reason)]() mutable { do_quit(std::move(reason)); });
}

void client_driver::quit_when_acknowledged(std::string reason) {
  asio::post(io_, [this, reason = std::move(reason)]() mutable {
    // Between connections nothing is waiting for an acknowledgement any more (the lines
    // were marked failed when the connection ended): leave now.
    if (waiting_to_retry_ || !session_ || session_->closed()) {
      do_quit(std::move(reason));
      return;
    }
    quit_after_acks_ = std::move(reason);
    pump();
  });
}

void client_driver::do_quit(std::string reason) {
  quit_after_acks_.reset();
  quit_requested_ = true;
  if (waiting_to_retry_) {
    waiting_to_retry_ = false;
    retry_timer_.cancel();
    sink_(closed_event{"left while reconnecting", true, false});
    finish();
    return;
  }
  if (closing_ || !session_) return;
  if (session_->can_quit() && session_->send(quit_request{std::move(reason)})) {
    quit_timer_.expires_after(quit_timeout);
    quit_timer_.async_wait([this](const asio::error_code& ec) {
      if (!ec && connection_) connection_->close("no answer to quit; closed");
    });
    pump();
    return;
  }
  // No session to say goodbye in (still connecting or handshaking): just close.
  connection_->close("closed before the session was established");
}

void client_driver::stop() {
  asio::post(io_, [this] {
    quit_requested_ = true;  // whatever happens next, no new attempt
    if (waiting_to_retry_) {
      waiting_to_retry_ = false;
      retry_timer_.cancel();
      sink_(closed_event{"closed", true, false});
      finish();
      return;
    }
    if (connection_) connection_->close("closed");
  });
}

void client_driver::arm_ping() {
  ping_timer_.expires_after(limits::client_ping_interval);
  ping_timer_.async_wait([this](const asio::error_code& ec) {
    if (ec || session_->closed()) return;
    if (session_->current() == client_session::phase::joined) session_->send(ping_request{});
    pump();
    arm_ping();
  });
}

void client_driver::arm_e2e_tick() {
  e2e_timer_.expires_after(e2e_tick_interval);
  e2e_timer_.async_wait([this](const asio::error_code& ec) {
    if (ec || !session_ || session_->closed()) return;
    session_->tick();
    pump();
    arm_e2e_tick();
  });
}

void client_driver::e2e_command(e2e_user_command cmd) {
  asio::post(io_, [this, cmd = std::move(cmd)] {
    if (!session_ || session_->closed()) return;  // between connections: nothing to act on
    session_->e2e_command(cmd);
    pump();
  });
}

void client_driver::on_closed(const std::string& reason, bool connect_failed) {
  ping_timer_.cancel();
  e2e_timer_.cancel();
  quit_timer_.cancel();
  handshake_timer_.cancel();
  if (connect_failed) session_->abort(failure_kind::runtime, reason);
  session_->on_disconnected(reason);
  pump();  // turns the close into a reconnecting_event, or reports it
  if (!waiting_to_retry_) finish();
}

void client_driver::finish() {
  signals_.cancel();
  work_.reset();  // let io_.run() return once the last handlers are done
}

session_end client_driver::end_so_far() const {
  return session_end{config_.reconnect, ever_joined_, quit_requested_, trust_refused_, failure_, bye_reason_};
}

bool client_driver::retry_later(const std::string& closed_reason) {
  std::string why = lost_reason_;
  if (why.empty() && bye_reason_ == to_string(leave_reason::server_stopping)) why = "the server stopped";
  if (why.empty() && !bye_reason_.empty()) why = "the server closed the connection (" + bye_reason_ + ")";
  if (why.empty()) why = closed_reason;
  const auto delay = policy_.next_delay();
  if (!delay) {
    sink_(failure_event{failure_kind::connection_lost,
                        "gave up reconnecting to " + host_key(config_.host, config_.port) + " after " +
                            std::to_string(reconnect_max_attempts) + " attempts; last: " + why});
    return false;
  }
  waiting_to_retry_ = true;
  sink_(reconnecting_event{why, delay->count(), policy_.attempts()});
  retry_timer_.expires_after(*delay);
  retry_timer_.async_wait([this](const asio::error_code& ec) {
    if (ec || !waiting_to_retry_) return;
    waiting_to_retry_ = false;
    begin_attempt();
  });
  return true;
}

void client_driver::pump() {
  const bool was_joined = joined_.load();
  if (!ping_armed_ && session_->cipher() != nullptr) {
    ping_armed_ = true;
    arm_ping();
    arm_e2e_tick();
  }
  if (auto out = session_->take_output(); !out.empty() && !closing_) {
    if (!connection_->send(std::move(out))) {
      session_->abort(failure_kind::runtime, "the server is not reading (outgoing queue full); closing");
    }
  }
  for (auto& event : session_->take_events()) {
    if (const auto* message = std::get_if<server_message>(&event)) {
      if (const auto* bye = std::get_if<bye_event>(message)) bye_reason_ = bye->reason;
      if (std::holds_alternative<welcome_event>(*message)) {
        ever_joined_ = true;
        policy_.on_joined();
      }
    }
    if (const auto* failure = std::get_if<failure_event>(&event)) {
      failure_ = failure->kind;
      // A failure this driver will retry is the reconnecting_event's reason, not the end.
      if (worth_reconnecting(end_so_far())) {
        lost_reason_ = failure->message;
        continue;
      }
    }
    if (auto* closed = std::get_if<closed_event>(&event)) {
      if (worth_reconnecting(end_so_far()) && retry_later(closed->reason)) continue;
      closed->after_quit = closed->after_quit || quit_requested_;  // e.g. a quit while connecting
    }
    if (auto* established = std::get_if<established_event>(&event)) {
      established->server_fingerprint = crypto::server_fingerprint_v2(session_->server_key());
      established->server_key = crypto::to_hex(session_->server_key());
      established->pin = newly_pinned_ ? pin_state::new_pin : pin_state::pinned;
    }
    sink_(std::move(event));
  }

  joined_ = session_->current() == client_session::phase::joined ||
            (was_joined && session_->current() == client_session::phase::quitting);
  unacknowledged_ = session_->unacknowledged();
  refused_ = session_->refused();

  if (quit_after_acks_ && session_->unacknowledged() == 0) do_quit(*quit_after_acks_);
  if (session_->closed() && !closing_) {
    closing_ = true;
    connection_->close_after_writes("session ended");
  }
}

}  // namespace natter::client
