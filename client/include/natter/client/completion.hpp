#pragma once
// Tab completion for the input line (pure).
//
//   "/wh<Tab>"        -> "/whois "          commands, when completing the first word after '/'
//   "al<Tab>"         -> "alice: "          a user name as the first word: addressing someone
//   "/w al<Tab>"      -> "/w alice "        the name argument of /w, /msg, /whois, /verify
//   "hi al<Tab>"      -> "hi alice "        any other word: a user name
//
// Names match case-insensitively. With several matches the word is extended to their longest
// common prefix and the candidates are returned so the UI can list them.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace natter::client {

// The commands the full-screen UI knows, for completion and /help.
[[nodiscard]] const std::vector<std::wstring>& tui_command_names();

struct completion {
  std::wstring text;    // the new line
  std::size_t cursor;   // the new cursor position
  std::vector<std::wstring> candidates;  // every match (more than one: nothing was decided)
};

// `cursor` indexes `line`; the word before the cursor is completed. Returns the line unchanged
// with no candidates when nothing matches.
[[nodiscard]] completion complete(std::wstring_view line, std::size_t cursor,
                                  const std::vector<std::wstring>& user_names);

}  // namespace natter::client
