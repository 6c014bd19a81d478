#pragma once
// Runs a client_session over a real connection on a background I/O thread. It glues the pure
// pieces together: bytes from the connection go through a frame_decoder into the session; the
// session's output goes to the connection; the session's events go to the UI's sink. It also
// owns the pin check, the key log, keep-alive pings, the quit timeout and reconnecting: when
// `reconnect` is set and reconnect_policy says an end is worth coming back from, it sends a
// reconnecting_event instead of the failure and close, waits the policy's delay, and starts a
// fresh connection and session whose events follow on the same stream. Every new connection's
// server key goes through the same pin check as the first (a changed key ends the session).
//
// Threading: the io_context runs on one thread owned by the driver, and the session, decoder and
// connection are only touched there (no strand needed). The public functions below are safe to
// call from any thread: they post work to the I/O thread. The sink is called on the I/O thread,
// so a UI typically pushes events into an event_queue.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <asio.hpp>

#include "natter/client/client_events.hpp"
#include "natter/client/client_session.hpp"
#include "natter/client/connection.hpp"
#include "natter/client/host_verifier.hpp"
#include "natter/client/reconnect_policy.hpp"
#include "natter/client/session_link.hpp"
#include "natter/frame.hpp"
#include "natter/limits.hpp"

namespace natter::client {

// Outgoing bytes that may wait for the socket. Our own traffic is a few small frames, so hitting
// this means the server stopped reading; we give up rather than grow without bound.
inline constexpr std::size_t max_outgoing_bytes = 1024 * 1024;
// How long to wait for the server's bye (or close) after sending quit.
inline constexpr std::chrono::seconds quit_timeout{3};
// How long the handshake and join may take after connecting before we give up. The server
// allows the same (limits::handshake_timeout), so waiting longer could not help.
inline constexpr std::chrono::seconds join_timeout = limits::handshake_timeout;
// How often the end-to-end layer gives up missing messages and unanswered handshakes.
inline constexpr std::chrono::seconds e2e_tick_interval{1};

struct driver_config {
  std::string host;
  std::uint16_t port = 0;
  std::size_t max_frame = 0;                // largest frame body accepted from the server
  trust_policy trust;
  std::filesystem::path known_hosts_path;
  session_settings session;
  bool handle_signals = false;              // SIGINT/SIGTERM send quit
  bool reconnect = false;                   // after a join, come back when the connection ends
};

class client_driver final : public session_link {
 public:
  using event_sink = std::function<void(client_event)>;

  // `identity` is borrowed and must outlive the driver.
  client_driver(const crypto::identity_v2& identity, driver_config config, event_sink sink);
  ~client_driver() override;  // closes the connection and joins the I/O thread
  client_driver(const client_driver&) = delete;
  client_driver& operator=(const client_driver&) = delete;

  // Starts the I/O thread and connects.
  void start();

  // The user's answer to a trust_request_event.
  void answer_trust(bool trusted) override;
  // Sends a request (see client_session::send); one that cannot be sent is reported as a notice.
  void submit(client_message message, room_route route) override;
  void e2e_command(e2e_user_command cmd) override;
  // Sends quit, then waits for the server's bye or close, at most quit_timeout. While waiting
  // to reconnect, ends at once (a closed_event with after_quit).
  void quit(std::string reason);
  // Like quit(), but first waits until every say/whisper is acknowledged or refused.
  void quit_when_acknowledged(std::string reason) override;
  // Closes the connection now (and tries no more).
  void stop();

  // Snapshots for the UI thread.
  [[nodiscard]] std::size_t unacknowledged() const override { return unacknowledged_.load(); }
  [[nodiscard]] std::size_t refused() const override { return refused_.load(); }
  [[nodiscard]] bool joined() const { return joined_.load(); }

 private:
  void on_connected();
  void on_data(std::span<const std::uint8_t> data);
  void on_closed(const std::string& reason, bool connect_failed);
  void begin_attempt();  // a fresh connection, decoder and session
  [[nodiscard]] session_end end_so_far() const;
  // Schedules the next attempt and reports it; false if the policy gives up.
  bool retry_later(const std::string& closed_reason);
  void finish();  // no more attempts: let the I/O thread end
  void check_server_key();
  void arm_join_deadline();
  void do_quit(std::string reason);
  void arm_ping();
  void arm_e2e_tick();  // the end-to-end layer's time-driven work, every e2e_tick_interval
  void pump();  // moves the session's output and events along; runs after every session call

  const crypto::identity_v2& identity_;
  driver_config config_;
  event_sink sink_;
  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_;
  std::thread thread_;
  std::shared_ptr<connection> connection_;
  frame_decoder decoder_;
  std::optional<client_session> session_;  // one per connection; replaced for each attempt
  std::uint64_t generation_ = 0;           // the current connection's; older ones' callbacks are ignored
  reconnect_policy policy_;
  asio::steady_timer retry_timer_;
  bool waiting_to_retry_ = false;
  bool ever_joined_ = false;
  bool quit_requested_ = false;
  bool trust_refused_ = false;
  std::optional<failure_kind> failure_;  // this connection's
  std::string lost_reason_;              // this connection's failure, when it is retried instead of shown
  std::string bye_reason_;               // this connection's bye
  asio::steady_timer ping_timer_;
  asio::steady_timer quit_timer_;
  asio::steady_timer handshake_timer_;
  asio::steady_timer e2e_timer_;
  asio::signal_set signals_;
  bool verdict_pending_ = false;  // asked the user, waiting for answer_trust
  bool ping_armed_ = false;
  bool newly_pinned_ = false;     // the server key was pinned on this connection (first use)
  bool closing_ = false;
  std::optional<std::string> quit_after_acks_;
  std::atomic<std::size_t> unacknowledged_{0};
  std::atomic<std::size_t> refused_{0};
  std::atomic<bool> joined_{false};
};

}  // namespace natter::client
