#pragma once
// Private to natter_common: a JSON object written straight into a string, byte for byte as
// nlohmann's dump() writes it (ensure_ascii off: non-ASCII passed through; the same escapes,
// lower-case \u00XX for other controls; doubles by nlohmann itself). Members are written in the
// order the caller gives; schema_write.hpp gives nlohmann's (sorted by key).
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace natter::detail {

class json_text {
 public:
  explicit json_text(std::size_t reserve) { out_.reserve(reserve); }

  // Appends `"key":` with the separator the previous member needs. Keys are natter's own literals.
  json_text& key(std::string_view k) {
    out_ += first_ ? '{' : ',';
    first_ = false;
    out_ += '"';
    out_ += k;
    out_ += "\":";
    return *this;
  }
  json_text& number(std::uint64_t v) { return integer(v); }
  json_text& number(std::int64_t v) { return integer(v); }
  // Shortest round trip, "0.0" for zero: as nlohmann writes doubles, by nlohmann.
  json_text& number(double v);
  json_text& boolean(bool v) {
    out_ += v ? "true" : "false";
    return *this;
  }
  // A string natter itself spells (a type, a scope word): ASCII with nothing to escape.
  json_text& literal(std::string_view word) {
    out_ += '"';
    out_ += word;
    out_ += '"';
    return *this;
  }
  // A value written by another json_text (an array element, a nested object).
  json_text& raw(std::string_view text) {
    out_ += text;
    return *this;
  }
  // False if `s` is not valid UTF-8: the caller must not use the result (nlohmann's writer,
  // whose error handler replaces such bytes, is the fallback).
  [[nodiscard]] bool string(std::string_view s);
  // An object with no members is "{}", as nlohmann writes it.
  std::string finish() && {
    if (first_) out_ += '{';
    out_ += '}';
    return std::move(out_);
  }

 private:
  template <typename T>
  json_text& integer(T v) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, v).ptr;
    out_.append(digits, end);
    return *this;
  }

  std::string out_;
  bool first_ = true;
};

}  // namespace natter::detail
