#pragma once
// Every live connection, joined or not, so that stopping the server can reach them all (the
// router knows only the joined ones). Holds weak pointers: a connection is owned by its pending
// I/O, never by this set, and does not deregister itself, so that one destroyed late (during
// shutdown) never touches state that may already be gone. Thread-safe.
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "natter/server/router.hpp"

namespace natter::server {

class connection_set {
 public:
  void add(std::uint64_t id, const std::shared_ptr<participant>& connection);
  // The connections still alive; drops the entries of ended ones.
  [[nodiscard]] std::vector<std::shared_ptr<participant>> all();
  [[nodiscard]] std::size_t size();

 private:
  std::mutex mutex_;
  std::unordered_map<std::uint64_t, std::weak_ptr<participant>> connections_;
  std::size_t live_at_last_prune_ = 0;
};

}  // namespace natter::server
