#include "natter/server/log.hpp"

#include <unistd.h>

#include <chrono>
#include <ctime>

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
  const auto now = std::chrono::system_clock::now();
  const std::time_t seconds = std::chrono::system_clock::to_time_t(now);
  const auto millis =
      std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
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
