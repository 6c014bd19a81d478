// parse_client_frame / parse_server_frame on untrusted plaintext (docs/PROTOCOL.md §4-5).
#include <doctest/doctest.h>

#include <chrono>
#include <string>
#include <variant>

#include "natter/limits.hpp"
#include "natter/message_parse.hpp"
#include "natter/messages.hpp"

using namespace std::string_literals;
using natter::client_message;
using natter::message_error;
using natter::parsed_client_item;

namespace {

constexpr natter::text_limits default_limits{natter::limits::max_text};

parsed_client_item parse_one(const std::string& plaintext,
                             natter::text_limits limits = default_limits) {
  std::vector<parsed_client_item> items;
  REQUIRE_NOTHROW(items = natter::parse_client_frame(plaintext, limits));
  REQUIRE(items.size() == 1);
  return items.front();
}

template <typename T>
T message_of(const parsed_client_item& item) {
  REQUIRE(std::holds_alternative<client_message>(item));
  const auto& message = std::get<client_message>(item);
  REQUIRE(std::holds_alternative<T>(message));
  return std::get<T>(message);
}

message_error error_of(const parsed_client_item& item) {
  REQUIRE(std::holds_alternative<message_error>(item));
  return std::get<message_error>(item);
}

// The single error a frame produces.
message_error frame_error(const std::string& plaintext) { return error_of(parse_one(plaintext)); }

std::string nested_arrays(std::size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

}  // namespace

TEST_CASE("every client message type parses") {
  SUBCASE("join") {
    const auto m = message_of<natter::join_request>(parse_one(R"({"type":"join","name":"alice","ref":1})"));
    CHECK(m.name == "alice");
    CHECK(m.ref == 1u);
  }
  SUBCASE("say") {
    const auto m = message_of<natter::say_request>(parse_one(R"({"type":"say","text":"hi there","ref":2})"));
    CHECK(m.text == "hi there");
    CHECK(m.ref == 2u);
  }
  SUBCASE("whisper") {
    const auto m = message_of<natter::whisper_request>(
        parse_one(R"({"type":"whisper","to":"bob","text":"psst","ref":3})"));
    CHECK(m.to == "bob");
    CHECK(m.text == "psst");
    CHECK(m.ref == 3u);
  }
  SUBCASE("users") {
    CHECK(message_of<natter::users_request>(parse_one(R"({"type":"users","ref":4})")).ref == 4u);
  }
  SUBCASE("whois") {
    const auto m = message_of<natter::whois_request>(parse_one(R"({"type":"whois","name":"Carol","ref":5})"));
    CHECK(m.name == "Carol");
    CHECK(m.ref == 5u);
  }
  SUBCASE("ping") {
    CHECK(message_of<natter::ping_request>(parse_one(R"({"type":"ping","ref":6})")).ref == 6u);
  }
  SUBCASE("quit with and without a reason") {
    CHECK(message_of<natter::quit_request>(parse_one(R"({"type":"quit","reason":"bed time"})")).reason ==
          "bed time");
    CHECK(message_of<natter::quit_request>(parse_one(R"({"type":"quit"})")).reason.empty());
  }
}

TEST_CASE("ref is optional and covers 0 to 2^53-1") {
  CHECK_FALSE(message_of<natter::ping_request>(parse_one(R"({"type":"ping"})")).ref.has_value());
  CHECK_FALSE(message_of<natter::ping_request>(parse_one(R"({"type":"ping","ref":null})")).ref.has_value());
  CHECK(message_of<natter::ping_request>(parse_one(R"({"type":"ping","ref":0})")).ref == 0u);
  CHECK(message_of<natter::ping_request>(parse_one(R"({"type":"ping","ref":9007199254740991})")).ref ==
        9007199254740991u);
}

TEST_CASE("a ref outside 0..2^53-1 or not an integer is an error") {
  for (const char* ref : {"9007199254740992", "18446744073709551615", "-1", "1.5", "1e3", "\"7\"",
                          "true", "[1]"}) {
    CAPTURE(ref);
    const auto e = frame_error(R"({"type":"ping","ref":)"s + ref + "}");
    CHECK(e.code == natter::errc::bad_message);
    CHECK_FALSE(e.ref.has_value());  // an invalid ref cannot be echoed
  }
}

TEST_CASE("action is an optional boolean on say and whisper") {
  CHECK(message_of<natter::say_request>(parse_one(R"({"type":"say","text":"waves","action":true})")).action);
  CHECK_FALSE(message_of<natter::say_request>(parse_one(R"({"type":"say","text":"hi","action":false})")).action);
  CHECK_FALSE(message_of<natter::say_request>(parse_one(R"({"type":"say","text":"hi","action":null})")).action);
  CHECK(message_of<natter::whisper_request>(parse_one(R"({"type":"whisper","to":"bob","text":"nods","action":true})"))
            .action);
}

TEST_CASE("away: the message is optional; one too long or not UTF-8 is dropped, which means back") {
  CHECK(message_of<natter::away_request>(parse_one(R"({"type":"away","message":"lunch","ref":3})")).message == "lunch");
  CHECK(message_of<natter::away_request>(parse_one(R"({"type":"away"})")).message.empty());
  const std::string long_text(natter::limits::max_reason + 1, 'x');
  CHECK(message_of<natter::away_request>(parse_one(R"({"type":"away","message":")" + long_text + R"("})"))
            .message.empty());
  CHECK(frame_error(R"({"type":"away","message":5,"ref":7})").code == natter::errc::bad_message);
}

TEST_CASE("unknown members are ignored") {
  const auto m = message_of<natter::say_request>(
      parse_one(R"({"type":"say","text":"hi","extra":{"nested":[1,2]},"ref":8,"zzz":null})"));
  CHECK(m.text == "hi");
  CHECK(m.ref == 8u);
}

TEST_CASE("missing or ill-typed fields give bad_message with the ref echoed") {
  for (const char* json : {
           R"({"type":"join","ref":7})",
           R"({"type":"join","name":5,"ref":7})",
           R"({"type":"join","name":null,"ref":7})",
           R"({"type":"say","ref":7})",
           R"({"type":"say","text":["hi"],"ref":7})",
           R"({"type":"whisper","text":"hi","ref":7})",
           R"({"type":"whisper","to":"bob","ref":7})",
           R"({"type":"whisper","to":{},"text":"hi","ref":7})",
           R"({"type":"whois","ref":7})",
           R"({"type":"whois","name":false,"ref":7})",
           R"({"type":"quit","reason":12,"ref":7})",
           R"({"type":"say","text":"hi","action":"yes","ref":7})",
           R"({"type":"whisper","to":"bob","text":"hi","action":1,"ref":7})",
           R"({"ref":7})",
           R"({"type":12,"ref":7})",
           R"({"type":null,"ref":7})",
       }) {
    CAPTURE(json);
    const auto e = frame_error(json);
    CHECK(e.code == natter::errc::bad_message);
    CHECK(e.ref == 7u);
    CHECK_FALSE(e.message.empty());
  }
}

TEST_CASE("invalid values give bad_name or bad_text with the ref echoed") {
  SUBCASE("names") {
    for (const char* json : {
             R"({"type":"join","name":"bad name","ref":9})",
             R"({"type":"join","name":"","ref":9})",
             R"({"type":"join","name":"\u0430lice","ref":9})",
             R"({"type":"join","name":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","ref":9})",
             R"({"type":"whisper","to":"b\nob","text":"hi","ref":9})",
             R"({"type":"whois","name":"al\u202eice","ref":9})",
         }) {
      CAPTURE(json);
      const auto e = frame_error(json);
      CHECK(e.code == natter::errc::bad_name);
      CHECK(e.ref == 9u);
    }
  }
  SUBCASE("texts") {
    for (const std::string& json : {
             R"({"type":"say","text":"","ref":9})"s,
             R"({"type":"say","text":"ring\u0007","ref":9})"s,
             R"({"type":"say","text":"a\nb","ref":9})"s,
             R"({"type":"say","text":"csi\u009b","ref":9})"s,
             R"({"type":"whisper","to":"bob","text":"\u001b[2J","ref":9})"s,
             R"({"type":"say","text":")"s + std::string(natter::limits::max_text + 1, 'x') + R"(","ref":9})",
         }) {
      CAPTURE(json.substr(0, 80));
      const auto e = frame_error(json);
      CHECK(e.code == natter::errc::bad_text);
      CHECK(e.ref == 9u);
    }
  }
}

