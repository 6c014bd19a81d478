// The string escaping of json_text: once per string of every hot message, and most of the
// writer's cost for a chat text, hence the word-at-a-time skip (byte_words.hpp).
#include "json_text.hpp"

#include <nlohmann/json.hpp>

#include "byte_words.hpp"
#include "natter/text.hpp"

namespace natter::detail {

json_text& json_text::number(double v) {
  out_ += nlohmann::json(v).dump();
  return *this;
}

bool json_text::string(std::string_view s) {
  if (!is_valid_utf8(s)) return false;
  out_ += '"';
  std::size_t run = 0;  // start of the bytes not yet copied
  for (std::size_t i = 0; i < s.size(); ++i) {
    // Eight bytes with nothing to escape at a time (most chat text, UTF-8 included: it is
    // passed through as is), then byte by byte.
    while (i + 8 <= s.size() && !has_json_special_byte(s.data() + i)) i += 8;
    if (i == s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out_.append(s, run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out_ += "\\\""; break;
      case '\\': out_ += "\\\\"; break;
      case '\b': out_ += "\\b"; break;
      case '\f': out_ += "\\f"; break;
      case '\n': out_ += "\\n"; break;
      case '\r': out_ += "\\r"; break;
      case '\t': out_ += "\\t"; break;
      default: {
        static constexpr char hex[] = "0123456789abcdef";  // nlohmann writes lower case
        const char escaped[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
        out_.append(escaped, sizeof escaped);
      }
    }
  }
  out_.append(s, run, s.size() - run);
  out_ += '"';
  return true;
}

}  // namespace natter::detail
