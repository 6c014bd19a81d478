// The reconnect schedule and decision (reconnect_policy.hpp), with the randomness fixed.
#include "natter/client/reconnect_policy.hpp"

#include <doctest/doctest.h>

#include <vector>

namespace nc = natter::client;
using std::chrono::milliseconds;

namespace {

std::vector<long> delays(nc::reconnect_policy& policy, std::size_t n) {
  std::vector<long> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(static_cast<long>(policy.next_delay().value().count()));
  return out;
}

nc::session_end lost_after_join() {
  nc::session_end end;
  end.reconnect_enabled = true;
  end.ever_joined = true;
  end.failure = nc::failure_kind::connection_lost;
  return end;
}

}  // namespace

TEST_CASE("reconnect_policy: 0.5 s doubling to 30 s, without jitter at the midpoint") {
  nc::reconnect_policy policy([] { return 0.5; });
  CHECK(delays(policy, 9) == std::vector<long>{500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000});
  CHECK(policy.attempts() == 9);
}

TEST_CASE("reconnect_policy: jitter moves each delay by at most 25 %") {
  nc::reconnect_policy low([] { return 0.0; });
  CHECK(delays(low, 2) == std::vector<long>{375, 750});
  nc::reconnect_policy high([] { return 0.999999; });
  CHECK(delays(high, 1) == std::vector<long>{625});
  for (std::size_t i = 1; i < 10; ++i) (void)high.next_delay();
  CHECK(high.next_delay()->count() == 37500);  // the cap, plus its jitter
  nc::reconnect_policy broken([] { return 7.0; });  // a bad source is clamped, not trusted
  CHECK(broken.next_delay()->count() == 625);
}

TEST_CASE("reconnect_policy: gives up after the attempt limit; a join starts again") {
  nc::reconnect_policy policy([] { return 0.5; });
  for (std::size_t i = 0; i < nc::reconnect_max_attempts; ++i) REQUIRE(policy.next_delay());
  CHECK_FALSE(policy.next_delay());
  policy.on_joined();
  CHECK(policy.attempts() == 0);
  CHECK(policy.next_delay() == milliseconds(500));
}

TEST_CASE("worth_reconnecting: a drop, a server stop or a failed attempt yes; a quit, kick or changed key no") {
  CHECK(nc::worth_reconnecting(lost_after_join()));
  auto stopped = lost_after_join();
  stopped.failure.reset();
  stopped.bye_reason = "server_stopping";
  CHECK(nc::worth_reconnecting(stopped));
  auto attempt_failed = lost_after_join();
  attempt_failed.failure = nc::failure_kind::runtime;  // connection refused while the server restarts
  CHECK(nc::worth_reconnecting(attempt_failed));

  auto kicked = stopped;
  kicked.bye_reason = "kicked";
  CHECK_FALSE(nc::worth_reconnecting(kicked));
  auto changed_key = lost_after_join();
  changed_key.failure = nc::failure_kind::key_mismatch;
  CHECK_FALSE(nc::worth_reconnecting(changed_key));
  auto quit = lost_after_join();
  quit.quit_requested = true;
  CHECK_FALSE(nc::worth_reconnecting(quit));
  auto untrusted = lost_after_join();
  untrusted.trust_refused = true;
  CHECK_FALSE(nc::worth_reconnecting(untrusted));
  auto pipe = lost_after_join();
  pipe.reconnect_enabled = false;  // a pipe without --stay exits with its code instead
  CHECK_FALSE(nc::worth_reconnecting(pipe));
  auto first_connect = lost_after_join();
  first_connect.ever_joined = false;  // a server that was never reached is a mistake to report
  CHECK_FALSE(nc::worth_reconnecting(first_connect));
}
