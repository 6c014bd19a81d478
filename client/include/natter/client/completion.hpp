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

// Tab pressed again and again, as in irssi: with several matches the first press puts in the
// first one (sorted), each further press replaces it with the next, round and round; the UI
// shows the candidates meanwhile (the status line). Any other key ends the round (reset()).
//   "/w <Tab>" -> "/w alice ", <Tab> -> "/w bob ", <Tab> -> "/w alice "
class completion_cycle {
 public:
  [[nodiscard]] completion next(std::wstring_view line, std::size_t cursor, const std::vector<std::wstring>& user_names);
  void reset() { candidates_.clear(); }
  [[nodiscard]] bool cycling() const { return !candidates_.empty(); }
  // The candidate now in the line (while cycling).
  [[nodiscard]] std::size_t current() const { return index_; }

 private:
  std::wstring before_;  // the line before the completed word
  std::wstring after_;   // the line after the cursor when the round began
  std::wstring suffix_;  // ": " or " "
  std::vector<std::wstring> candidates_;
  std::size_t index_ = 0;
};

}  // namespace natter::client
