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
  static const std::vector<std::wstring> names{L"/clear", L"/fingerprint", L"/help", L"/msg",   L"/quit",
                                               L"/users", L"/verify",      L"/w",    L"/whois"};
  return names;
}

namespace {

// The word before the cursor and what it may become.
struct word_matches {
  std::size_t start = 0;   // where the word begins
  std::wstring suffix;     // what follows a completed word
  std::vector<std::wstring> matches;  // sorted, without duplicates
};

word_matches find_matches(std::wstring_view line, std::size_t cursor, const std::vector<std::wstring>& user_names) {
  word_matches out;
  out.start = cursor;
  while (out.start > 0 && line[out.start - 1] != L' ') --out.start;
  const std::wstring_view word = line.substr(out.start, cursor - out.start);
  const std::wstring_view before = line.substr(0, out.start);
  const bool first_word = before.find_first_not_of(L' ') == std::wstring_view::npos;

  const std::vector<std::wstring>* pool = &user_names;
  out.suffix = L" ";
  if (first_word && word.starts_with(L"/")) {
    pool = &tui_command_names();
  } else if (first_word) {
    out.suffix = L": ";  // "alice: " addresses someone, as in IRC
  }
  // Any later word completes a name: "/w al", "/w " (every name), "/whois al", "thanks al".
  for (const auto& candidate : *pool) {
    if (starts_with_folded(candidate, word)) out.matches.push_back(candidate);
  }
  std::sort(out.matches.begin(), out.matches.end());
  out.matches.erase(std::unique(out.matches.begin(), out.matches.end()), out.matches.end());
  return out;
}

}  // namespace

completion complete(std::wstring_view line, std::size_t cursor, const std::vector<std::wstring>& user_names) {
  cursor = std::min(cursor, line.size());
  completion result{std::wstring(line), cursor, {}};
  auto [start, suffix, matches] = find_matches(line, cursor, user_names);
  if (matches.empty()) return result;
  const std::wstring_view word = line.substr(start, cursor - start);

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

completion completion_cycle::next(std::wstring_view line, std::size_t cursor,
                                  const std::vector<std::wstring>& user_names) {
  cursor = std::min(cursor, line.size());
  if (!cycling()) {
    auto found = find_matches(line, cursor, user_names);
    if (found.matches.size() < 2) return complete(line, cursor, user_names);  // one or none: no round
    before_ = std::wstring(line.substr(0, found.start));
    after_ = std::wstring(line.substr(cursor));
    // The suffix is put in by the completion; one the user already typed is not doubled.
    if (after_.starts_with(found.suffix)) after_.erase(0, found.suffix.size());
    suffix_ = std::move(found.suffix);
    candidates_ = std::move(found.matches);
    index_ = 0;
  } else {
    index_ = (index_ + 1) % candidates_.size();
  }
  std::wstring head = before_ + candidates_[index_] + suffix_;
  const std::size_t new_cursor = head.size();
  return {head + after_, new_cursor, candidates_};
}

}  // namespace natter::client
