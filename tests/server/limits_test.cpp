// Rate limiting and admission control, with time passed in.
#include <doctest/doctest.h>

#include "natter/server/connection_limits.hpp"
#include "natter/rate_limiter.hpp"

using namespace natter;
using namespace natter::server;

TEST_CASE("rate limiter: a burst, then the sustained rate") {
  rate_limiter limiter(2.0, 3.0);  // 2 per second, bursts of 3
  std::int64_t t = 1000;
  CHECK(limiter.allow(t));
  CHECK(limiter.allow(t));
  CHECK(limiter.allow(t));
  CHECK_FALSE(limiter.allow(t));
  t += 499;
  CHECK_FALSE(limiter.allow(t));  // 0.998 tokens
  t += 2;
  CHECK(limiter.allow(t));        // 1.002 tokens
  t += 10'000;
  int allowed = 0;
  for (int i = 0; i < 10; ++i) allowed += limiter.allow(t) ? 1 : 0;
  CHECK(allowed == 3);            // refills only up to the burst
}

TEST_CASE("rate limiter: zero rate means unlimited") {
  rate_limiter limiter(0, 1);
  for (int i = 0; i < 1000; ++i) REQUIRE(limiter.allow(1));
}

TEST_CASE("connection limits per address and in total, released with the slot") {
  auto limits = std::make_shared<connection_limits>(3, 2);
  connection_limits::refusal why{};
  auto a1 = limits->try_acquire("10.0.0.1", why);
  auto a2 = limits->try_acquire("10.0.0.1", why);
  REQUIRE(a1);
  REQUIRE(a2);
  CHECK_FALSE(limits->try_acquire("10.0.0.1", why));
  CHECK(why == connection_limits::refusal::address_full);
  auto b1 = limits->try_acquire("10.0.0.2", why);
  REQUIRE(b1);
  CHECK_FALSE(limits->try_acquire("10.0.0.3", why));
  CHECK(why == connection_limits::refusal::server_full);
  a1.reset();
  CHECK(limits->total() == 2);
  CHECK(limits->try_acquire("10.0.0.1", why));
}
