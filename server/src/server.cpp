#include "natter/server/server.hpp"

#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <fstream>
#include <iomanip>
#include <sstream>
#include <thread>

#include "natter/crypto/fingerprint.hpp"
#include "natter/crypto/key_file.hpp"
#include "natter/limits.hpp"
#include "natter/server/log.hpp"

namespace natter::server {

namespace {

std::int64_t wall_clock_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string host_of(const asio::ip::tcp::endpoint& endpoint) { return endpoint.address().to_string(); }

unsigned io_thread_count(const server_options& options) {
  return options.threads ? options.threads : std::max(1u, std::thread::hardware_concurrency());
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
      acceptor_(control_),
      signals_(control_, SIGINT, SIGTERM),
      stop_timer_(control_),
      trim_timer_(control_) {
  std::error_code ec;
  std::filesystem::create_directories(options_.state_dir, ec);
  if (ec) throw std::runtime_error("cannot create state directory " + options_.state_dir.string() + ": " + ec.message());
  ::chmod(options_.state_dir.c_str(), 0700);

  auto loaded = crypto::load_or_create_identity(options_.state_dir / "server.key");
  identity_ = std::move(loaded.keys);
  if (loaded.created) log_info("created a new server key in ", (options_.state_dir / "server.key").string());
  if (options_.print_fingerprint) return;  // nothing else is needed to answer --fingerprint

  long_term_keys_ = std::make_unique<crypto::shared_key_cache>(identity_, options_.key_cache);
  names_ = std::make_unique<sqlite_name_registry>(options_.state_dir / "names.sqlite3");
  router_ = std::make_unique<router>(*names_, wall_clock_ms, options_.max_frame, limits::max_text,
                                     options_.rate, options_.burst);
  if (options_.keylog) {
    keylog_ = std::make_unique<crypto::keylog_writer>(*options_.keylog);
    log_warn("KEY LOG ENABLED: session keys are written to ", options_.keylog->string(),
             "; anyone with that file can decrypt the logged traffic");
  }
  session_settings settings;
  settings.max_frame = options_.max_frame;
  settings.max_text = limits::max_text;
  settings.queue_bytes = options_.queue_bytes;
  settings.queue_messages = options_.queue_messages;
  settings.handshake_timeout = options_.handshake_timeout;
  settings.idle_timeout = options_.idle_timeout;
  settings.rate_per_second = options_.rate;
  settings.rate_burst = options_.burst;
  if (options_.presence_delay.count() > 0) deferred_ = std::make_unique<deferred_flush>(io_, options_.presence_delay);
  state_ = std::unique_ptr<shared_state>(
      new shared_state{identity_, *long_term_keys_, *router_, settings, keylog_.get(), deferred_.get(), {}});
  admission_ = std::make_shared<connection_limits>(options_.max_connections, options_.max_per_address);

  asio::ip::tcp::resolver resolver(io_);
  const auto endpoints = resolver.resolve(options_.host, std::to_string(options_.port), ec);
  if (ec || endpoints.empty()) throw std::runtime_error("cannot resolve listen address " + options_.host + ": " + ec.message());
  const asio::ip::tcp::endpoint endpoint = *endpoints.begin();
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint, ec);
  if (ec) throw std::runtime_error("cannot listen on " + options_.host + ":" + std::to_string(options_.port) + ": " + ec.message());
  acceptor_.listen(asio::socket_base::max_listen_connections);
  port_ = acceptor_.local_endpoint().port();
  if (options_.port_file) {
    std::ofstream(*options_.port_file) << port_ << "\n";
  }
}

server::~server() = default;

std::string server::fingerprint() const { return crypto::fingerprint(identity_.public_key_bytes); }

void server::run() {
  const auto local = acceptor_.local_endpoint();
  const std::string shown = local.address().is_v6() ? "[" + local.address().to_string() + "]" : local.address().to_string();
  log_info("natter-server 0.1.0 listening on ", shown, ":", port_);
  log_info("server key fingerprint: ", fingerprint());
  log_info("state directory: ", options_.state_dir.string(), " (",
           static_cast<sqlite_name_registry*>(names_.get())->size_at_open(), " registered names)");

  signals_.async_wait([this](std::error_code ec, int signal) {
    if (ec) return;
    log_info("received ", signal == SIGINT ? "SIGINT" : "SIGTERM", ", stopping");
    begin_stop();
  });
  if (options_.console && ::isatty(STDIN_FILENO)) {
    console_.emplace(control_, ::dup(STDIN_FILENO));
    log_info("console ready: users, kick NAME, stop, help");
    read_console();
  }
  do_accept();
#ifdef __GLIBC__
  // Bursts allocate and free write buffers of up to a few hundred kilobytes. Left to itself glibc
  // returns such memory at once (munmap, or brk when the top of the heap is free) and the next
  // burst faults it in again, page by zeroed page: 5 % of the server's CPU at 50-way fan-out.
  // Keep it in the heap instead; the malloc_trim below returns it every 5 s.
  ::mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
  ::mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
#endif
  schedule_heap_trim();

  std::vector<std::thread> pool;
  for (unsigned i = 1; i < threads_; ++i) pool.emplace_back([this] { io_.run(); });
  io_.run();
  for (auto& t : pool) t.join();
  log_info("stopped");
}

void server::schedule_heap_trim() {
  // Joins and bursts allocate and free many short-lived buffers (welcome lists, batches); glibc
  // keeps the freed pages resident, so an idle server would hold its high-water mark (about 20 KB
  // per connection at 2 000 connections, of which 2.5 KB is live). malloc_trim gives them back;
  // once every few seconds it costs next to nothing.
  trim_timer_.expires_after(std::chrono::seconds(5));
  trim_timer_.async_wait([this](std::error_code ec) {
    if (ec) return;  // cancelled by begin_stop()
#ifdef __GLIBC__
    ::malloc_trim(0);
#endif
    schedule_heap_trim();
  });
}

void server::stop() {
  asio::post(control_, [this] { begin_stop(); });
}

void server::do_accept() {
  // Each connection gets its own strand: its handlers never run concurrently with each other,
  // while different connections proceed on different threads.
  acceptor_.async_accept(asio::make_strand(io_), [this](std::error_code ec, asio::ip::tcp::socket socket) {
    on_accept(ec, std::move(socket));
  });
}

void server::on_accept(std::error_code ec, asio::ip::tcp::socket socket) {
  if (stopping_) return;
  if (ec) {
    // EMFILE and friends: log and keep accepting; the listener must not die.
    if (ec != asio::error::operation_aborted) log_warn("accept failed: ", ec.message());
  } else {
    std::error_code peer_ec;
    const auto remote = socket.remote_endpoint(peer_ec);
    connection_limits::refusal why{};
    std::unique_ptr<connection_limits::slot> slot;
    if (peer_ec) {
      // The peer left between connecting and being accepted: there is nobody to answer.
      log_debug("accepted connection already gone: ", peer_ec.message());
      std::error_code ignored;
      socket.close(ignored);
    } else if (slot = admission_->try_acquire(host_of(remote), why); !slot) {
      const char* reason = why == connection_limits::refusal::address_full
                               ? "too many connections from your address"
                               : "server is full";
      log_warn("refusing connection from ", host_of(remote), ": ", reason);
      // A plaintext refusal in place of the hello tells the client why (PROTOCOL.md §2).
      auto body = crypto::encode_refusal(reason);
      bytes frame = make_frame(body);
      std::error_code ignored;
      asio::write(socket, asio::buffer(frame), ignored);
      socket.close(ignored);
    } else {
      std::make_shared<session>(std::move(socket), remote, *state_, std::move(slot), next_session_id_++)->start();
    }
  }
  do_accept();
}

void server::begin_stop() {
  if (stopping_) return;
  stopping_ = true;
  std::error_code ec;
  acceptor_.close(ec);
  signals_.cancel(ec);
  trim_timer_.cancel();
  if (console_) console_->close(ec);
  const auto sessions = state_->sessions.all();
  log_info("stopping: telling ", sessions.size(), " connection(s)");
  for (const auto& s : sessions) s->disconnect(leave_reason::server_stopping, "the server is shutting down");
  wait_for_sessions(std::chrono::steady_clock::now() + state_->settings.linger + std::chrono::seconds(1));
}

void server::wait_for_sessions(std::chrono::steady_clock::time_point deadline) {
  if (state_->sessions.size() == 0 || std::chrono::steady_clock::now() >= deadline) {
    io_.stop();
    return;
  }
  stop_timer_.expires_after(std::chrono::milliseconds(20));
  stop_timer_.async_wait([this, deadline](std::error_code) { wait_for_sessions(deadline); });
}

void server::read_console() {
  asio::async_read_until(*console_, console_buffer_, '\n', [this](std::error_code ec, std::size_t) {
    if (ec) {
      if (ec == asio::error::eof) log_info("console closed (EOF); server keeps running");
      return;
    }
    std::istream in(&console_buffer_);
    std::string line;
    std::getline(in, line);
    run_console_command(line);
    if (!stopping_) read_console();
  });
}

void server::run_console_command(const std::string& line) {
  std::istringstream words(line);
  std::string command;
  words >> command;
  std::ostringstream out;
  if (command.empty()) return;
  if (command == "users") {
    const auto members = router_->members();
    out << members.size() << " user(s) online\n";
    for (const auto& m : members) {
      out << "  " << std::left << std::setw(20) << m.name << " " << std::setw(24) << m.address << " "
          << m.fingerprint << "\n";
    }
  } else if (command == "kick") {
    std::string name, reason;
    words >> name;
    std::getline(words >> std::ws, reason);
    if (name.empty()) out << "usage: kick NAME [reason]\n";
    else if (router_->kick(name, reason.empty() ? "kicked by the operator" : reason)) out << "kicked " << name << "\n";
    else out << "no user " << name << " is online\n";
  } else if (command == "stop" || command == "quit") {
    begin_stop();
    return;
  } else if (command == "help") {
    out << "commands: users | kick NAME [reason] | stop | help\n";
  } else {
    out << "unknown command '" << command << "' (try help)\n";
  }
  const std::string text = out.str();
  const ssize_t n = ::write(STDOUT_FILENO, text.data(), text.size());
  (void)n;
}

}  // namespace natter::server
