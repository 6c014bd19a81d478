#pragma once
// Command-line options of natter-server, with their defaults (documented in README.md).
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "natter/server/log.hpp"

namespace natter::server {

struct server_options {
  std::string host = "127.0.0.1";
  std::uint16_t port = 9900;
  std::filesystem::path state_dir;     // default: $XDG_STATE_HOME/natter-server or ~/.local/state/natter-server
  unsigned threads = 0;                // 0: one per core
  std::size_t max_frame = 0;           // 0: limits::default_max_frame
  std::size_t queue_bytes = 0;
  std::size_t queue_messages = 0;
  std::chrono::milliseconds idle_timeout{0};
  std::chrono::milliseconds handshake_timeout{0};
  std::size_t max_connections = 10000;
  std::size_t max_per_address = 64;
  std::size_t rate_memory = 65536;  // identities whose rate bucket is remembered (rate_book)
  std::chrono::milliseconds presence_delay{20};  // how long presence notices may be held; 0: never        // returning clients whose long-term shared key is kept
  double rate = 20;                    // say/whisper per second per user
  double burst = 40;
  std::optional<std::filesystem::path> keylog;
  std::optional<std::filesystem::path> port_file;
  bool console = true;                 // read operator commands when stdin is a terminal
  bool print_fingerprint = false;      // --fingerprint: print and exit
  log_level level = log_level::info;
};

struct parse_outcome {
  enum class action { run, exit_ok, exit_usage } what = action::run;
  std::string message;  // help text, version or the usage error
};

// Parses argv; environment NATTER_KEYLOGFILE is honoured when --keylog is absent.
[[nodiscard]] parse_outcome parse_options(const std::vector<std::string>& args, server_options& out);

[[nodiscard]] std::filesystem::path default_state_dir();

}  // namespace natter::server
