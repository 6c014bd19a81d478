#pragma once
// One simulated user of the soak test: it connects (from one of several loopback addresses, so
// the per-address limit is exercised but not hit), joins under its own name and key, chats,
// whispers, lists users, pings, and then leaves in one of several rude or polite ways. It is
// driven by step() from a worker thread; nothing in it blocks for long.
#include <chrono>
#include <cstdint>
#include <memory>
#include <random>
#include <string>

#include "natter/crypto/identity_v2.hpp"
#include "test_peer.hpp"

namespace natter::soak {

struct soak_counts {
  std::uint64_t connects = 0, joins = 0, join_failures = 0, sent = 0, received = 0, errors = 0;
  std::uint64_t quits = 0, abrupt = 0, half_frames = 0, no_handshake = 0, no_join = 0, cut_off = 0;
  void add(const soak_counts& o);
};

class soak_client {
 public:
  soak_client(std::uint16_t port, int index, int population, std::uint32_t seed);

  // Does whatever is due now: (re)connect, act, read, or leave.
  void step(soak_counts& counts);
  // Leaves abruptly (end of the run).
  void vanish() { peer_.reset(); }

 private:
  void connect(soak_counts& counts);
  void act(soak_counts& counts);
  void leave(soak_counts& counts);
  void drain(soak_counts& counts);
  [[nodiscard]] std::string random_name();

  std::uint16_t port_;
  int index_;
  int population_;
  std::string name_;
  std::string source_ip_;
  crypto::identity_v2 identity_;  // the same identity on every connection: the name stays ours
  std::mt19937 random_;
  std::unique_ptr<test::test_peer> peer_;
  std::chrono::steady_clock::time_point next_action_{}, leave_at_{};
};

}  // namespace natter::soak
