// parse_client_frame() reads a lone flat object with a hand-written ASCII scanner or a SAX parser
// (no DOM) and leaves everything else to nlohmann's DOM. A batch of one goes down the DOM path, so `[obj]` and `obj` must give
// the same result for any object: random requests with random member types, duplicates, nested
// values, floats, big and negative numbers, escapes.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <random>
#include <string>
#include <variant>
#include <vector>

#include "natter/limits.hpp"
#include "natter/message_build.hpp"
#include "natter/message_parse.hpp"
// Private to natter_common, included here to test the two fast readers against each other.
#include "../../common/src/flat_object_reader.hpp"

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

TEST_CASE("a lone object parses the same with the SAX fast path as inside a batch (DOM)") {
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

// White-box: the hand-written scanner in front of the SAX reader (common/src/flat_object_scan.cpp)
// must take the plain ASCII requests the client sends, and whenever it accepts, it must read
// exactly what nlohmann's SAX reader reads.

namespace {

std::string members_of(natter::detail::flat_object& object) {
  std::string out;
  for (const auto& [key, value] : object.members()) {
    out += key + "=";
    if (value.is_null()) out += "null";
    else if (value.is_boolean()) out += value.get<bool>() ? "true" : "false";
    else if (value.is_string()) out += "s:" + value.get<std::string>();
    else if (value.is_number_unsigned()) out += "u:" + std::to_string(value.get<std::uint64_t>());
    else out += "i:" + std::to_string(value.get<std::int64_t>());
    out += ";";
  }
  return out;
}

// An object of the shape the client sends: ASCII strings with the short escapes, unsigned
// integers of every length, literals.
std::string random_ascii_object(std::mt19937_64& rng) {
  static const char* const pieces[] = {"a", "Z", "0", " ", "~", "\\\"", "\\\\", "\\/", "\\n", "\\t", "\\r", "\\b", "\\f", "\x7f"};
  std::string out = "{";
  const std::size_t n = rng() % 5;
  for (std::size_t i = 0; i < n; ++i) {
    if (i) out += ',';
    out += "\"k" + std::to_string(i) + "\":";
    switch (rng() % 5) {
      case 0: out += std::to_string(rng() >> (rng() % 64)); break;
      case 1: out += rng() % 2 ? "true" : "false"; break;
      case 2: out += "null"; break;
      default:
        out += '"';
        for (std::size_t k = rng() % 40; k > 0; --k) out += pieces[rng() % std::size(pieces)];
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

TEST_CASE("the ASCII scanner accepts what the client sends, and agrees with the SAX reader") {
  using natter::detail::flat_object;
  flat_object object;
  REQUIRE(natter::detail::scan_flat_ascii_object(
      natter::build(natter::client_message{natter::say_request{"hello \"world\" \\ / \t", 7}}), object));
  CHECK(members_of(object) == "ref=u:7;text=s:hello \"world\" \\ / \t;type=s:say;");
  CHECK_FALSE(natter::detail::scan_flat_ascii_object(R"({"type":"say","text":"caf\u00e9"})", object));
  CHECK_FALSE(natter::detail::scan_flat_ascii_object("{\"type\":\"say\",\"text\":\"caf\xc3\xa9\"}", object));
  CHECK_FALSE(natter::detail::scan_flat_ascii_object(R"({"ref":-1})", object));
  CHECK_FALSE(natter::detail::scan_flat_ascii_object(R"({"ref":1.0})", object));
  CHECK_FALSE(natter::detail::scan_flat_ascii_object(R"({"ref":01})", object));
  CHECK_FALSE(natter::detail::scan_flat_ascii_object(R"({"ref":18446744073709551616})", object));
  CHECK_FALSE(natter::detail::scan_flat_ascii_object(R"({"a":1,"a":2})", object));
  CHECK_FALSE(natter::detail::scan_flat_ascii_object(R"({"a":1} x)", object));
  CHECK_FALSE(natter::detail::scan_flat_ascii_object(R"({"a":1,})", object));
  CHECK_FALSE(natter::detail::scan_flat_ascii_object("{\"a\":\"\x01\"}", object));

  std::mt19937_64 rng(777);
  int accepted = 0;
  for (int i = 0; i < 30000; ++i) {
    std::string text = random_space(rng) + "{" + random_space(rng);
    const std::string inner = i % 2 ? random_object(rng) : random_ascii_object(rng);
    // Re-space the members: whitespace after every structural character, now and then.
    for (const char c : inner.substr(1, inner.size() - 2)) {
      text += c;
      if (c == ',' || c == ':') text += random_space(rng);
    }
    text += random_space(rng) + "}" + random_space(rng);
    if (i % 4 == 0) text[rng() % text.size()] = "{}[]\",: a\\0-.e"[rng() % 15];
    flat_object scanned;
    if (!natter::detail::scan_flat_ascii_object(text, scanned)) continue;
    ++accepted;
    flat_object read;
    natter::detail::flat_object_reader reader(read);
    INFO(text);
    REQUIRE(nlohmann::json::sax_parse(text, &reader, nlohmann::json::input_format_t::json, true));
    CHECK(members_of(scanned) == members_of(read));
  }
  CHECK(accepted > 12000);
}
