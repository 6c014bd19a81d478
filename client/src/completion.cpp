#include "natter/client/completion.hpp"

#include <algorithm>
#include <cwctype>

namespace natter::client {

namespace {

wchar_t fold(wchar_t c) { return c < 0x80 ? static_cast<wchar_t>(std::towlower(c)) : c; }

bool starts_with_folded(std::wstring_view text, std::wstring_view prefix) {
  if (prefix.size() > text.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (fold(text[i]) != fold(prefix[i])) return false;
  }
  return true;
}

// Longest prefix shared by all candidates (compared folded; spelled as the first one).
std::wstring common_prefix(const std::vector<std::wstring>& words) {
  std::wstring prefix = words.front();
  for (const auto& w : words) {
    std::size_t n = 0;
    while (n < prefix.size() && n < w.size() && fold(prefix[n]) == fold(w[n])) ++n;
    prefix.resize(n);
  }
  return prefix;
}

}  // namespace

const std::vector<std::wstring>& tui_command_names() {
  static const std::vector<std::wstring> names{L"/fingerprint", L"/help",  L"/msg",  L"/quit",
                                               L"/users",       L"/verify", L"/w",   L"/whois"};
  return names;
}

completion complete(std::wstring_view line, std::size_t cursor, const std::vector<std::wstring>& user_names) {
  cursor = std::min(cursor, line.size());
  completion result{std::wstring(line), cursor, {}};
  std::size_t start = cursor;
  while (start > 0 && line[start - 1] != L' ') --start;
  const std::wstring_view word = line.substr(start, cursor - start);
  const std::wstring_view before = line.substr(0, start);
  const bool first_word = before.find_first_not_of(L' ') == std::wstring_view::npos;

  const std::vector<std::wstring>* pool = &user_names;
  std::wstring suffix = L" ";
  if (first_word && word.starts_with(L"/")) {
    pool = &tui_command_names();
  } else if (first_word) {
    suffix = L": ";  // "alice: " addresses someone, as in IRC
  }
  // Any later word completes a name: "/w al", "/whois al", "thanks al".

  std::vector<std::wstring> matches;
  for (const auto& candidate : *pool) {
    if (starts_with_folded(candidate, word)) matches.push_back(candidate);
  }
  if (matches.empty()) return result;
  std::sort(matches.begin(), matches.end());
  matches.erase(std::unique(matches.begin(), matches.end()), matches.end());

  // Several matches: extend by what they share, keeping the letters as the user typed them.
  std::wstring replacement = matches.size() == 1
                                 ? matches.front() + suffix
                                 : std::wstring(word) + common_prefix(matches).substr(word.size());
  // Do not add a second suffix when the user already typed it.
  std::wstring_view after = line.substr(cursor);
  if (matches.size() == 1 && after.starts_with(suffix)) replacement = matches.front();
  result.text = std::wstring(line.substr(0, start)) + replacement + std::wstring(after);
  result.cursor = start + replacement.size();
  if (matches.size() == 1 && after.starts_with(suffix)) result.cursor += suffix.size();
  if (matches.size() > 1) result.candidates = std::move(matches);
  return result;
}

}  // namespace natter::client
