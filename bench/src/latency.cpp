#include "latency.hpp"

#include <algorithm>
#include <cmath>

namespace natter::bench {

double latency_recorder::quantile_ms(double q) {
  if (samples_.empty()) return 0;
  if (!sorted_) {
    std::sort(samples_.begin(), samples_.end());
    sorted_ = true;
  }
  const auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(samples_.size())));
  const std::size_t index = std::min(samples_.size() - 1, rank == 0 ? 0 : rank - 1);
  return static_cast<double>(samples_[index]) / 1e6;
}

}  // namespace natter::bench
