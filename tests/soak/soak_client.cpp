#include "soak_client.hpp"

namespace natter::soak {

using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

void soak_counts::add(const soak_counts& o) {
  connects += o.connects; joins += o.joins; join_failures += o.join_failures; sent += o.sent;
  received += o.received; errors += o.errors; quits += o.quits; abrupt += o.abrupt;
  half_frames += o.half_frames; no_handshake += o.no_handshake; no_join += o.no_join; cut_off += o.cut_off;
}

soak_client::soak_client(std::uint16_t port, int index, int population, std::uint32_t seed)
    : port_(port), index_(index), population_(population), name_("soak" + std::to_string(index)),
      // 8 client addresses: 200 clients stay well below the default 64 connections per address.
      source_ip_("127.0.1." + std::to_string(1 + index % 8)), identity_(crypto::identity_v2::generate()),
      random_(seed) {
  next_action_ = clock_type::now() + std::chrono::milliseconds(random_() % 2000);  // staggered start
}

std::string soak_client::random_name() {
  // Sometimes a user that does not exist at all, usually one of the population (maybe offline).
  const auto n = random_() % (population_ + 5);
  return n < static_cast<unsigned>(population_) ? "soak" + std::to_string(n) : "ghost" + std::to_string(n);
}

void soak_client::step(soak_counts& counts) {
  const auto now = clock_type::now();
  if (!peer_) {
    if (now >= next_action_) connect(counts);
    return;
  }
  drain(counts);
  if (!peer_) return;
  if (peer_->closed()) {  // the server cut us off (too slow, timeout): told why, presumably
    ++counts.cut_off;
    peer_.reset();
    next_action_ = now + 200ms;
    return;
  }
  if (now >= leave_at_) leave(counts);
  else if (now >= next_action_) act(counts);
}

void soak_client::connect(soak_counts& counts) {
  try {
    peer_ = std::make_unique<test::test_peer>(port_, test::copy_identity(identity_), source_ip_);
  } catch (const std::exception&) {
    ++counts.join_failures;
    next_action_ = clock_type::now() + 500ms;
    return;
  }
  ++counts.connects;
  const auto kind = random_() % 20;
  if (kind == 0) {  // connect and vanish before the handshake
    ++counts.no_handshake;
    peer_.reset();
  } else if (kind == 1) {  // handshake, then vanish without joining
    ++counts.no_join;
    (void)peer_->handshake();
    peer_.reset();
  } else if (peer_->join(name_)) {
    ++counts.joins;
    leave_at_ = clock_type::now() + std::chrono::milliseconds(500 + random_() % 4000);
    next_action_ = clock_type::now() + std::chrono::milliseconds(random_() % 400);
    return;
  } else {
    ++counts.join_failures;  // e.g. name_in_use: our previous connection is not gone yet
    peer_.reset();
  }
  next_action_ = clock_type::now() + std::chrono::milliseconds(50 + random_() % 500);
}

void soak_client::act(soak_counts& counts) {
  const auto what = random_() % 10;
  const auto ref = peer_->next_ref();
  if (what < 3) peer_->send(say_request{"soak message " + std::to_string(ref) + " from " + name_, ref});
  else if (what < 7) peer_->send(whisper_request{random_name(), "psst " + std::to_string(ref), ref});
  else if (what < 8) peer_->send(users_request{ref});
  else if (what < 9) peer_->send(whois_request{random_name(), ref});
  else peer_->send(ping_request{ref});
  ++counts.sent;
  // About two actions a second each: 200 users make ~120 broadcasts a second, ~24 000 deliveries.
  next_action_ = clock_type::now() + std::chrono::milliseconds(200 + random_() % 600);
}

void soak_client::leave(soak_counts& counts) {
  const auto how = random_() % 3;
  if (how == 0) {
    peer_->send(quit_request{"soak"});
    ++counts.quits;
  } else if (how == 1) {
    const std::uint8_t half[] = {0x00, 0x00, 0x01, 0x00, 1, 2, 3};  // half a frame, then gone
    peer_->send_raw(half);
    ++counts.half_frames;
  } else {
    ++counts.abrupt;
  }
  peer_.reset();
  next_action_ = clock_type::now() + std::chrono::milliseconds(random_() % 1000);
}

void soak_client::drain(soak_counts& counts) {
  // Reads whatever has arrived, waiting 1 ms at most when nothing has.
  for (int i = 0; i < 1000; ++i) {
    const auto m = peer_->next(1ms);
    if (!m) return;
    ++counts.received;
    if (std::holds_alternative<error_event>(*m)) ++counts.errors;
  }
}

}  // namespace natter::soak
