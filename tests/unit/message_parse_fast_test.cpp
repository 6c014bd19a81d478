// parse_client_frame() reads a lone flat object with a hand-written scanner (no DOM) and leaves
// everything else to nlohmann's DOM. A batch of one goes down the DOM path, so `[obj]` and `obj`
// must give the same result for any object: random requests with random member types,
// duplicates, nested values, floats, big and negative numbers, escapes, non-ASCII text.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "natter/limits.hpp"
#include "natter/message_build.hpp"
#include "natter/message_parse.hpp"
// Private to natter_common, included here to test the scanner against nlohmann.
#include "../../common/src/flat_object.hpp"

namespace {

std::string random_value(std::mt19937_64& rng) {
  static const std::string values[] = {
      "\"say\"", "\"join\"", "\"whisper\"", "\"users\"", "\"whois\"", "\"ping\"", "\"quit\"", "\"nope\"",
      "\"hello\"", "\"alice\"", "\"bad name!\"", "\"\"", "\"a\\\"b\\\\c\\n\\u0041\\u00e9\\ud83d\\ude00\"",
      "\"tab\\there\"", "\"\\u0007bell\"", "\"\xec\x95\x88\xeb\x85\x95\"", "0", "1", "-1", "42",
      "9007199254740991", "9007199254740992", "18446744073709551615", "18446744073709551616",
      "-9223372036854775808", "1.0", "1e3", "-0", "0.5", "true", "false", "null", "[]", "[1,2]", "{}",
      "{\"a\":1}", "\"" + std::string(70, 'x') + "\""};
  return values[rng() % std::size(values)];
}

std::string random_object(std::mt19937_64& rng) {
  static const char* const keys[] = {"type", "text", "ref", "name", "to", "reason", "x", "TYPE", ""};
  std::string out = "{";
  const std::size_t n = rng() % 6;
  for (std::size_t i = 0; i < n; ++i) {
    if (i) out += ',';
    out += '"';
    out += keys[rng() % std::size(keys)];
    out += "\":";
    out += random_value(rng);
  }
  out += '}';
  return out;
}

std::string describe(const natter::parsed_client_item& item) {
  if (const auto* e = std::get_if<natter::message_error>(&item)) {
    return "error " + e->code + " " + e->message + " ref " + (e->ref ? std::to_string(*e->ref) : "-");
  }
  const auto& m = std::get<natter::client_message>(item);
  return "message " + std::to_string(m.index()) + " " + natter::build(m);
}

}  // namespace

TEST_CASE("a lone object parses the same with the scanner fast path as inside a batch (DOM)") {
  std::mt19937_64 rng(424242);
  const natter::text_limits limits{natter::limits::max_text};
  int compared = 0;
  for (int i = 0; i < 30000; ++i) {
    std::string object = random_object(rng);
    if (i % 4 == 0) {
      // Corrupt a byte now and then: syntax errors and odd shapes go to the DOM either way.
      object[rng() % object.size()] = "{}[]\",: a\\"[rng() % 11];
    }
    const auto parsed = nlohmann::json::parse(object, nullptr, false);
    const auto lone = natter::parse_client_frame(object, limits);
    REQUIRE(lone.size() == 1);
    if (parsed.is_discarded() || !parsed.is_object()) {
      CHECK(std::holds_alternative<natter::message_error>(lone[0]));
      continue;
    }
    const auto batch = natter::parse_client_frame("[" + object + "]", limits);
    REQUIRE(batch.size() == 1);
    INFO(object);
    REQUIRE(describe(lone[0]) == describe(batch[0]));
    ++compared;
  }
  CHECK(compared > 20000);
}

// White-box: the hand-written scanner in front of the DOM (common/src/flat_object_scan.cpp) must
// take the requests the client sends, and whenever it accepts, it must read exactly what
// nlohmann's parser reads.

