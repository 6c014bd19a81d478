#include "natter/client/wide_text.hpp"

#include <cwchar>

namespace natter::client {

namespace {

constexpr wchar_t replacement = 0xFFFD;

bool is_scalar(char32_t c) { return c <= 0x10FFFF && (c < 0xD800 || c > 0xDFFF); }

// East Asian Wide/Fullwidth blocks (Unicode UAX #11), enough for CJK, Hangul and emoji.
bool is_wide(char32_t c) {
  return (c >= 0x1100 && c <= 0x115F) || (c >= 0x2E80 && c <= 0x303E) ||
         (c >= 0x3041 && c <= 0x33FF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0xA000 && c <= 0xA4CF) ||
         (c >= 0xAC00 && c <= 0xD7A3) || (c >= 0xF900 && c <= 0xFAFF) ||
         (c >= 0xFE30 && c <= 0xFE4F) || (c >= 0xFF00 && c <= 0xFF60) ||
         (c >= 0xFFE0 && c <= 0xFFE6) || (c >= 0x1F300 && c <= 0x1F64F) ||
         (c >= 0x1F900 && c <= 0x1F9FF) || (c >= 0x20000 && c <= 0x3FFFD);
}

bool is_combining(char32_t c) {
  return (c >= 0x0300 && c <= 0x036F) || (c >= 0x1AB0 && c <= 0x1AFF) ||
         (c >= 0x20D0 && c <= 0x20FF) || (c >= 0xFE20 && c <= 0xFE2F) || c == 0x200B ||
         c == 0x200D;
}

}  // namespace

std::wstring widen(std::string_view s) {
  std::wstring out;
  out.reserve(s.size());
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    char32_t c = 0;
    char32_t min = 0;
    if (b < 0x80) {
      out.push_back(static_cast<wchar_t>(b));
      ++i;
      continue;
    }
    if ((b & 0xE0) == 0xC0) { len = 2; c = b & 0x1F; min = 0x80; }
    else if ((b & 0xF0) == 0xE0) { len = 3; c = b & 0x0F; min = 0x800; }
    else if ((b & 0xF8) == 0xF0) { len = 4; c = b & 0x07; min = 0x10000; }
    std::size_t k = 1;
    for (; len != 0 && k < len && i + k < s.size(); ++k) {
      const auto cont = static_cast<unsigned char>(s[i + k]);
      if ((cont & 0xC0) != 0x80) break;
      c = (c << 6) | (cont & 0x3F);
    }
    if (len == 0 || k != len || c < min || !is_scalar(c)) {
      out.push_back(replacement);
      i += (len == 0 ? 1 : k);  // resynchronise on the next possible lead byte
      continue;
    }
    out.push_back(static_cast<wchar_t>(c));
    i += len;
  }
  return out;
}

std::string narrow(std::wstring_view w) {
  std::string out;
  out.reserve(w.size());
  for (const wchar_t wc : w) {
    auto c = static_cast<char32_t>(wc);
    if (!is_scalar(c)) c = replacement;
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (c >> 12)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (c >> 18)));
      out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

int char_width(wchar_t wc) {
  const auto c = static_cast<char32_t>(wc);
  if (c == U'\t') return 1;  // text may hold tabs (the protocol allows them); drawn as one space
  if (c < 0x20 || (c >= 0x7F && c < 0xA0)) return 0;
  if (c < 0x7F) return 1;
  if (const int w = ::wcwidth(wc); w >= 0) return w;
  if (is_combining(c)) return 0;
  return is_wide(c) ? 2 : 1;
}

std::size_t text_width(std::wstring_view text) {
  std::size_t width = 0;
  for (const wchar_t c : text) width += static_cast<std::size_t>(char_width(c));
  return width;
}

std::wstring_view fit_width(std::wstring_view text, std::size_t columns) {
  std::size_t used = 0;
  std::size_t i = 0;
  for (; i < text.size(); ++i) {
    const auto w = static_cast<std::size_t>(char_width(text[i]));
    if (used + w > columns) break;
    used += w;
  }
  return text.substr(0, i);
}

std::vector<std::wstring> wrap(std::wstring_view text, std::size_t columns, std::size_t indent) {
  std::vector<std::wstring> rows;
  if (columns == 0) columns = 1;
  if (indent >= columns) indent = 0;
  std::size_t avail = columns;
  while (true) {
    std::wstring_view row = fit_width(text, avail);
    if (row.size() == text.size()) {
      rows.emplace_back(row);
      break;
    }
    if (row.empty()) row = text.substr(0, 1);  // a wide char in a 1-column pane: show it anyway
    // Prefer breaking after the last space of the row, unless that would leave almost nothing.
    if (const auto space = row.rfind(L' '); space != std::wstring_view::npos && space > 0 &&
                                            space + 1 > row.size() / 3) {
      row = row.substr(0, space + 1);
    }
    rows.emplace_back(row);
    text.remove_prefix(row.size());
    avail = columns - indent;
  }
  return rows;
}

}  // namespace natter::client
