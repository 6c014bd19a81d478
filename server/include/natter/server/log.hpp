#pragma once
// The server's event log: one line per event on stderr, "2026-11-24T03:52:22.123Z INFO text".
// Never given message text or key material, only names, addresses, fingerprints and reasons.
#include <atomic>
#include <sstream>
#include <string>
#include <string_view>

namespace natter::server {

enum class log_level { debug = 0, info = 1, warn = 2, error = 3, off = 4 };

[[nodiscard]] bool parse_log_level(std::string_view text, log_level& out);

class logger {
 public:
  static void set_level(log_level level) { level_.store(level, std::memory_order_relaxed); }
  [[nodiscard]] static bool enabled(log_level level) {
    return level >= level_.load(std::memory_order_relaxed);
  }
  // Writes one whole line with a single write(2), so lines from several threads never mix.
  static void write(log_level level, std::string_view line);

 private:
  static std::atomic<log_level> level_;
};

// log_info("client ", address, " joined as ", name): the pieces are formatted only if enabled.
template <typename... Parts>
void log_at(log_level level, const Parts&... parts) {
  if (!logger::enabled(level)) return;
  std::ostringstream line;
  (line << ... << parts);
  logger::write(level, line.str());
}
template <typename... P> void log_debug(const P&... p) { log_at(log_level::debug, p...); }
template <typename... P> void log_info(const P&... p) { log_at(log_level::info, p...); }
template <typename... P> void log_warn(const P&... p) { log_at(log_level::warn, p...); }
template <typename... P> void log_error(const P&... p) { log_at(log_level::error, p...); }

}  // namespace natter::server
