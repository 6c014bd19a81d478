#include "natter/client/reconnect_policy.hpp"

#include <algorithm>
#include <cmath>

namespace natter::client {

bool worth_reconnecting(const session_end& end) {
  if (!end.reconnect_enabled || !end.ever_joined || end.quit_requested || end.trust_refused) return false;
  if (end.failure == failure_kind::key_mismatch) return false;
  // The operator sent us away on purpose; coming back would only be kicked again (or worse,
  // look like evading the kick). Every other bye (server_stopping, timeout, too_slow) is one a
  // fresh connection can fix.
  return end.bye_reason != "kicked";
}

reconnect_policy::reconnect_policy(std::function<double()> uniform) : uniform_(std::move(uniform)) {}

std::optional<std::chrono::milliseconds> reconnect_policy::next_delay() {
  if (attempts_ >= reconnect_max_attempts) return std::nullopt;
  // 2^attempts grows past any limit quickly; stop doubling once the cap is reached.
  double base = static_cast<double>(reconnect_first_delay.count());
  for (std::size_t i = 0; i < attempts_ && base < static_cast<double>(reconnect_max_delay.count()); ++i) base *= 2;
  base = std::min(base, static_cast<double>(reconnect_max_delay.count()));
  ++attempts_;
  const double r = std::clamp(uniform_(), 0.0, 1.0);
  const double factor = 1.0 + reconnect_jitter * (2.0 * r - 1.0);  // [1 - jitter, 1 + jitter]
  return std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(base * factor)));
}

}  // namespace natter::client
