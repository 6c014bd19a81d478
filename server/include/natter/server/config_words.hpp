#pragma once
// natter-server's optional config file (--config FILE): TOML, read with toml++, whose keys are
// the long option names ("port = 9901", "no-console = true", "listen = \"::\""). Each setting
// becomes the command-line word it stands for, so options.cpp checks it exactly as if typed and
// the command line, parsed after it, wins.
#include <cstddef>
#include <string>
#include <vector>

namespace natter::server {

// A config file larger than this is refused unread.
inline constexpr std::size_t max_server_config_bytes = 64 * 1024;

struct config_word {
  std::size_t line = 0;  // where the key is, for error messages
  std::string key;       // "port"
  std::string word;      // "--port=9901"; a flag set to true is "--no-console"
};

struct config_words {
  std::vector<config_word> entries;  // in the file's order; a flag set to false gives none
  std::string error;                 // non-empty: "FILE:LINE: KEY: why" (nothing else is valid)
};

// Reads and converts `path`. Strings, integers, floats and booleans only: a table or an array
// is an error naming its line and key, as is a file that is missing or not TOML.
[[nodiscard]] config_words read_config_words(const std::string& path);

}  // namespace natter::server
