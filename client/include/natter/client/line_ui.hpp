#pragma once
// The line-mode user interface: reads lines from stdin, prints events as lines. It is the only
// part a full-screen UI would replace; it talks to the rest through client_driver (commands in)
// and an event_queue (events out of the I/O thread).
#include <filesystem>
#include <optional>
#include <string>

#include "natter/client/client_driver.hpp"

namespace natter::client {

struct ui_settings {
  bool interactive = false;          // stdin is a terminal
  bool trace = false;                // show trace events
  std::optional<long> wait_ms;       // non-interactive: linger after end of input
  bool stay = false;                 // non-interactive: stay until the server closes or a signal
  std::string own_fingerprint;       // for /fingerprint
  std::filesystem::path verified_path;  // interactive /verify: the verified store
};

// Runs one session to its end and returns the process exit code (0, 1 or 3).
[[nodiscard]] int run_line_ui(const crypto::key_pair& identity, driver_config config,
                              const ui_settings& settings);

}  // namespace natter::client
