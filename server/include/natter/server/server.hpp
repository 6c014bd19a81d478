#pragma once
// The server's lifecycle: builds the shared parts (key, name registry, router, the state every
// session shares), runs one io_context on several threads with a strand per connection, and
// stops in order. The listener (listener.hpp), the console (console_reader.hpp and
// console_commands.hpp) and the heap policy (heap_policy.hpp) each live in a file of their own.
#include <asio.hpp>

#include <memory>
#include <optional>
#include <string>

#include "natter/crypto/guarded.hpp"
#include "natter/crypto/keylog.hpp"
#include "natter/crypto/keys.hpp"
#include "natter/server/console_reader.hpp"
#include "natter/server/deferred_flush.hpp"
#include "natter/server/heap_policy.hpp"
#include "natter/server/listener.hpp"
#include "natter/server/name_registry.hpp"
#include "natter/server/options.hpp"
#include "natter/server/rate_book.hpp"
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
  void begin_stop();
  void wait_for_sessions(std::chrono::steady_clock::time_point deadline);
  std::string on_console_line(const std::string& line);

  // Declaration order is destruction order reversed, and it matters: io_ is destroyed before the
  // state its pending handlers (sessions) refer to, and after the I/O objects that belong to it.
  server_options options_;
  crypto::guarded<crypto::key_pair> identity_;  // the static key, in locked guarded pages
  std::unique_ptr<rate_book> rates_;
  crypto::x25519_of_cache conversions_;  // the message 3 check's answers for returning identities
  std::unique_ptr<name_registry> names_;
  std::unique_ptr<ban_list> bans_;  // in the same database as the names
  std::unique_ptr<router> router_;
  std::unique_ptr<crypto::keylog_writer> keylog_;
  std::unique_ptr<shared_state> state_;
  unsigned threads_;  // I/O threads running io_
  asio::io_context io_;
  // Accepting, signals, the console, the timers and stop() all run on this one strand: the
  // io_context has several threads, and stopping must not race with an accept in progress.
  asio::strand<asio::io_context::executor_type> control_;
  std::unique_ptr<listener> listener_;  // null when only the fingerprint was asked for
  asio::signal_set signals_;
  std::optional<console_reader> console_;
  asio::steady_timer stop_timer_;
  heap_policy heap_;
  std::unique_ptr<deferred_flush> deferred_;  // null with --presence-delay 0
  std::uint16_t port_ = 0;
  bool stopping_ = false;  // control_ strand only
};

}  // namespace natter::server
