#pragma once
// The full-screen UI's main loop (`natter --tui`, the default in a big enough terminal): it
// wires a client_driver to a tui_state and draws it with tui_screen.
#include <filesystem>
#include <string>
#include <vector>

#include "natter/client/client_driver.hpp"
#include "natter/client/config_file.hpp"
#include "natter/client/conversation.hpp"

namespace natter::client {

// Smallest terminal the full-screen UI is chosen for by default.
inline constexpr int tui_min_columns = 60;
inline constexpr int tui_min_rows = 12;

struct tui_settings {
  bool trace = false;
  std::string own_fingerprint;
  std::filesystem::path verified_path;  // the verified store (beside known_hosts)
  // Start-up messages (new identity, key log warning) that stderr would hide behind the screen.
  std::vector<std::string> startup_notices;
  conversation_preferences preferences;  // the config file's bells, clock and chat log
  colour_scheme colours;                 // [colours]
};

// True if stdin and stdout are terminals of at least tui_min_columns x tui_min_rows.
[[nodiscard]] bool terminal_fits_tui();

// Runs one session to its end and returns the exit code (0, 1 or 3), like run_line_ui.
[[nodiscard]] int run_tui(const crypto::identity_v2& identity, driver_config config, const tui_settings& settings);

}  // namespace natter::client
