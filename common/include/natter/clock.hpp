#pragma once
// The one clock helper. Two clocks, each for its own job:
//   steady_ms()  monotonic milliseconds (an arbitrary origin): rate limits, timeouts, durations,
//                pacing. A step of the system clock (NTP, an operator's `date`) never moves it.
//   wall_ms()    milliseconds since the Unix epoch: only timestamps that people read (a message's
//                `ts`, a log line, the time a name was registered).
// Components that need time take a `ms_clock` (a function returning one of these), so tests pass
// a fake one and never sleep.
#include <chrono>
#include <cstdint>
#include <functional>

namespace natter {

using ms_clock = std::function<std::int64_t()>;

[[nodiscard]] inline std::int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

[[nodiscard]] inline std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace natter
