#include "crowd.hpp"

namespace natter::bench {

crowd::crowd(const sockaddr_in& server, std::vector<std::string> names, std::vector<crypto::identity_v2> identities)
    : server_(server), identity_(crypto::identity_v2::generate()), identities_(std::move(identities)),
      names_(std::move(names)) {
  conns_.reserve(names_.size());
  for (std::size_t i = 0; i < names_.size(); ++i) conns_.push_back(std::make_unique<bench_connection>(loop_, *this, i));
}

bool crowd::join(std::size_t from, std::size_t to, std::size_t concurrency, std::int64_t deadline_ns) {
  std::size_t next = from;
  const std::size_t joined_before = joined_;
  while (joined_ - joined_before < to - from && failures_ == 0) {
    const std::size_t done_here = joined_ - joined_before;
    while (next < to && (next - from) - done_here < concurrency) {
      conns_[next]->start_session(server_, identities_.empty() ? identity_ : identities_[next], names_[next]);
      ++next;
    }
    if (mono_ns() > deadline_ns) {
      problem_ = "joining timed out (" + std::to_string(done_here) + " of " + std::to_string(to - from) + ")";
      return false;
    }
    loop_.poll(std::chrono::milliseconds(10));
  }
  return failures_ == 0;
}

bool crowd::sync(std::int64_t deadline_ns) {
  pongs_ = 0;
  std::size_t expected = 0;
  for (auto& c : conns_) {
    if (c->current() != bench_connection::state::joined) continue;
    c->ping();
    c->flush();
    ++expected;
  }
  while (pongs_ < expected && failures_ == 0) {
    if (mono_ns() > deadline_ns) {
      problem_ = "sync timed out (" + std::to_string(pongs_) + " of " + std::to_string(expected) + " pongs)";
      return false;
    }
    loop_.poll(std::chrono::milliseconds(10));
  }
  return failures_ == 0;
}

void crowd::close_all() {
  for (auto& c : conns_) c->close();
}

void crowd::on_joined(bench_connection&) { ++joined_; }

void crowd::on_pong(bench_connection&) { ++pongs_; }

void crowd::on_failed(bench_connection& c, std::string_view why) {
  if (failures_++ == 0) problem_ = "connection " + c.name() + ": " + std::string(why);
}

}  // namespace natter::bench
