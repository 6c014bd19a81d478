#pragma once
// One client connection. The session moves bytes: it reads into the frame decoder, drives the
// handshake, opens and seals frames, and hands requests to the router. What the messages mean is
// decided in common/ (parsing, validation), crypto/ (handshake, cipher) and router.
//
// Lifetime and concurrency (as in Asio's chat example and Beast's chat-multi): the session is
// owned by shared_ptrs held by its pending operations (and by the router while joined). Each
// socket has its own strand; every member except deliver() and disconnect() runs on it.
// deliver() may be called from any thread: it appends to a mutex-guarded queue and posts one
// write to the strand only when none is scheduled, so a burst of deliveries becomes one batch
// frame, sealed once and written with one syscall.
#include <asio.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "natter/crypto/handshake.hpp"
#include "natter/crypto/keylog.hpp"
#include "natter/frame.hpp"
#include "natter/messages.hpp"
#include "natter/server/connection_limits.hpp"
#include "natter/server/deferred_flush.hpp"
#include "natter/rate_limiter.hpp"
#include "natter/server/router.hpp"

namespace natter::server {

struct session_settings {
  std::size_t max_frame = 0;          // largest frame body accepted from a client
  std::size_t max_text = 0;
  std::size_t queue_bytes = 0;        // pending plaintext per client before it is cut off
  std::size_t queue_messages = 0;
  std::chrono::milliseconds handshake_timeout{};
  std::chrono::milliseconds idle_timeout{};
  std::chrono::milliseconds linger{2000};  // how long a goodbye may take to flush
  double rate_per_second = 0;         // say/whisper per user; 0 = unlimited
  double rate_burst = 0;
};

class session;

// Every live session, so that stop() and the console can reach those not (yet) joined.
class session_set {
 public:
  void add(std::uint64_t id, const std::shared_ptr<session>& s);
  [[nodiscard]] std::vector<std::shared_ptr<session>> all();
  [[nodiscard]] std::size_t size();

 private:
  std::mutex mutex_;
  std::unordered_map<std::uint64_t, std::weak_ptr<session>> sessions_;
  std::size_t live_at_last_prune_ = 0;
};

// What all sessions share, owned by the server and outliving every session.
struct shared_state {
  const crypto::key_pair& identity;
  crypto::shared_key_cache& long_term_keys;  // made for `identity`
  router& routes;
  session_settings settings;
  crypto::keylog_writer* keylog = nullptr;  // null unless the operator opted in
  deferred_flush* deferred = nullptr;       // null: nothing waits, presence is sent at once
  session_set sessions;
};

class session final : public participant, public std::enable_shared_from_this<session> {
 public:
  // `remote` is the peer's address, which the acceptor has already asked the kernel for.
  session(asio::ip::tcp::socket socket, const asio::ip::tcp::endpoint& remote, shared_state& state,
          std::unique_ptr<connection_limits::slot> slot, std::uint64_t id);
  ~session() override;

  void start();

  // participant
  void deliver(shared_message message) override;
  void deliver_soon(shared_message message) override;
  void disconnect(leave_reason reason, std::string message) override;

  [[nodiscard]] const std::string& address() const { return address_; }

  // Called by deferred_flush: writes what deliver_soon() queued, if nothing else has yet.
  void flush_deferred();

 private:
  enum class phase { handshake, awaiting_join, joined, closing };

  void do_read();
  void on_readable(std::error_code ec);
  void handle_frame(std::span<const std::uint8_t> body);
  void handle_handshake_frame(std::span<const std::uint8_t> body);
  void handle_request(client_message&& request);
  void handle_join(join_request&& request);
  void send(const server_message& message);
  void send_error(const message_error& error);
  void answer(const send_result& result);

  void enqueue(shared_message message, bool may_wait);
  void do_write();
  void on_write(std::error_code ec);
  void append_sealed(std::vector<shared_message>& batch);

  void arm_timer(std::chrono::steady_clock::time_point when);
  void on_timer(std::error_code ec);
  void close(leave_reason reason, std::string message, bool say_bye);
  void hard_close(bool abort = false);
  [[nodiscard]] std::string who() const;

  asio::ip::tcp::socket socket_;
  asio::steady_timer timer_;
  shared_state& state_;
  std::unique_ptr<connection_limits::slot> slot_;
  std::uint64_t id_;
  std::string address_;

  // Strand-only state.
  phase phase_ = phase::handshake;
  frame_decoder decoder_;
  crypto::handshake handshake_;
  std::optional<crypto::session_cipher> cipher_;
  std::string name_;
  rate_limiter rate_;
  std::chrono::steady_clock::time_point last_frame_;
  std::vector<std::uint8_t> raw_out_;       // plaintext handshake frames waiting to be written
  std::vector<std::uint8_t> write_buffer_;  // the bytes of the write in flight
  bool write_in_flight_ = false;
  bool close_after_flush_ = false;
  bool socket_closed_ = false;

  // Shared with deliver() callers on other threads.
  std::mutex queue_mutex_;
  std::vector<shared_message> pending_;
  std::size_t pending_bytes_ = 0;
  bool write_scheduled_ = false;    // a do_write is posted or a write is in flight
  bool deferred_waiting_ = false;   // listed in state_.deferred, to be flushed by its timer
  bool accepting_deliveries_ = true;
};

}  // namespace natter::server
