// build() and build_batch(), checked against the member names of docs/PROTOCOL.md §5 and by
// round trips through the parsers.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <string>
#include <variant>
#include <vector>

#include "natter/limits.hpp"
#include "natter/message_build.hpp"
#include "natter/message_parse.hpp"
#include "natter/text.hpp"

using json = nlohmann::json;
using natter::server_message;

namespace {

constexpr natter::text_limits default_limits{natter::limits::max_text};

template <typename T>
T client_round_trip(const T& original) {
  const std::string text = natter::build(natter::client_message{original});
  const auto items = natter::parse_client_frame(text, default_limits);
  REQUIRE(items.size() == 1);
  REQUIRE(std::holds_alternative<natter::client_message>(items[0]));
  const auto& message = std::get<natter::client_message>(items[0]);
  REQUIRE(std::holds_alternative<T>(message));
  return std::get<T>(message);
}

template <typename T>
T server_round_trip(const T& original) {
  const std::string text = natter::build(server_message{original});
  const auto items = natter::parse_server_frame(text);
  REQUIRE(items.size() == 1);
  REQUIRE(std::holds_alternative<server_message>(items[0]));
  const auto& message = std::get<server_message>(items[0]);
  REQUIRE(std::holds_alternative<T>(message));
  return std::get<T>(message);
}

json as_json(const std::string& text) {
  const json j = json::parse(text, nullptr, false);
  REQUIRE_FALSE(j.is_discarded());
  return j;
}

void check_users(const std::vector<natter::user_info>& got, const std::vector<natter::user_info>& want) {
  REQUIRE(got.size() == want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    CHECK(got[i].name == want[i].name);
    CHECK(got[i].fingerprint == want[i].fingerprint);
    CHECK(got[i].since_ms == want[i].since_ms);
  }
}

const std::vector<natter::user_info> some_users{
    {"alice", "3b6a-27bc-ceb6-a42d-62a3-a8d0-2a6f-0d73", 1764000000000},
    {"Bob", "0000-1111-2222-3333-4444-5555-6666-7777", 1764000000123},
};

}  // namespace

TEST_CASE("client messages survive build then parse") {
  SUBCASE("join") {
    const auto m = client_round_trip(natter::join_request{"alice", 1});
    CHECK(m.name == "alice");
    CHECK(m.ref == 1u);
  }
  SUBCASE("say with quotes, backslashes, tabs and non-ASCII") {
    const std::string text = "he said \"hi\" \\ \t \xec\x95\x88\xeb\x85\x95 \xf0\x9f\x98\x80 </script>";
    const auto m = client_round_trip(natter::say_request{text, 9007199254740991u});
    CHECK(m.text == text);
    CHECK(m.ref == 9007199254740991u);
  }
  SUBCASE("whisper") {
    const auto m = client_round_trip(natter::whisper_request{"bob", "psst", std::nullopt});
    CHECK(m.to == "bob");
    CHECK(m.text == "psst");
    CHECK_FALSE(m.ref.has_value());
  }
  SUBCASE("users, whois, ping") {
    CHECK(client_round_trip(natter::users_request{3}).ref == 3u);
    const auto w = client_round_trip(natter::whois_request{"carol", 4});
    CHECK(w.name == "carol");
    CHECK(w.ref == 4u);
    CHECK(client_round_trip(natter::ping_request{0}).ref == 0u);
    CHECK_FALSE(client_round_trip(natter::ping_request{}).ref.has_value());
  }
  SUBCASE("quit") {
    CHECK(client_round_trip(natter::quit_request{"bye all"}).reason == "bye all");
    CHECK(client_round_trip(natter::quit_request{}).reason.empty());
  }
}

TEST_CASE("client messages use the protocol's member names") {
  auto j = as_json(natter::build(natter::client_message{natter::whisper_request{"bob", "psst", 5}}));
  CHECK(j == json{{"type", "whisper"}, {"to", "bob"}, {"text", "psst"}, {"ref", 5}});
  j = as_json(natter::build(natter::client_message{natter::ping_request{}}));
  CHECK(j == json{{"type", "ping"}});  // no ref member when there is no ref
}

