#pragma once
// A crowd of bench connections that join in "session" mode (client_session) with bounded
// concurrency, and can be synchronised: a ping to each, answered after everything the server had
// queued for it, tells that no earlier delivery (presence notices of the joins) is in flight.
// Scenarios derive from it and add what they count.
#include <memory>
#include <string>
#include <vector>

#include "bench_connection.hpp"
#include "event_loop.hpp"
#include "natter/crypto/identity_v2.hpp"

namespace natter::bench {

class crowd : public connection_events {
 public:
  // With `identities` (one per name), each connection joins with its own identity key, as end-to-end
  // peers must (a pairwise session needs two keys); without, all share one.
  crowd(const sockaddr_in& server, std::vector<std::string> names, std::vector<crypto::identity_v2> identities = {});

  // Connects and joins connections [from, to), at most `concurrency` handshakes at a time.
  // False (with problem() set) on a failure or when `deadline_ns` passes.
  bool join(std::size_t from, std::size_t to, std::size_t concurrency, std::int64_t deadline_ns);
  // Pings every joined connection and waits for all the pongs.
  bool sync(std::int64_t deadline_ns);
  void close_all();

  void on_joined(bench_connection& c) override;
  void on_pong(bench_connection& c) override;
  void on_failed(bench_connection& c, std::string_view why) override;

  [[nodiscard]] const std::string& problem() const { return problem_; }
  [[nodiscard]] std::size_t failures() const { return failures_; }

 protected:
  event_loop loop_;
  sockaddr_in server_;
  crypto::identity_v2 identity_;  // one for the whole crowd (the bench server runs with --rate 0)
  std::vector<crypto::identity_v2> identities_;  // or one per connection
  std::vector<std::string> names_;
  std::vector<std::unique_ptr<bench_connection>> conns_;
  std::size_t joined_ = 0;
  std::size_t pongs_ = 0;
  std::size_t failures_ = 0;
  std::string problem_;
};

}  // namespace natter::bench
