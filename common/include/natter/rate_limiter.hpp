#pragma once
// Message rate limit: a token bucket, used by the server per user and by the client to pace
// scripted input to the rate the server announces. `rate` tokens per second refill up to `burst`;
// each say/whisper costs one. Time is passed in, so it is tested without sleeping.
#include <algorithm>
#include <cstdint>

namespace natter {

class rate_limiter {
 public:
  // rate <= 0 disables the limit.
  rate_limiter(double rate_per_second, double burst)
      : rate_(rate_per_second), burst_(std::max(burst, 1.0)), tokens_(burst_) {}

  // True if a message sent at `now_ms` is allowed (and takes a token).
  [[nodiscard]] bool allow(std::int64_t now_ms) {
    if (rate_ <= 0) return true;
    if (last_ms_ != 0 && now_ms > last_ms_) {
      tokens_ = std::min(burst_, tokens_ + static_cast<double>(now_ms - last_ms_) * rate_ / 1000.0);
    }
    last_ms_ = now_ms;
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

 private:
  double rate_;
  double burst_;
  double tokens_;
  std::int64_t last_ms_ = 0;
};

}  // namespace natter