TEST_CASE("every server message survives build then parse") {
  SUBCASE("welcome") {
    const auto m = server_round_trip(natter::welcome_event{
        .name = "Alice", .users = some_users, .user_count = 2, .motd = "be nice\nreally",
        .max_frame = 65536, .max_text = 4096});
    CHECK(m.name == "Alice");
    check_users(m.users, some_users);
    CHECK(m.user_count == 2);
    CHECK(m.motd == "be nice\nreally");
    CHECK(m.max_frame == 65536);
    CHECK(m.max_text == 4096);
  }
  SUBCASE("welcome without motd and with nobody else online") {
    const auto m = server_round_trip(natter::welcome_event{
        .name = "alice", .users = {}, .user_count = 0, .motd = "", .max_frame = 4096, .max_text = 100});
    CHECK(m.users.empty());
    CHECK(m.motd.empty());
    CHECK(m.max_frame == 4096);
  }
  SUBCASE("ack") {
    const auto m = server_round_trip(natter::ack_event{2, 17, 1764000000000});
    CHECK(m.ref == 2);
    CHECK(m.id == 17);
    CHECK(m.ts_ms == 1764000000000);
  }
  SUBCASE("broadcast message") {
    const auto m = server_round_trip(natter::chat_event{18, 1764000000001, "alice", "", "hello all", false});
    CHECK(m.id == 18);
    CHECK(m.ts_ms == 1764000000001);
    CHECK(m.from == "alice");
    CHECK(m.text == "hello all");
    CHECK_FALSE(m.whisper);
    CHECK(m.to.empty());
  }
  SUBCASE("whispered message") {
    const auto m = server_round_trip(natter::chat_event{19, 5, "alice", "bob", "secret", true});
    CHECK(m.whisper);
    CHECK(m.to == "bob");
    CHECK(m.text == "secret");
  }
  SUBCASE("presence joined and left") {
    const auto j = server_round_trip(natter::presence_event{true, "bob", "aaaa-bbbb", ""});
    CHECK(j.joined);
    CHECK(j.name == "bob");
    CHECK(j.fingerprint == "aaaa-bbbb");
    const auto l = server_round_trip(natter::presence_event{false, "bob", "", "timeout"});
    CHECK_FALSE(l.joined);
    CHECK(l.reason == "timeout");
  }
  SUBCASE("users") {
    const auto m = server_round_trip(natter::users_event{.ref = 7, .users = some_users, .more = true});
    CHECK(m.ref == 7u);
    check_users(m.users, some_users);
    CHECK(m.more);
    CHECK_FALSE(server_round_trip(natter::users_event{.ref = std::nullopt, .users = {}, .more = false}).more);
  }
  SUBCASE("whois") {
    const auto m = server_round_trip(natter::whois_event{8, "carol", "cccc-dddd", true});
    CHECK(m.ref == 8u);
    CHECK(m.name == "carol");
    CHECK(m.fingerprint == "cccc-dddd");
    CHECK(m.online);
    CHECK_FALSE(server_round_trip(natter::whois_event{8, "carol", "cccc-dddd", false}).online);
  }
  SUBCASE("pong") {
    CHECK(server_round_trip(natter::pong_event{9}).ref == 9u);
    CHECK_FALSE(server_round_trip(natter::pong_event{}).ref.has_value());
  }
  SUBCASE("error") {
    const auto m = server_round_trip(natter::error_event{"name_taken", "that name belongs to another key", 10});
    CHECK(m.code == "name_taken");
    CHECK(m.message == "that name belongs to another key");
    CHECK(m.ref == 10u);
  }
  SUBCASE("bye") {
    const auto m = server_round_trip(natter::bye_event{"kicked", "behave"});
    CHECK(m.reason == "kicked");
    CHECK(m.message == "behave");
  }
}

