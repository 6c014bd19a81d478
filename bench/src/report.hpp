#pragma once
// One scenario's figures: printed as a human table and as one JSON line (prefixed "JSON ").
#include <string>
#include <utility>
#include <vector>

namespace natter::bench {

struct report {
  std::string scenario;
  // Ordered (key, value) pairs: numbers are stored as already formatted JSON numbers, so the
  // table and the JSON line show the same figures.
  std::vector<std::pair<std::string, std::string>> fields;
  bool ok = true;          // counts are right (nothing undelivered, every handshake joined)
  std::string problem;

  void add(const std::string& key, double value, int decimals = 0);
  void add_text(const std::string& key, const std::string& value);
  [[nodiscard]] double get(const std::string& key) const;  // 0 if absent
};

void print_report(const report& r, const std::string& command_line);

}  // namespace natter::bench
