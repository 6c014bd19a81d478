#pragma once
// The operator console's commands (`users`, `kick NAME [reason]`, `stop`, `help`) as a function:
// a line of text in, the answer to print and what the server must do out. Reading the terminal
// is console_reader's job (natter_server_io); this part needs no I/O and is unit-tested.
#include <string>
#include <string_view>

#include "natter/server/router.hpp"

namespace natter::server {

struct console_outcome {
  bool stop = false;   // the operator asked the server to stop
  std::string answer;  // text to print (may be empty), each line ending in '\n'
};

// Runs one console line against `routes` (`kick` disconnects the user through the router).
[[nodiscard]] console_outcome run_console_command(std::string_view line, router& routes);

// The line the server logs once the console is ready.
inline constexpr std::string_view console_ready_text = "console ready: users, kick NAME, stop, help";

}  // namespace natter::server