TEST_CASE("server messages use the protocol's member names") {
  auto j = as_json(natter::build(server_message{natter::ack_event{2, 17, 1764000000000}}));
  CHECK(j == json{{"type", "ack"}, {"ref", 2}, {"id", 17}, {"ts", 1764000000000}});

  j = as_json(natter::build(server_message{natter::chat_event{1, 2, "alice", "", "hi", false}}));
  CHECK(j.at("type") == "message");
  CHECK(j.at("scope") == "all");
  CHECK_FALSE(j.contains("to"));  // "to" is for whispers only
  j = as_json(natter::build(server_message{natter::chat_event{1, 2, "alice", "bob", "hi", true}}));
  CHECK(j.at("scope") == "whisper");
  CHECK(j.at("to") == "bob");

  j = as_json(natter::build(server_message{natter::presence_event{true, "bob", "ffff", "ignored"}}));
  CHECK(j.at("event") == "joined");
  CHECK(j.at("fingerprint") == "ffff");
  CHECK_FALSE(j.contains("reason"));  // reason is for "left" only
  j = as_json(natter::build(server_message{natter::presence_event{false, "bob", "ignored", "quit"}}));
  CHECK(j.at("event") == "left");
  CHECK(j.at("reason") == "quit");
  CHECK_FALSE(j.contains("fingerprint"));

  j = as_json(natter::build(server_message{natter::welcome_event{
      .name = "a", .users = some_users, .user_count = 2, .motd = "", .max_frame = 65536, .max_text = 4096}}));
  CHECK(j.at("users").at(1) == json{{"name", "Bob"}, {"fingerprint", some_users[1].fingerprint},
                                    {"since", 1764000000123}});
  CHECK(j.at("max_frame") == 65536);
  CHECK(j.at("max_text") == 4096);
  CHECK_FALSE(j.contains("motd"));  // optional, omitted when empty
}

TEST_CASE("build never throws on invalid UTF-8 and never emits it") {
  std::string text;
  REQUIRE_NOTHROW(text = natter::build(server_message{natter::error_event{"internal", "bad \xff\xc0 bytes", 1}}));
  CHECK(natter::is_valid_utf8(text));
  REQUIRE_NOTHROW(text = natter::build(natter::client_message{natter::say_request{"\xed\xa0\x80", {}}}));
  CHECK(natter::is_valid_utf8(text));
}

TEST_CASE("build_batch joins messages into an array the parser splits again") {
  const std::string a = natter::build(server_message{natter::pong_event{1}});
  const std::string b = natter::build(server_message{natter::bye_event{"quit", "goodbye"}});

  SUBCASE("one message is sent as the object itself") {
    const std::vector<std::string_view> one{a};
    CHECK(natter::build_batch(one) == a);
  }
  SUBCASE("two messages") {
    const std::vector<std::string_view> two{a, b};
    const std::string batch = natter::build_batch(two);
    CHECK(as_json(batch).is_array());
    const auto items = natter::parse_server_frame(batch);
    REQUIRE(items.size() == 2);
    REQUIRE(std::holds_alternative<server_message>(items[0]));
    REQUIRE(std::holds_alternative<server_message>(items[1]));
    CHECK(std::get<natter::pong_event>(std::get<server_message>(items[0])).ref == 1u);
    CHECK(std::get<natter::bye_event>(std::get<server_message>(items[1])).reason == "quit");
  }
  SUBCASE("max_batch messages stay one frame's worth of items, in order") {
    std::vector<std::string> built;
    for (std::uint64_t i = 0; i < natter::limits::max_batch; ++i) {
      built.push_back(natter::build(server_message{natter::chat_event{i, 0, "a", "", "m" + std::to_string(i), false}}));
    }
    const std::vector<std::string_view> views(built.begin(), built.end());
    const auto items = natter::parse_server_frame(natter::build_batch(views));
    REQUIRE(items.size() == natter::limits::max_batch);
    for (std::uint64_t i = 0; i < items.size(); ++i) {
      REQUIRE(std::holds_alternative<server_message>(items[i]));
      CHECK(std::get<natter::chat_event>(std::get<server_message>(items[i])).id == i);
    }
  }
  SUBCASE("client batches too") {
    const std::string p = natter::build(natter::client_message{natter::ping_request{1}});
    const std::string s = natter::build(natter::client_message{natter::say_request{"x", 2}});
    const std::vector<std::string_view> two{p, s};
    const auto items = natter::parse_client_frame(natter::build_batch(two), default_limits);
    REQUIRE(items.size() == 2);
    CHECK(std::holds_alternative<natter::say_request>(std::get<natter::client_message>(items[1])));
  }
}

TEST_CASE("leave reasons have the protocol's names") {
  CHECK(natter::to_string(natter::leave_reason::quit) == "quit");
  CHECK(natter::to_string(natter::leave_reason::dropped) == "dropped");
  CHECK(natter::to_string(natter::leave_reason::kicked) == "kicked");
  CHECK(natter::to_string(natter::leave_reason::timeout) == "timeout");
  CHECK(natter::to_string(natter::leave_reason::too_slow) == "too_slow");
  CHECK(natter::to_string(natter::leave_reason::protocol_error) == "protocol_error");
  CHECK(natter::to_string(natter::leave_reason::server_stopping) == "server_stopping");
}
