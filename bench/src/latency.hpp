#pragma once
// Latency samples and their percentiles. Samples are kept (bounded by the scenario's message
// count), sorted once at the end.
#include <cstdint>
#include <vector>

namespace natter::bench {

class latency_recorder {
 public:
  void reserve(std::size_t n) { samples_.reserve(n); }
  void add(std::int64_t ns) { samples_.push_back(ns); }
  [[nodiscard]] std::size_t count() const { return samples_.size(); }
  // The q-quantile (0..1) in milliseconds; 0 without samples. Sorts on first use.
  [[nodiscard]] double quantile_ms(double q);

 private:
  std::vector<std::int64_t> samples_;
  bool sorted_ = false;
};

}  // namespace natter::bench
