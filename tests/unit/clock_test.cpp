#include "natter/clock.hpp"

#include <ctime>

#include <doctest/doctest.h>

TEST_CASE("steady_ms never goes back; wall_ms is the Unix time in milliseconds") {
  const auto a = natter::steady_ms();
  const auto b = natter::steady_ms();
  CHECK(b >= a);
  const auto seconds = static_cast<std::int64_t>(std::time(nullptr));
  const auto wall = natter::wall_ms();
  CHECK(wall / 1000 >= seconds - 1);
  CHECK(wall / 1000 <= seconds + 1);
}
