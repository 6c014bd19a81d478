#pragma once
// The client's settings file: $XDG_CONFIG_HOME/natter/config.toml (or ~/.config/natter/, or
// --config FILE), TOML read with toml++. Every key is optional and a missing file means the
// defaults; README.md ("Config file") lists the keys. What the command line says wins: the file
// only fills in what it left out (apply_config).
//
// Failure contract: a file that is not TOML, a key of the wrong type or an unknown key (a typo
// must not be silently ignored) is refused with one message naming the file, the line and the
// key, e.g. "/home/u/.config/natter/config.toml:4: notifications.bell_on_mention: must be true
// or false"; the program turns that into a usage error (exit 2).
#include <cstddef>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "natter/client/options.hpp"

namespace natter::client {

// A config file larger than this is refused unread: a settings file is a few hundred bytes.
inline constexpr std::size_t max_config_bytes = 64 * 1024;
// Longest timestamp_format accepted; longer output than max_clock_chars is refused as well.
inline constexpr std::size_t max_clock_format_chars = 64;
inline constexpr std::size_t max_clock_chars = 64;
inline constexpr std::string_view default_clock_format = "%H:%M";

// [colours]: colours are ANSI numbers (0 black, 1 red, 2 green, 3 yellow, 4 blue, 5 magenta,
// 6 cyan, 7 white; +8 bright; -1 the terminal's default), which are also ncurses' COLOR_*.
struct colour_scheme {
  bool enabled = true;  // false: the full screen draws without colour
  short own = 2;        // our own lines
  short whisper = 5;    // whispers, both ways
};

// "green", "bright-cyan", "default"; nullopt for anything else.
[[nodiscard]] std::optional<short> colour_number(std::string_view name);

// [servers."HOST:PORT"]: settings for one server.
struct server_settings {
  std::optional<std::string> name;  // the name to use there (beats the top-level name)
};

struct client_config {
  std::optional<std::string> name;        // name = "alice"
  std::optional<address> server;          // server = "chat.example.org:9900"
  std::map<std::string, server_settings> servers;  // by host_key(host, port), so spellings agree
  colour_scheme colours;                  // [colours] enabled, own, whisper
  std::string clock_format{default_clock_format};  // timestamp_format (strftime)
  bool bell_on_mention = true;            // [notifications] bell_on_mention
  bool bell_on_whisper = true;            // [notifications] bell_on_whisper
  bool logging = false;                   // [logging] enabled
  std::optional<std::filesystem::path> log_dir;  // [logging] dir ("~/" is the home directory)
  bool require_e2e = false;               // require_e2e = true: as --require-e2e
};

struct config_outcome {
  std::optional<client_config> config;  // nullopt: `error` says why
  std::string error;
};

// Parses the text of a config file; `file` names it in errors. `env` expands "~/" in paths.
[[nodiscard]] config_outcome parse_config(std::string_view text, const std::string& file, const environment& env);

// Reads `file` (not followed through a symlink, owned by us, not writable by others: it decides
// where chat logs go). A missing file gives the defaults unless `must_exist` (--config).
[[nodiscard]] config_outcome load_config(const std::filesystem::path& file, bool must_exist, const environment& env);

// What the program runs with once both are read.
struct effective_settings {
  std::optional<std::filesystem::path> log_dir;  // chat logs on: their directory
};

// Fills in what the command line left out: the server address, then the name (the server's
// table first, then the top-level name), and decides where chat logs go (--log-dir, else the
// file's [logging], whose dir defaults to default_log_dir()).
[[nodiscard]] effective_settings apply_config(client_options& options, const client_config& config,
                                              const environment& env);

}  // namespace natter::client
