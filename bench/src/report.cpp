#include "report.hpp"

#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

namespace natter::bench {

void report::add(const std::string& key, double value, int decimals) {
  char text[64];
  if (!std::isfinite(value)) value = 0;
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  fields.emplace_back(key, text);
}

void report::add_text(const std::string& key, const std::string& value) {
  fields.emplace_back(key, nlohmann::json(value).dump());
}

double report::get(const std::string& key) const {
  for (const auto& [k, v] : fields) {
    if (k == key) return std::atof(v.c_str());
  }
  return 0;
}

void print_report(const report& r, const std::string& command_line) {
  std::cout << "\n== " << r.scenario << (r.ok ? "" : "  ** FAILED: " + r.problem + " **") << "\n";
  for (const auto& [key, value] : r.fields) {
    char line[160];
    std::snprintf(line, sizeof line, "  %-34s %s\n", key.c_str(), value.c_str());
    std::cout << line;
  }
  std::string json = "{\"scenario\":" + nlohmann::json(r.scenario).dump() + ",\"ok\":" + (r.ok ? "true" : "false");
  if (!r.ok) json += ",\"problem\":" + nlohmann::json(r.problem).dump();
  for (const auto& [key, value] : r.fields) json += ",\"" + key + "\":" + value;
  json += ",\"command\":" + nlohmann::json(command_line).dump() + "}";
  std::cout << "JSON " << json << std::endl;
}

}  // namespace natter::bench
