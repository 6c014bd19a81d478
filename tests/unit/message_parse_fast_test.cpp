// parse_client_frame() reads a lone flat object with a SAX parser (no DOM) and leaves everything
// else to nlohmann's DOM. A batch of one goes down the DOM path, so `[obj]` and `obj` must give
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
