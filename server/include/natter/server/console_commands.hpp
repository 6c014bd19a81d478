#pragma once
// The operator console's commands (`users`, `kick NAME [reason]`, `free NAME`, `ban TARGET
// [reason]`, `unban TARGET`, `bans`, `stop`, `help`) as a function: a line of text in, the answer
// to print and what the server must do out. Reading the terminal is console_reader's job
// (natter_server_io); this part needs no I/O and is unit-tested.
#include <string>
#include <string_view>

#include "natter/clock.hpp"
#include "natter/server/ban_list.hpp"
#include "natter/server/name_registry.hpp"
#include "natter/server/router.hpp"

namespace natter::server {

struct console_outcome {
  bool stop = false;   // the operator asked the server to stop
  std::string answer;  // text to print (may be empty), each line ending in '\n'
};

// What the commands act on; owned by the server.
struct console_context {
  router& routes;       // users, kick, and the kicks a ban makes
  name_registry& names;  // free
  ban_list& bans;       // ban, unban, bans
  ms_clock now_ms;      // the wall clock: when a ban was made is for people to read
};

// Runs one console line.
[[nodiscard]] console_outcome run_console_command(std::string_view line, const console_context& context);

// The line the server logs once the console is ready.
inline constexpr std::string_view console_ready_text =
    "console ready: users, kick NAME, free NAME, ban, unban, bans, stop, help";

}  // namespace natter::server
