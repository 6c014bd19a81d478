// A hand-written reader for the commonest client frame: one JSON object of scalar members,
// such as {"ref":7,"text":"hello","type":"say"}. nlohmann's lexer was most of the cost of
// parsing a `say` (7 % of the server's CPU at 50-way fan-out). This reader never refuses
// anything: whatever it is not sure of (\u escapes, signs, floats, leading zeros, big numbers,
// duplicate keys, nesting, any syntax error, invalid UTF-8) it leaves to nlohmann's DOM parser
// behind it, which decides. It only has to agree with nlohmann on what it accepts, which
// tests/unit/message_parse_fast_test.cpp checks on random objects.
#include <cstdint>
#include <string>
#include <string_view>

#include "flat_object.hpp"
#include "byte_words.hpp"
#include "natter/text.hpp"

namespace natter::detail {

namespace {

class scanner {
 public:
  explicit scanner(std::string_view text) : p_(text.data()), end_(text.data() + text.size()) {}

  bool object(flat_object& out) {
    skip_space();
    if (!take('{')) return false;
    skip_space();
    if (take('}')) return at_end();
    for (;;) {
      std::string key;
      if (!string(key) || out.find(key)) return false;  // duplicates: the DOM keeps the last one
      skip_space();
      if (!take(':')) return false;
      skip_space();
      if (!value(out, std::move(key))) return false;
      skip_space();
      if (take('}')) return at_end();
      if (!take(',')) return false;
      skip_space();
    }
  }

 private:
  // JSON's whitespace (RFC 8259 §2): space, tab, line feed, carriage return; nothing else.
  void skip_space() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\t' || *p_ == '\n' || *p_ == '\r')) ++p_;
  }
  bool take(char c) {
    if (p_ == end_ || *p_ != c) return false;
    ++p_;
    return true;
  }
  bool at_end() {
    skip_space();
    return p_ == end_;
  }
  bool literal(std::string_view word) {
    if (static_cast<std::size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) return false;
    p_ += word.size();
    return true;
  }

  bool string(std::string& out) {
    if (!take('"')) return false;
    const char* run = p_;  // plain characters are copied a run at a time
    bool non_ascii = false;
    while (p_ != end_) {
      // Eight bytes that neither end nor escape the string at a time, then byte by byte.
      while (end_ - p_ >= 8 && !has_json_special_byte(p_)) {
        non_ascii = non_ascii || has_high_byte(p_);
        p_ += 8;
      }
      if (p_ == end_) break;
      const auto c = static_cast<unsigned char>(*p_);
      if (c == '"') {
        out.append(run, p_);
        ++p_;
        // Checked once, on the decoded string: the escapes below decode to ASCII, which can
        // neither complete nor break a multi-byte sequence differently than in the raw text.
        // nlohmann's lexer applies the same rules (RFC 3629).
        return !non_ascii || is_valid_utf8(out);
      }
      if (c < 0x20) return false;  // raw controls are errors
      non_ascii |= c >= 0x80;
      if (c != '\\') {
        ++p_;
        continue;
      }
      out.append(run, p_);
      if (++p_ == end_) return false;
      switch (*p_) {
        case '"': out += '"'; break;
        case '\\': out += '\\'; break;
        case '/': out += '/'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        default: return false;  // \u (and surrogate pairs) to nlohmann; anything else is an error
      }
      run = ++p_;
    }
    return false;  // unterminated
  }

  bool value(flat_object& out, std::string key) {
    if (p_ == end_) return false;
    const char c = *p_;
    if (c == '"') {
      std::string text;
      if (!string(text)) return false;
      out.members().emplace_back(std::move(key), flat_value(flat_value::kind::string, false, 0, 0, std::move(text)));
      return true;
    }
    if (c >= '0' && c <= '9') {
      std::uint64_t number = 0;
      if (!unsigned_integer(number)) return false;
      // nlohmann reports every non-negative integer as number_unsigned.
      out.members().emplace_back(std::move(key),
                                 flat_value(flat_value::kind::unsigned_integer, false, 0, number, {}));
      return true;
    }
    if (literal("true") || literal("false")) {
      out.members().emplace_back(std::move(key), flat_value(flat_value::kind::boolean, c == 't', 0, 0, {}));
      return true;
    }
    if (literal("null")) {
      out.members().emplace_back(std::move(key), flat_value(flat_value::kind::null, false, 0, 0, {}));
      return true;
    }
    return false;  // '-', objects, arrays, anything else
  }

  // 0 | [1-9][0-9]*, fitting in 64 bits, not followed by a fraction or exponent.
  bool unsigned_integer(std::uint64_t& out) {
    if (*p_ == '0') {
      ++p_;
      out = 0;
    } else {
      std::uint64_t value = 0;
      while (p_ != end_ && *p_ >= '0' && *p_ <= '9') {
        const auto digit = static_cast<std::uint64_t>(*p_ - '0');
        if (value > (UINT64_MAX - digit) / 10) return false;  // nlohmann makes it a float
        value = value * 10 + digit;
        ++p_;
      }
      out = value;
    }
    return p_ == end_ || (*p_ != '.' && *p_ != 'e' && *p_ != 'E' && !(*p_ >= '0' && *p_ <= '9'));
  }

  const char* p_;
  const char* end_;
};

}  // namespace

bool scan_flat_object(std::string_view text, flat_object& out) {
  out.members().clear();
  // A request has three or four members (type, ref, text, to): one allocation instead of three.
  out.members().reserve(4);
  return scanner(text).object(out);
}

}  // namespace natter::detail