namespace {

// "key=kind:value;" per member, sorted by key (nlohmann's objects are sorted, the scanner keeps
// the text's order).
template <typename Value>
std::string describe_value(const Value& value) {
  if (value.is_null()) return "null";
  if (value.is_boolean()) return value.template get<bool>() ? "true" : "false";
  if (value.is_string()) return "s:" + value.template get<std::string>();
  if (value.is_number_unsigned()) return "u:" + std::to_string(value.template get<std::uint64_t>());
  if (value.is_number_integer()) return "i:" + std::to_string(value.template get<std::int64_t>());
  return "other";
}

std::string members_of(std::vector<std::string> members) {
  std::sort(members.begin(), members.end());
  std::string out;
  for (const auto& m : members) out += m + ";";
  return out;
}

std::string members_of(natter::detail::flat_object& object) {
  std::vector<std::string> members;
  for (const auto& [key, value] : object.members()) members.push_back(key + "=" + describe_value(value));
  return members_of(members);
}

std::string members_of(const nlohmann::json& object) {
  std::vector<std::string> members;
  for (const auto& [key, value] : object.items()) members.push_back(key + "=" + describe_value(value));
  return members_of(members);
}

// An object of the shape the client sends: strings with the short escapes and UTF-8 (now and
// then ill-formed: truncated, overlong, a surrogate, above U+10FFFF, a stray byte), unsigned
// integers of every length, literals.
std::string random_client_object(std::mt19937_64& rng) {
  static const char* const pieces[] = {"a", "Z", "0", " ", "~", "\\\"", "\\\\", "\\/", "\\n", "\\t", "\\r", "\\b", "\\f", "\x7f",
                                       "\xc3\xa9", "\xec\x95\x88", "\xf0\x9f\x98\x80", "\xef\xbf\xbd"};
  static const char* const ill_formed[] = {"\xff", "\xc3", "\xed\xa0\x80", "\xc0\xaf", "\xf4\x90\x80\x80", "\x80"};
  const auto piece = [&]() {
    return rng() % 250 == 0 ? ill_formed[rng() % std::size(ill_formed)] : pieces[rng() % std::size(pieces)];
  };
  std::string out = "{";
  const std::size_t n = rng() % 5;
  for (std::size_t i = 0; i < n; ++i) {
    if (i) out += ',';
    out += "\"k" + std::string(rng() % 8 == 0 ? "\xc3\xa9" : "") + std::to_string(i) + "\":";
    switch (rng() % 5) {
      case 0: out += std::to_string(rng() >> (rng() % 64)); break;
      case 1: out += rng() % 2 ? "true" : "false"; break;
      case 2: out += "null"; break;
      default:
        out += '"';
        for (std::size_t k = rng() % 40; k > 0; --k) out += piece();
        out += '"';
    }
  }
  out += '}';
  return out;
}

// JSON whitespace, or now and then a byte that is not JSON whitespace.
std::string random_space(std::mt19937_64& rng) {
  static const char* const spaces[] = {"", "", "", " ", "\t", "\n", "\r\n "};
  if (rng() % 50 == 0) return rng() % 2 ? "\v" : "\f";
  return spaces[rng() % std::size(spaces)];
}

}  // namespace

TEST_CASE("the scanner accepts what the client sends, and agrees with nlohmann") {
  using natter::detail::flat_object;
  flat_object object;
  REQUIRE(natter::detail::scan_flat_object(
      natter::build(natter::client_message{natter::say_request{"hello \"world\" \\ / \t", 7}}), object));
  CHECK(members_of(object) == "ref=u:7;text=s:hello \"world\" \\ / \t;type=s:say;");
  // Valid UTF-8 is the scanner's too (it used to leave it to a SAX reader); \u escapes are not.
  REQUIRE(natter::detail::scan_flat_object("{\"type\":\"say\",\"text\":\"caf\xc3\xa9\"}", object));
  CHECK(members_of(object) == "text=s:caf\xc3\xa9;type=s:say;");
  CHECK_FALSE(natter::detail::scan_flat_object(R"({"type":"say","text":"caf\u00e9"})", object));
  CHECK_FALSE(natter::detail::scan_flat_object("{\"type\":\"say\",\"text\":\"caf\xc3\"}", object));
  CHECK_FALSE(natter::detail::scan_flat_object("{\"type\":\"say\",\"text\":\"\xed\xa0\x80\"}", object));
  CHECK_FALSE(natter::detail::scan_flat_object("{\"ty\xffpe\":\"say\"}", object));
  CHECK_FALSE(natter::detail::scan_flat_object(R"({"ref":-1})", object));
  CHECK_FALSE(natter::detail::scan_flat_object(R"({"ref":1.0})", object));
  CHECK_FALSE(natter::detail::scan_flat_object(R"({"ref":01})", object));
  CHECK_FALSE(natter::detail::scan_flat_object(R"({"ref":18446744073709551616})", object));
  CHECK_FALSE(natter::detail::scan_flat_object(R"({"a":1,"a":2})", object));
  CHECK_FALSE(natter::detail::scan_flat_object(R"({"a":1} x)", object));
  CHECK_FALSE(natter::detail::scan_flat_object(R"({"a":1,})", object));
  CHECK_FALSE(natter::detail::scan_flat_object("{\"a\":\"\x01\"}", object));

  std::mt19937_64 rng(777);
  int accepted = 0;
  int accepted_non_ascii = 0;
  int refused_valid = 0;
  for (int i = 0; i < 30000; ++i) {
    std::string text = random_space(rng) + "{" + random_space(rng);
    const std::string inner = i % 2 ? random_object(rng) : random_client_object(rng);
    // Re-space the members: whitespace after every structural character, now and then.
    for (const char c : inner.substr(1, inner.size() - 2)) {
      text += c;
      if (c == ',' || c == ':') text += random_space(rng);
    }
    text += random_space(rng) + "}" + random_space(rng);
    if (i % 4 == 0) text[rng() % text.size()] = "{}[]\",: a\\0-.e\xc3"[rng() % 16];
    flat_object scanned;
    const auto parsed = nlohmann::json::parse(text, nullptr, false);
    INFO(text);
    if (!natter::detail::scan_flat_object(text, scanned)) {
      if (!parsed.is_discarded()) ++refused_valid;
      continue;
    }
    ++accepted;
    if (std::any_of(text.begin(), text.end(), [](char c) { return static_cast<unsigned char>(c) >= 0x80; })) {
      ++accepted_non_ascii;
    }
    REQUIRE_FALSE(parsed.is_discarded());
    REQUIRE(parsed.is_object());
    CHECK(members_of(scanned) == members_of(parsed));
  }
  CHECK(accepted > 12000);
  CHECK(accepted_non_ascii > 1000);
  CHECK(refused_valid > 1000);  // the DOM still has work: the test reaches both sides
}
