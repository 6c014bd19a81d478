#pragma once
// Turns events into the text a line-mode terminal shows (pure). Every string that came from the
// network goes through natter::printable(), so a peer cannot inject terminal escape sequences or
// fake lines.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

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

struct format_options {
  std::string own_name;  // to tell our own whispers from others'
  bool utc = false;      // times in UTC instead of local time (tests)
  std::string clock_format = "%H:%M";  // strftime, the config file's timestamp_format
};

// How a whisper we send looks, in the log and in our own echo alike: "-> *bob* yo". Both
// front ends show whispers the same way (readable in a log file, no colour needed):
// "*bob* (whisper) psst" for one to us. `to` and `text` must already be printable.
[[nodiscard]] std::string whisper_out_text(std::string_view to, std::string_view text);
// How an action (/me) reads, ours as anyone's: "* alice waves".
[[nodiscard]] std::string action_text(std::string_view from, std::string_view text);

// "HH:MM" of a server timestamp (milliseconds since the epoch).
[[nodiscard]] std::string format_clock(std::int64_t ts_ms, bool utc);
// The same with a strftime format; empty if the result is empty or over 64 bytes.
[[nodiscard]] std::string format_clock(std::int64_t ts_ms, bool utc, const std::string& format);

// The display for an event, or nullopt if it shows nothing (ack, pong, trust requests which the
// UI handles itself).
[[nodiscard]] std::optional<display_line> format_event(const client_event& event,
                                                       const format_options& options);

}  // namespace natter::client
