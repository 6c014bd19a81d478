#pragma once
// The messages waiting to be written to one client, and the bookkeeping of who writes them.
//
// Concurrency: push() is called from any thread (the router delivers from the sender's strand);
// every other member runs on the connection's strand. One mutex guards it all, held only to
// move a pointer or flip a flag, never during I/O or sealing. The queue decides; the caller acts
// on the answer (posting a write, listing itself with the deferred flush, cutting the client
// off), outside the lock.
//
// Write scheduling: at most one write is scheduled at a time (posted or in flight). A push that
// finds none scheduled schedules one, so a burst of deliveries becomes one batch: the writer
// takes everything queued at once.
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "natter/server/router.hpp"

namespace natter::server {

struct queue_limits {
  std::size_t messages = 0;  // queued messages before the client counts as too slow
  std::size_t bytes = 0;     // queued plaintext bytes before the client counts as too slow
};

class outgoing_queue {
 public:
  // Held presence notices leave without waiting for the timer once this many are queued: enough
  // to make a batch frame worth its seal and syscall, few enough (~8 KB) to stay far below the
  // queue limits that would cut a client off as too slow.
  static constexpr std::size_t deferred_flush_count = 64;

  enum class push_outcome {
    refused,   // the queue no longer accepts messages (closing, or already overflowed)
    queued,    // queued behind a write already scheduled, or waiting for the deferred flush
    write,     // queued; the caller must schedule the write (nobody else will)
    wait,      // queued; the caller must list itself with the deferred flush (nobody else has)
    overflow,  // not queued: the client does not read fast enough and must be cut off
  };

  explicit outgoing_queue(queue_limits limits) : limits_(limits) {}

  // Thread-safe. `may_wait`: the message may be held for the deferred flush (presence notices).
  [[nodiscard]] push_outcome push(shared_message message, bool may_wait);

  // The deferred flush timer fired: true if the caller must schedule the write.
  [[nodiscard]] bool flush_deferred();

  // Marks a write as scheduled; true if none was (the caller must then schedule it).
  [[nodiscard]] bool schedule_write();

  // For the writer: moves everything queued into `batch` (empty before). If nothing is queued
  // and `more_to_write` is false the writer goes idle (the next push schedules it again) and the
  // call returns false.
  [[nodiscard]] bool take(std::vector<shared_message>& batch, bool more_to_write);

  // Stops accepting messages; `last` (the goodbye, may be null) is still queued, past the limits:
  // even a too-slow client is told why it is cut off.
  void shut(shared_message last);

  // Drops everything queued (the socket is closed).
  void clear();

 private:
  const queue_limits limits_;
  std::mutex mutex_;
  std::vector<shared_message> pending_;
  std::size_t pending_bytes_ = 0;
  bool write_scheduled_ = false;   // a write is posted or in flight
  bool deferred_waiting_ = false;  // listed with the deferred flush, which will call flush_deferred()
  bool accepting_ = true;
};

}  // namespace natter::server
