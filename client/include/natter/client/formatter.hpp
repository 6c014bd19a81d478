#pragma once
// Turns events into the text a line-mode terminal shows (pure). Every string that came from the
// network goes through natter::printable(), so a peer cannot inject terminal escape sequences or
// fake lines.
#include <cstdint>
#include <optional>
#include <string>

#include "natter/client/client_events.hpp"

namespace natter::client {

enum class channel {
  chat,   // conversation and room information: stdout
  error,  // errors, warnings, notices: stderr
  trace,  // --trace output: stderr
};

struct display_line {
  channel where = channel::chat;
  std::string text;  // may hold several lines separated by '\n'; no trailing newline
};

// How chat lines look. Line mode writes text that stays readable in a log file; the full
// screen has colours to tell whispers apart, so it uses short arrows.
enum class chat_style {
  plain,   // "<bob> hi", "*bob* (whisper) psst", "-> *bob* yo"
  arrows,  // "<bob> hi", "←bob psst", "→bob yo"
};

struct format_options {
  std::string own_name;  // to tell our own whispers from others'
  bool utc = false;      // times in UTC instead of local time (tests)
  chat_style style = chat_style::plain;
};

// "HH:MM" of a server timestamp (milliseconds since the epoch).
[[nodiscard]] std::string format_clock(std::int64_t ts_ms, bool utc);

// The display for an event, or nullopt if it shows nothing (ack, pong, trust requests which the
// UI handles itself).
[[nodiscard]] std::optional<display_line> format_event(const client_event& event,
                                                       const format_options& options);

}  // namespace natter::client
