#include "natter/server/log.hpp"

#include <unistd.h>

#include <ctime>

#include "natter/clock.hpp"

namespace natter::server {

std::atomic<log_level> logger::level_{log_level::info};

bool parse_log_level(std::string_view text, log_level& out) {
  if (text == "debug") out = log_level::debug;
  else if (text == "info") out = log_level::info;
  else if (text == "warn") out = log_level::warn;
  else if (text == "error") out = log_level::error;
  else if (text == "off") out = log_level::off;
  else return false;
  return true;
}

void logger::write(log_level level, std::string_view text) {
  static constexpr const char* names[] = {"DEBUG", "INFO", "WARN", "ERROR", "OFF"};
  const std::int64_t now = natter::wall_ms();  // a timestamp people read
  const auto seconds = static_cast<std::time_t>(now / 1000);
  const auto millis = now % 1000;
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char stamp[64];
  std::snprintf(stamp, sizeof stamp, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ ", utc.tm_year + 1900,
                utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec, static_cast<int>(millis));
  std::string line = stamp;
  line += names[static_cast<int>(level)];
  line += ' ';
  line += text;
  line += '\n';
  const ssize_t n = ::write(STDERR_FILENO, line.data(), line.size());
  (void)n;  // nowhere left to report a failing stderr
}

}  // namespace natter::server
