#pragma once
// The server: an acceptor, the sessions it creates, the router between them, an operator console
// and orderly shutdown. One io_context runs on several threads; each connection has its own strand.
#include <asio.hpp>

#include <atomic>
#include <memory>
#include <optional>
#include <string>

#include "natter/crypto/keylog.hpp"
#include "natter/crypto/shared_key_cache.hpp"
#include "natter/crypto/keys.hpp"
#include "natter/server/connection_limits.hpp"
#include "natter/server/name_registry.hpp"
#include "natter/server/options.hpp"
#include "natter/server/router.hpp"
#include "natter/server/session.hpp"

namespace natter::server {

class server {
 public:
  // Loads (or creates) the server key, opens the name registry and binds the listening socket.
  // Throws std::runtime_error with a message fit for the operator if any of that fails.
  explicit server(server_options options);
  ~server();

  // Serves until stop() (SIGINT, SIGTERM, the console's `stop`). Returns after every client has
  // been told and every socket closed.
  void run();
  // Thread-safe.
  void stop();

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] std::string fingerprint() const;

 private:
  void do_accept();
  void on_accept(std::error_code ec, asio::ip::tcp::socket socket);
  void begin_stop();
  void wait_for_sessions(std::chrono::steady_clock::time_point deadline);
  void schedule_heap_trim();
  void read_console();
  void run_console_command(const std::string& line);

  // Declaration order is destruction order reversed, and it matters: io_ is destroyed before the
  // state its pending handlers (sessions) refer to, and after the I/O objects that belong to it.
  server_options options_;
  crypto::key_pair identity_;
  std::unique_ptr<crypto::shared_key_cache> long_term_keys_;
  std::unique_ptr<name_registry> names_;
  std::unique_ptr<router> router_;
  std::unique_ptr<crypto::keylog_writer> keylog_;
  std::unique_ptr<shared_state> state_;
  std::shared_ptr<connection_limits> admission_;
  unsigned threads_;  // I/O threads running io_
  asio::io_context io_;
  // Accepting, signals, the console, the timers and stop() all run on this one strand: the
  // io_context has several threads, and stopping must not race with an accept in progress.
  asio::strand<asio::io_context::executor_type> control_;
  asio::ip::tcp::acceptor acceptor_;
  asio::signal_set signals_;
  std::optional<asio::posix::stream_descriptor> console_;
  asio::streambuf console_buffer_;
  asio::steady_timer stop_timer_;
  asio::steady_timer trim_timer_;  // returns freed heap to the system now and then
  std::unique_ptr<deferred_flush> deferred_;  // null with --presence-delay 0
  std::uint16_t port_ = 0;
  std::uint64_t next_session_id_ = 1;
  bool stopping_ = false;  // control_ strand only
};

}  // namespace natter::server
