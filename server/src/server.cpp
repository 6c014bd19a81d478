#include "natter/server/server.hpp"

#include <unistd.h>

#include <fstream>
#include <thread>

#include "natter/clock.hpp"
#include "natter/crypto/fingerprint_v2.hpp"
#include "natter/crypto/key_file.hpp"
#include "natter/limits.hpp"
#include "natter/server/console_commands.hpp"
#include "natter/server/log.hpp"

namespace natter::server {

namespace {

unsigned io_thread_count(const server_options& options) {
  return options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
}

connection_settings connection_settings_of(const server_options& options) {
  connection_settings settings;
  settings.max_frame = options.max_frame;
  settings.max_text = limits::max_text;
  settings.handshake_timeout_ms = options.handshake_timeout.count();
  settings.idle_timeout_ms = options.idle_timeout.count();
  return settings;
}

}  // namespace

server::server(server_options options)
    : options_(std::move(options)),
      threads_(io_thread_count(options_)),
      // With one I/O thread, tell Asio so: handlers posted from that thread then go to its
      // private queue, without taking the scheduler's lock or waking the reactor with an
      // epoll_ctl each time. Other threads may still post (stop()); that stays safe.
      io_(threads_ == 1 ? 1 : ASIO_CONCURRENCY_HINT_DEFAULT),
      control_(asio::make_strand(io_)),
      signals_(control_, SIGINT, SIGTERM),
      stop_timer_(control_),
      heap_(control_) {
  std::error_code ec;
  std::filesystem::create_directories(options_.state_dir, ec);
  if (ec) throw std::runtime_error("cannot create state directory " + options_.state_dir.string() + ": " + ec.message());
  ::chmod(options_.state_dir.c_str(), 0700);

  auto loaded = crypto::load_or_create_identity(options_.state_dir / "server.key");
  *identity_ = std::move(loaded.keys);
  if (loaded.created) log_info("created a new server key in ", (options_.state_dir / "server.key").string());
  if (options_.print_fingerprint) return;  // nothing else is needed to answer --fingerprint

  rates_ = std::make_unique<rate_book>(options_.rate, options_.burst, options_.rate_memory);
  names_ = std::make_unique<sqlite_name_registry>(options_.state_dir / "names.sqlite3");
  bans_ = std::make_unique<sqlite_ban_list>(options_.state_dir / "names.sqlite3");
  // The router's clock stamps what people read (`ts`, registration times): the wall clock.
  router_ = std::make_unique<router>(*names_, natter::wall_ms, options_.max_frame, limits::max_text, options_.rate,
                                     options_.burst);
  if (options_.keylog) {
    keylog_ = std::make_unique<crypto::keylog_writer>(*options_.keylog);
    log_warn("KEY LOG ENABLED: session keys are written to ", options_.keylog->string(),
             "; anyone with that file can decrypt the logged traffic");
  }
  if (options_.presence_delay.count() > 0) deferred_ = std::make_unique<deferred_flush>(io_, options_.presence_delay);
  // Rates and timeouts run on the steady clock: a step of the system clock changes neither.
  state_ = std::unique_ptr<shared_state>(new shared_state{
      connection_context{*identity_, *router_, *rates_, keylog_.get(), &conversions_,
                         connection_settings_of(options_), natter::steady_ms, bans_.get()},
      queue_limits{options_.queue_messages, options_.queue_bytes},
      std::chrono::milliseconds(2000),
      deferred_.get(),
      {}});

  listener_ = std::make_unique<listener>(
      io_, control_, options_.host, options_.port, *state_,
      std::make_shared<connection_limits>(options_.max_connections, options_.max_per_address));
  port_ = listener_->local_endpoint().port();
  if (options_.port_file) {
    std::ofstream(*options_.port_file) << port_ << "\n";
  }
}

server::~server() = default;

std::string server::fingerprint() const { return crypto::server_fingerprint_v2(identity_->public_key_bytes); }

void server::run() {
  const auto local = listener_->local_endpoint();
  const std::string shown = local.address().is_v6() ? "[" + local.address().to_string() + "]" : local.address().to_string();
  log_info("natter-server 0.1.0 listening on ", shown, ":", port_);
  log_info("server key fingerprint: ", fingerprint());
  log_info("state directory: ", options_.state_dir.string(), " (", names_->size(), " registered names)");

  signals_.async_wait([this](std::error_code ec, int signal) {
    if (ec) return;
    log_info("received ", signal == SIGINT ? "SIGINT" : "SIGTERM", ", stopping");
    begin_stop();
  });
  if (options_.console && ::isatty(STDIN_FILENO)) {
    console_.emplace(control_, ::dup(STDIN_FILENO), [this](const std::string& line) { return on_console_line(line); });
    log_info(console_ready_text);
    console_->start();
  }
  listener_->start();
  heap_.start();

  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads_; ++i) pool.emplace_back([this] { io_.run(); });
  io_.run();
  for (auto& t : pool) t.join();
  log_info("stopped");
}

std::string server::on_console_line(const std::string& line) {
  auto outcome = run_console_command(line, {*router_, *names_, *bans_, natter::wall_ms});
  if (outcome.stop) begin_stop();
  return std::move(outcome.answer);
}

void server::stop() {
  asio::post(control_, [this] { begin_stop(); });
}

void server::begin_stop() {
  if (stopping_) return;
  stopping_ = true;
  std::error_code ec;
  listener_->close();
  signals_.cancel(ec);
  heap_.stop();
  if (console_) console_->close();
  const auto sessions = state_->sessions.all();
  log_info("stopping: telling ", sessions.size(), " connection(s)");
  for (const auto& s : sessions) s->disconnect(leave_reason::server_stopping, "the server is shutting down");
  wait_for_sessions(std::chrono::steady_clock::now() + state_->linger + std::chrono::seconds(1));
}

void server::wait_for_sessions(std::chrono::steady_clock::time_point deadline) {
  if (state_->sessions.size() == 0 || std::chrono::steady_clock::now() >= deadline) {
    io_.stop();
    return;
  }
  stop_timer_.expires_after(std::chrono::milliseconds(20));
  stop_timer_.async_wait([this, deadline](std::error_code) { wait_for_sessions(deadline); });
}

}  // namespace natter::server
