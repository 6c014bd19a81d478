#include "natter/server/outgoing_queue.hpp"

namespace natter::server {

outgoing_queue::push_outcome outgoing_queue::push(shared_message message, bool may_wait) {
  std::lock_guard lock(mutex_);
  if (!accepting_) return push_outcome::refused;
  if (pending_.size() >= limits_.messages || pending_bytes_ + message->size() > limits_.bytes) {
    // The client does not read fast enough. Stop queueing now (memory stays bounded) and let
    // the caller cut it off; everybody else keeps receiving.
    accepting_ = false;
    return push_outcome::overflow;
  }
  pending_bytes_ += message->size();
  pending_.push_back(std::move(message));
  // Held messages leave when a write happens anyway, when the deferred timer fires, or once there
  // are enough of them to fill a batch frame.
  if (!write_scheduled_ && may_wait && pending_.size() < deferred_flush_count) {
    if (deferred_waiting_) return push_outcome::queued;
    deferred_waiting_ = true;
    return push_outcome::wait;
  }
  if (write_scheduled_) return push_outcome::queued;
  write_scheduled_ = true;
  return push_outcome::write;
}

bool outgoing_queue::flush_deferred() {
  std::lock_guard lock(mutex_);
  deferred_waiting_ = false;
  if (write_scheduled_ || pending_.empty() || !accepting_) return false;
  write_scheduled_ = true;
  return true;
}

bool outgoing_queue::schedule_write() {
  std::lock_guard lock(mutex_);
  if (write_scheduled_) return false;
  write_scheduled_ = true;
  return true;
}

bool outgoing_queue::take(std::vector<shared_message>& batch, bool more_to_write) {
  std::lock_guard lock(mutex_);
  batch.swap(pending_);
  pending_bytes_ = 0;
  if (batch.empty() && !more_to_write) {
    write_scheduled_ = false;
    return false;
  }
  return true;
}

void outgoing_queue::shut(shared_message last) {
  std::lock_guard lock(mutex_);
  accepting_ = false;
  if (last) {
    pending_bytes_ += last->size();
    pending_.push_back(std::move(last));
  }
}

void outgoing_queue::clear() {
  std::lock_guard lock(mutex_);
  pending_.clear();
  pending_bytes_ = 0;
}

}  // namespace natter::server