TEST_CASE("the text limit comes from the caller") {
  const natter::text_limits small{10};
  CHECK(message_of<natter::say_request>(parse_one(R"({"type":"say","text":"0123456789"})", small)).text ==
        "0123456789");
  CHECK(error_of(parse_one(R"({"type":"say","text":"0123456789a"})", small)).code == natter::errc::bad_text);
  const auto max = std::string(natter::limits::max_text, 'x');
  CHECK(message_of<natter::say_request>(parse_one(R"({"type":"say","text":")" + max + "\"}")).text == max);
}

TEST_CASE("a quit reason that is too long is dropped, not refused") {
  const std::string ok(natter::limits::max_reason, 'r');
  const std::string too_long(natter::limits::max_reason + 1, 'r');
  CHECK(message_of<natter::quit_request>(parse_one(R"({"type":"quit","reason":")" + ok + "\"}")).reason == ok);
  CHECK(message_of<natter::quit_request>(parse_one(R"({"type":"quit","reason":")" + too_long + "\"}"))
            .reason.empty());
}

TEST_CASE("an unknown type gives unknown_type with the ref echoed and a printable message") {
  auto e = frame_error(R"({"type":"dance","ref":11})");
  CHECK(e.code == natter::errc::unknown_type);
  CHECK(e.ref == 11u);
  CHECK(e.message.find("dance") != std::string::npos);

  // A hostile type name must not smuggle terminal escapes into the error text.
  e = frame_error(R"({"type":"\u001b[2Jx\u0085","ref":12})");
  CHECK(e.code == natter::errc::unknown_type);
  CHECK(e.message.find('\x1b') == std::string::npos);
  CHECK(e.message.find("\xc2\x85") == std::string::npos);
}

TEST_CASE("text that is not JSON gives a single bad_json") {
  for (const std::string& text : {""s, " "s, "{"s, "}"s, "not json"s, R"({"type":"ping"} trailing)"s,
                                  R"({"type":"ping",})"s, "{'type':'ping'}"s, "\0"s, R"({"type":"ping"}{"type":"ping"})"s}) {
    CAPTURE(text);
    const auto e = frame_error(text);
    CHECK(e.code == natter::errc::bad_json);
    CHECK_FALSE(e.ref.has_value());
  }
}

TEST_CASE("JSON that is not an object or array of objects gives bad_json") {
  for (const char* text : {"42", "null", "true", R"("ping")", "[1]", R"(["ping"])", "[[]]"}) {
    CAPTURE(text);
    CHECK(frame_error(text).code == natter::errc::bad_json);
  }
}

TEST_CASE("invalid UTF-8 inside a JSON string gives bad_json and never throws") {
  for (const std::string& text : {
           "{\"type\":\"say\",\"text\":\"\xff\"}"s,
           "{\"type\":\"say\",\"text\":\"\xc0\xaf\"}"s,
           "{\"type\":\"say\",\"text\":\"\xed\xa0\x80\"}"s,
           "{\"type\":\"say\",\"text\":\"abc\xe2\x82\"}"s,
           "{\"type\":\"join\",\"name\":\"\x80\"}"s,
           "{\"type\":\"\xf4\x90\x80\x80\"}"s,
           "{\"ty\xffpe\":\"ping\"}"s,
           // JSON escapes that would decode to a lone surrogate (not UTF-8 once decoded)
           R"({"type":"say","text":"\ud800"})"s,
           R"({"type":"say","text":"\udc00x"})"s,
       }) {
    CAPTURE(text);
    const auto e = frame_error(text);
    CHECK(e.code == natter::errc::bad_json);
  }
  // A proper escaped surrogate pair is fine: U+1F600.
  CHECK(message_of<natter::say_request>(parse_one(R"({"type":"say","text":"\ud83d\ude00"})")).text ==
        "\xf0\x9f\x98\x80");
}

TEST_CASE("hostile nesting is refused quickly as bad_json") {
  const auto start = std::chrono::steady_clock::now();
  CHECK(frame_error(std::string(100000, '[')).code == natter::errc::bad_json);
  CHECK(frame_error(nested_arrays(100000)).code == natter::errc::bad_json);  // well-formed, still refused
  std::string objects;
  for (int i = 0; i < 100000; ++i) objects += R"({"a":)";
  CHECK(frame_error(objects).code == natter::errc::bad_json);
  const auto elapsed = std::chrono::steady_clock::now() - start;
  CHECK(elapsed < std::chrono::seconds(2));  // a linear scan, not a recursive descent
}

TEST_CASE("a well-formed message nested deeper than max_json_depth is refused as bad_json") {
  CHECK(natter::limits::max_json_depth == 8);
  // object + 8 arrays = depth 9; without the depth limit this would parse as a ping.
  CHECK(frame_error(R"({"type":"ping","x":[[[[[[[[1]]]]]]]],"ref":1})").code == natter::errc::bad_json);
  // object + 7 arrays = depth 8 is still fine.
  CHECK(message_of<natter::ping_request>(parse_one(R"({"type":"ping","x":[[[[[[[1]]]]]]],"ref":1})")).ref == 1u);
}

TEST_CASE("nesting within the limit is accepted and brackets inside strings do not count") {
  // object + 4 arrays = depth 5
  CHECK(message_of<natter::ping_request>(parse_one(R"({"type":"ping","x":[[[[1]]]]})")).ref == std::nullopt);
  const auto text = message_of<natter::say_request>(
      parse_one(R"({"type":"say","text":"[[[[[[[[[[{{{{{{{{{{ \"[[[[[[[[[[ \\"})"));
  CHECK(text.text == R"([[[[[[[[[[{{{{{{{{{{ "[[[[[[[[[[ \)");
}

TEST_CASE("json_depth_within counts arrays and objects outside strings") {
  CHECK(natter::json_depth_within("{}", 1));
  CHECK_FALSE(natter::json_depth_within("[{}]", 1));
  CHECK(natter::json_depth_within("[{}]", 2));
  CHECK(natter::json_depth_within(nested_arrays(8), 8));
  CHECK_FALSE(natter::json_depth_within(nested_arrays(9), 8));
  CHECK(natter::json_depth_within(R"(["[[[[[[[[[["])", 1));
  CHECK(natter::json_depth_within(R"(["\"[[[["])", 1));           // escaped quote stays in the string
  CHECK_FALSE(natter::json_depth_within(R"(["\\",[[]]])", 2));    // escaped backslash ends the escape
  CHECK(natter::json_depth_within("[][][][][][][][][][]", 1));    // siblings do not add up
}

TEST_CASE("batches are parsed in order, one item per element") {
  SUBCASE("two messages") {
    const auto items = natter::parse_client_frame(
        R"([{"type":"say","text":"one","ref":1},{"type":"ping","ref":2}])", default_limits);
    REQUIRE(items.size() == 2);
    CHECK(message_of<natter::say_request>(items[0]).text == "one");
    CHECK(message_of<natter::ping_request>(items[1]).ref == 2u);
  }
  SUBCASE("a bad element does not spoil its neighbours") {
    const auto items = natter::parse_client_frame(
        R"([{"type":"ping","ref":1},{"type":"say","ref":2},42,{"type":"ping","ref":3}])", default_limits);
    REQUIRE(items.size() == 4);
    CHECK(message_of<natter::ping_request>(items[0]).ref == 1u);
    CHECK(error_of(items[1]).code == natter::errc::bad_message);
    CHECK(error_of(items[1]).ref == 2u);
    CHECK(error_of(items[2]).code == natter::errc::bad_json);
    CHECK(message_of<natter::ping_request>(items[3]).ref == 3u);
  }
  SUBCASE("exactly max_batch messages") {
    std::string batch = "[";
    for (std::size_t i = 0; i < natter::limits::max_batch; ++i) {
      if (i) batch += ',';
      batch += R"({"type":"ping","ref":)" + std::to_string(i) + "}";
    }
    batch += "]";
    const auto items = natter::parse_client_frame(batch, default_limits);
    REQUIRE(items.size() == natter::limits::max_batch);
    for (std::size_t i = 0; i < items.size(); ++i) CHECK(message_of<natter::ping_request>(items[i]).ref == i);
  }
}

TEST_CASE("a batch of max_batch+1 gives a single too_many_batched") {
  CHECK(natter::limits::max_batch == 256);
  std::string batch = "[";
  for (std::size_t i = 0; i <= natter::limits::max_batch; ++i) {
    if (i) batch += ',';
    batch += R"({"type":"say","text":"x"})";
  }
  batch += "]";
  CHECK(frame_error(batch).code == natter::errc::too_many_batched);
}

TEST_CASE("an empty batch gives bad_json") {
  CHECK(frame_error("[]").code == natter::errc::bad_json);
  CHECK(frame_error(" [ ] ").code == natter::errc::bad_json);
}

TEST_CASE("a presence notice's message is read, and dropped (not refused) if too long or ill-typed") {
  const auto left = [](const std::string& extra) {
    const auto items = natter::parse_server_frame(R"({"type":"presence","event":"left","name":"bob","reason":"quit")" +
                                                  extra + "}");
    REQUIRE(items.size() == 1);
    const auto& message = std::get<natter::server_message>(items[0]);
    return std::get<natter::presence_event>(message).message;
  };
  CHECK(left(R"(,"message":"see you tomorrow")") == "see you tomorrow");
  CHECK(left("").empty());  // an older server sends none
  CHECK(left(R"(,"message":")" + std::string(natter::limits::max_reason + 1, 'r') + "\"").empty());
  CHECK(left(R"(,"message":7)").empty());
}

TEST_CASE("parse_server_frame reports bad input as errors too") {
  const auto bad = [](const std::string& text) {
    std::vector<natter::parsed_server_item> items;
    REQUIRE_NOTHROW(items = natter::parse_server_frame(text));
    REQUIRE(items.size() == 1);
    REQUIRE(std::holds_alternative<message_error>(items[0]));
    return std::get<message_error>(items[0]);
  };
  CHECK(bad("nope").code == natter::errc::bad_json);
  CHECK(bad("{\"type\":\"bye\",\"reason\":\"\xff\"}").code == natter::errc::bad_json);
  CHECK(bad(std::string(100000, '[')).code == natter::errc::bad_json);
  CHECK(bad(R"({"type":"from_the_future","ref":3})").code == natter::errc::unknown_type);
  CHECK(bad(R"({"type":"ack","id":1,"ts":2})").code == natter::errc::bad_message);      // ack needs a ref
  CHECK(bad(R"({"type":"ack","ref":1,"id":-1,"ts":2})").code == natter::errc::bad_message);
  CHECK(bad(R"({"type":"message","id":1,"ts":2,"from":"a","text":"t","scope":"whisper"})").code ==
        natter::errc::bad_message);                                                       // whisper needs "to"
  CHECK(bad(R"({"type":"welcome","name":"a","max_frame":1,"max_text":1,"users":[1]})").code ==
        natter::errc::bad_message);
  CHECK(bad(R"({"type":"whois","name":"a","fingerprint":"f","online":"yes","ref":4})").ref == 4u);
}
