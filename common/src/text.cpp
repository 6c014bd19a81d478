#include "natter/text.hpp"

#include <cstdint>

#include "byte_words.hpp"

namespace natter {

namespace {

// Length of the UTF-8 sequence starting at s[i], or 0 if it is not well formed.
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<std::uint8_t>(s[k]); };
  const std::uint8_t b0 = byte(i);
  if (b0 < 0x80) return 1;
  std::size_t len = 0;
  std::uint8_t lo = 0x80, hi = 0xbf;  // allowed range of the second byte (Unicode Table 3-7)
  if (b0 >= 0xc2 && b0 <= 0xdf) {
    len = 2;
  } else if (b0 >= 0xe0 && b0 <= 0xef) {
    len = 3;
    if (b0 == 0xe0) lo = 0xa0;   // overlong
    if (b0 == 0xed) hi = 0x9f;   // surrogates
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    len = 4;
    if (b0 == 0xf0) lo = 0x90;   // overlong
    if (b0 == 0xf4) hi = 0x8f;   // above U+10FFFF
  } else {
    return 0;  // continuation byte, C0/C1 overlong lead, or F5..FF
  }
  if (i + len > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < len; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80) return 0;
  }
  return len;
}

bool is_forbidden_control(unsigned char c) { return (c < 0x20 && c != '\t') || c == 0x7f; }

// C1 controls (U+0080..U+009F, encoded C2 80..C2 9F) include CSI, which some terminals obey.
bool is_c1_control(std::string_view s, std::size_t i, std::size_t len) {
  return len == 2 && static_cast<std::uint8_t>(s[i]) == 0xc2 &&
         static_cast<std::uint8_t>(s[i + 1]) <= 0x9f;
}

// Where the run of plain ASCII starting at s[i] ends, eight bytes at a time: chat text is mostly
// ASCII, and this runs on every message the server parses and writes.
std::size_t skip_ascii(std::string_view s, std::size_t i) {
  while (i + 8 <= s.size() && !detail::has_high_byte(s.data() + i)) i += 8;
  while (i < s.size() && static_cast<std::uint8_t>(s[i]) < 0x80) ++i;
  return i;
}

}  // namespace

bool is_valid_utf8(std::string_view s) {
  for (std::size_t i = skip_ascii(s, 0); i < s.size(); i = skip_ascii(s, i)) {
    const std::size_t len = utf8_sequence_length(s, i);
    if (len == 0) return false;
    i += len;
  }
  return true;
}

bool is_valid_name(std::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  for (const char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '.' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string fold_name(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::optional<std::string_view> text_problem(std::string_view text, std::size_t max_bytes) {
  if (text.empty()) return "text is empty";
  if (text.size() > max_bytes) return "text is too long";
  std::size_t i = 0;
  // The plain ASCII prefix, without decoding: only its control characters need a look, and
  // eight printable bytes at a time need none (this runs on every say and whisper).
  while (i < text.size()) {
    if (i + 8 <= text.size() && detail::is_printable_ascii_word(text.data() + i)) {
      i += 8;
      continue;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x80) break;
    if (is_forbidden_control(c)) return "text contains control characters";
    ++i;
  }
  while (i < text.size()) {
    const std::size_t len = utf8_sequence_length(text, i);
    if (len == 0) return "text is not valid UTF-8";
    if ((len == 1 && is_forbidden_control(static_cast<unsigned char>(text[i]))) ||
        is_c1_control(text, i, len)) {
      return "text contains control characters";
    }
    i += len;
  }
  return std::nullopt;
}

std::string printable(std::string_view untrusted) {
  static constexpr std::string_view replacement = "\xef\xbf\xbd";  // U+FFFD
  std::string out;
  out.reserve(untrusted.size());
  for (std::size_t i = 0; i < untrusted.size();) {
    const std::size_t len = utf8_sequence_length(untrusted, i);
    if (len == 0) {
      out += replacement;
      ++i;
    } else if ((len == 1 && is_forbidden_control(static_cast<unsigned char>(untrusted[i]))) ||
               is_c1_control(untrusted, i, len)) {
      out += replacement;
      i += len;
    } else {
      out.append(untrusted.substr(i, len));
      i += len;
    }
  }
  return out;
}

std::string printable_lines(std::string_view untrusted) {
  std::string out;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = untrusted.find('\n', start);
    out += printable(untrusted.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) break;
    out += '\n';
    start = end + 1;
  }
  return out;
}

std::vector<std::string_view> split_words(std::string_view line) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t')) ++i;
    const std::size_t start = i;
    while (i < line.size() && line[i] != ' ' && line[i] != '\t') ++i;
    if (i > start) words.push_back(line.substr(start, i - start));
  }
  return words;
}

}  // namespace natter
