#pragma once
// One client connection's transport: the socket, its strand, the timer and the write queue. It
// moves bytes and nothing else: what arrives goes to the connection core (connection_core.hpp),
// which decides what it means; what the core and the router queue is written out.
//
// Lifetime and concurrency (as in Asio's chat example and Beast's chat-multi): the session is
// owned by shared_ptrs held by its pending operations (and by the router while joined). Each
// socket has its own strand; every member except deliver(), deliver_soon(), disconnect() and
// flush_deferred() runs on it. Those may be called from any thread: they go through the
// mutex-guarded outgoing_queue and post one write to the strand only when none is scheduled, so
// a burst of deliveries becomes one batch frame, sealed once and written with one syscall.
#include <asio.hpp>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "natter/server/connection_core.hpp"
#include "natter/server/connection_limits.hpp"
#include "natter/server/connection_set.hpp"
#include "natter/server/deferred_flush.hpp"
#include "natter/server/outgoing_queue.hpp"
#include "natter/server/router.hpp"

namespace natter::server {

// What all sessions share, owned by the server and outliving every session.
struct shared_state {
  connection_context core;
  queue_limits queue;
  std::chrono::milliseconds linger{2000};  // how long a goodbye may take to flush
  deferred_flush* deferred = nullptr;      // null: nothing waits, presence is sent at once
  connection_set sessions;
};

class session final : public participant,
                      public deferred_flush_target,
                      public std::enable_shared_from_this<session> {
 public:
  // `address` is the peer's "ip:port", which the acceptor has already asked the kernel for.
  // `admission_refusal`: the server has no room; the client gets the hello and this refusal in
  // place of Noise message 2 (connection_core). `slot` then counts refusals in progress.
  session(asio::ip::tcp::socket socket, std::string address, shared_state& state,
          std::unique_ptr<connection_limits::slot> slot, std::uint64_t id,
          std::optional<std::string> admission_refusal = std::nullopt);
  ~session() override;

  void start();

  // participant
  void deliver(shared_message message) override;
  void deliver_soon(shared_message message) override;
  void disconnect(leave_reason reason, std::string message) override;

  // deferred_flush_target: writes what deliver_soon() queued, if nothing else has yet.
  void flush_deferred() override;

 private:
  void do_read();
  void on_readable(std::error_code ec);
  void on_input(const input_result& result);

  void enqueue(shared_message message, bool may_wait);
  void post_write();
  void do_write();
  void on_write(std::error_code ec);

  void arm_timer(std::chrono::steady_clock::time_point when);
  void on_timer(std::error_code ec);
  void close(leave_reason reason, std::string message, bool say_bye);
  void finish_close(const close_request& request);
  void hard_close(bool abort = false);

  asio::ip::tcp::socket socket_;
  asio::steady_timer timer_;
  shared_state& state_;
  std::unique_ptr<connection_limits::slot> slot_;
  std::uint64_t id_;

  // Strand-only state.
  connection_core core_;
  std::vector<std::uint8_t> write_buffer_;  // the bytes of the write in flight
  bool write_in_flight_ = false;
  bool close_after_flush_ = false;
  bool socket_closed_ = false;

  // Shared with deliver() callers on other threads (it has its own lock).
  outgoing_queue queue_;
};

}  // namespace natter::server
