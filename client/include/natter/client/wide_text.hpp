#pragma once
// Text as the terminal sees it: wide strings (UTF-32 wchar_t on Linux, what ncursesw's
// get_wch/waddnwstr take) and display columns. Hangul and other East Asian wide characters
// take two columns, combining marks none, so cursor placement and wrapping count columns,
// never characters or bytes. Pure.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace natter::client {

// UTF-8 to wide; invalid sequences become U+FFFD.
[[nodiscard]] std::wstring widen(std::string_view utf8);
// Wide to UTF-8; values that are not Unicode scalar values become U+FFFD.
[[nodiscard]] std::string narrow(std::wstring_view wide);

// Columns one character occupies: wcwidth() in a UTF-8 locale; where the C library does not
// know the character (e.g. a test running in the "C" locale) a small East Asian Wide table, so
// the answer never depends on luck. Control characters count 0, except TAB: text may hold
// tabs, and the screen draws each as one space so that columns stay countable.
[[nodiscard]] int char_width(wchar_t c);
[[nodiscard]] std::size_t text_width(std::wstring_view text);

// The longest prefix of `text` that fits in `columns`.
[[nodiscard]] std::wstring_view fit_width(std::wstring_view text, std::size_t columns);

// Splits `text` into rows of at most `columns` columns (at least one row, even for ""). Breaks
// at the last space that fits when there is one, else mid-word; a wide character never straddles
// two rows. Continuation rows are indented by `indent` columns (the caller adds the spaces).
[[nodiscard]] std::vector<std::wstring> wrap(std::wstring_view text, std::size_t columns,
                                             std::size_t indent = 0);

}  // namespace natter::client
