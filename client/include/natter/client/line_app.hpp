#pragma once
// Line mode's main loop (`natter --plain`, and always when stdin is not a terminal): it wires a
// client_driver and a stdin_reader to a line_ui on the real stdout and stderr.
#include "natter/client/client_driver.hpp"
#include "natter/client/line_ui.hpp"

namespace natter::client {

// Runs one session to its end and returns the process exit code (0, 1 or 3).
[[nodiscard]] int run_line_ui(const crypto::identity_v2& identity, driver_config config, const line_ui_settings& settings);

}  // namespace natter::client
