#include "natter/client/send_pacer.hpp"

#include <algorithm>

namespace natter::client {

void send_pacer::follow(double rate, double burst) {
  if (rate > 0) limiter_ = rate_limiter(rate * 0.9, std::max(1.0, burst / 2));
}

bool send_pacer::may_send_now() { return held_.empty() && limiter_.allow(steady_()); }

std::optional<paced_request> send_pacer::release() {
  if (held_.empty() || !limiter_.allow(steady_())) return std::nullopt;
  paced_request next = std::move(held_.front());
  held_.pop_front();
  return next;
}

}  // namespace natter::client
