#pragma once
// Command-line parsing for `natter` (pure: the environment is passed in, nothing is printed).
// CLI11 reads the words; this module owns the meanings, defaults and messages. The config file
// (config_file.hpp) fills in what the command line left out: see apply_config there.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace natter::client {

inline constexpr std::uint16_t default_port = 9900;
inline constexpr std::string_view default_host = "127.0.0.1";

// The parts of the environment the client reads.
struct environment {
  std::optional<std::string> xdg_config_home;
  std::optional<std::string> home;
  std::optional<std::string> user;          // $USER, the non-interactive default name
  std::optional<std::string> keylog_file;   // $NATTER_KEYLOGFILE
  std::optional<std::string> xdg_data_home; // the chat logs' default place
};

[[nodiscard]] environment read_environment();

// Which interface an interactive session gets.
enum class ui_mode {
  automatic,  // full screen if stdin and stdout are terminals of at least 60x12, else lines
  tui,        // --tui: full screen (needs terminals)
  plain,      // --plain: line mode
};

struct client_options {
  std::string host{default_host};
  std::uint16_t port = default_port;
  bool address_given = false;                 // HOST[:PORT] on the command line (beats the config file)
  std::optional<std::string> name;            // --name, validated
  std::filesystem::path identity;             // --identity or the default
  std::filesystem::path known_hosts;          // --known-hosts or beside the default identity
  bool print_fingerprint = false;             // --fingerprint
  bool accept_new = false;                    // --accept-new
  std::optional<std::string> expect_fingerprint;  // --expect-fingerprint, normalised
  std::optional<std::filesystem::path> keylog;    // --keylog or $NATTER_KEYLOGFILE
  bool trace = false;                         // --trace
  std::size_t max_frame = 0;                  // --max-frame (0 = limits::default_max_frame)
  std::optional<long> wait_ms;                // --wait-ms
  bool stay = false;                          // --stay
  ui_mode ui = ui_mode::automatic;            // --tui, --plain
  std::filesystem::path config;               // --config or default_config_dir()/config.toml
  bool config_given = false;                  // --config: the file must exist
  std::optional<std::filesystem::path> log_dir;  // --log-dir: log the chat there (overrides the file)
  bool accept_peer_key_changes = false;       // --accept-peer-key-changes (bots; dangerous)
  std::optional<std::filesystem::path> e2e_keylog;  // --e2e-keylog: end-to-end message keys
  bool require_e2e = false;                   // --require-e2e: never send room texts in the clear
  std::optional<std::size_t> e2e_room_limit;  // --e2e-room-limit (tests): instead of max_e2e_room_members
};

struct parse_result {
  enum class action { run, help, version, usage_error } what = action::run;
  client_options options;
  std::string error;  // usage_error: what was wrong
};

// `args` excludes the program name.
[[nodiscard]] parse_result parse_options(std::span<const std::string_view> args, const environment& env);

// Splits "HOST", "HOST:PORT", "[V6]:PORT", "[V6]" or a bare IPv6 literal. nullopt on error.
struct address {
  std::string host;
  std::uint16_t port = default_port;
};
[[nodiscard]] std::optional<address> parse_address(std::string_view text);

// Where the config directory is: $XDG_CONFIG_HOME/natter, else ~/.config/natter.
[[nodiscard]] std::filesystem::path default_config_dir(const environment& env);
// Where chat logs go unless told: $XDG_DATA_HOME/natter/logs, else ~/.local/share/natter/logs.
[[nodiscard]] std::filesystem::path default_log_dir(const environment& env);

[[nodiscard]] std::string usage_text();

}  // namespace natter::client
