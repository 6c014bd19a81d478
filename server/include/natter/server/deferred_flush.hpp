#pragma once
// Sessions whose queues hold only messages that may wait a little (presence notices), and the
// one timer that flushes them together.
//
// Why: every join and leave is announced to everyone online, so K joins cost K²/2 notices. Sent
// as they come, each notice to each user is one sealed frame and one sendmsg. Held for at most
// `delay` instead, all the notices a user collected in that time leave as one batch frame: one
// seal, one MAC, one syscall. Chat messages, answers and goodbyes never wait, and they carry any
// held notices out with them (the queue keeps its order).
//
// One timer for the whole server, armed only while some session is waiting: an idle server does
// not wake up, and a session pays no memory for it beyond a flag.
//
// The delay stretches with the crowd. A tick that flushed M sessions cost about M frames, so the
// next tick comes no sooner than M / max_flushes_per_second later: with up to 1 000 sessions
// waiting nothing changes (20 ms), with 10 000 notices wait up to 200 ms and leave in batches
// ten times bigger. Without this, a join storm among K online users costs K frames per tick
// (500 000 frames a second at 10 000 users), which no core can pay.
#include <asio.hpp>

#include <chrono>
#include <memory>
#include <mutex>
#include <vector>

namespace natter::server {

// What the flush timer calls: a connection whose queue holds messages that may wait. Kept apart
// from session.hpp so that the timer does not depend on the session (session.hpp includes this).
class deferred_flush_target {
 public:
  // Thread-safe: called on the timer's strand. Writes what is held, unless a write already has.
  virtual void flush_deferred() = 0;

 protected:
  ~deferred_flush_target() = default;
};

class deferred_flush {
 public:
  static constexpr double max_flushes_per_second = 50'000;

  deferred_flush(asio::io_context& io, std::chrono::milliseconds delay);

  [[nodiscard]] std::chrono::milliseconds delay() const { return delay_; }

  // Thread-safe. `waiting` gets flush_deferred() called within delay() (unless it is gone).
  void add(std::weak_ptr<deferred_flush_target> waiting);

 private:
  void on_tick();

  const std::chrono::milliseconds delay_;
  asio::strand<asio::io_context::executor_type> strand_;
  asio::steady_timer timer_;  // strand_ only
  std::chrono::steady_clock::time_point next_tick_not_before_{};  // strand_ only

  std::mutex mutex_;
  std::vector<std::weak_ptr<deferred_flush_target>> waiting_;
  bool armed_ = false;
};

}  // namespace natter::server
