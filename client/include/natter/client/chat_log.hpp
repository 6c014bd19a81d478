#pragma once
// Chat logs on disk, opt-in ([logging] in the config file, or --log-dir): what the person saw of
// messages, whispers and presence, as the conversation hands it over (conversation_config::log),
// so both interfaces log alike. One file per server and day, DIR/HOST_PORT/YYYY-MM-DD.log, each
// line "YYYY-MM-DD HH:MM:SS text". Never keys or fingerprints: the conversation logs text only.
//
// The files are as private as the chat: created 0600 (O_EXCL, O_NOFOLLOW) in directories made
// 0700, and an existing file is appended to only if secure_file accepts it (a regular file of
// ours, no group/other bits, one link), so a planted symlink or a shared file is refused. The
// directory holding the day's file must not be writable by others (check_directory_of).
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "natter/clock.hpp"
#include "natter/secure_file.hpp"

namespace natter::client {

// A line longer than this is cut there (a message is at most a few KiB; this only bounds a
// log line whatever the conversation hands over).
inline constexpr std::size_t max_log_line_bytes = 16 * 1024;

// "HOST_PORT", with every character other than A-Z a-z 0-9 . - made '_' (an IPv6 literal's ':'
// too), so a host name from the command line can never climb out of DIR or hide a path in it.
[[nodiscard]] std::string log_directory_name(std::string_view host, std::uint16_t port);

class chat_log {
 public:
  // `wall` says when a line is written (tests inject a clock); `utc` dates in UTC (tests).
  chat_log(std::filesystem::path dir, std::string_view host, std::uint16_t port, ms_clock wall = natter::wall_ms,
           bool utc = false);

  // Appends one line (control characters made printable, newlines included), opening the day's
  // file when the date changed. Returns the error that stopped it (the file refused or not
  // writable); the caller says so once and stops logging.
  [[nodiscard]] std::optional<std::string> write(std::string_view text);

  // The file lines written now would go to.
  [[nodiscard]] std::filesystem::path file_for(std::int64_t wall_ms) const;

 private:
  std::filesystem::path server_dir_;
  ms_clock wall_;
  bool utc_;
  std::filesystem::path open_path_;  // the day's file `fd_` holds
  files::unique_fd fd_;
};

}  // namespace natter::client
