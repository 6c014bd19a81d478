#include "natter/client/formatter.hpp"

#include <doctest/doctest.h>

namespace nc = natter::client;

namespace {
// 2025-11-24 13:05:00 UTC
constexpr std::int64_t ts = 1763989500000;

std::string show(const natter::server_message& m, const std::string& own = "alice") {
  const auto line = nc::format_event(nc::client_event{m}, {own, true});
  return line ? line->text : "<nothing>";
}
}  // namespace

TEST_CASE("clock is HH:MM") {
  CHECK(nc::format_clock(ts, true) == "13:05");
}

TEST_CASE("the config file's timestamp_format sets the clock") {
  CHECK(nc::format_clock(ts, true, "%H:%M") == "13:05");
  CHECK(nc::format_clock(ts, true, "[%H.%M]") == "[13.05]");
  CHECK(nc::format_clock(ts, true, std::string(70, 'x')).empty());  // over 64 bytes: refused
  nc::format_options options{"alice", true, "%Hh%M"};
  const auto line = nc::format_event(nc::client_event{natter::server_message{natter::chat_event{1, ts, "bob", "", "hi", false}}}, options);
  REQUIRE(line);
  CHECK(line->text == "13h05 <bob> hi");
}

TEST_CASE("broadcasts and whispers") {
  CHECK(show(natter::chat_event{1, ts, "bob", "", "hi", false}) == "13:05 <bob> hi");
  CHECK(show(natter::chat_event{2, ts, "bob", "alice", "psst", true}) == "13:05 *bob* (whisper) psst");
  // Our own whisper echoed back (if a server does that) is shown as outgoing.
  CHECK(show(natter::chat_event{3, ts, "Alice", "bob", "yo", true}) == "13:05 -> *bob* yo");
}

TEST_CASE("untrusted text cannot inject terminal control sequences") {
  const auto text = show(natter::chat_event{1, ts, "bob", "", "red \x1b[31m\nfake line", false});
  CHECK(text.find('\x1b') == std::string::npos);
  CHECK(text.find('\n') == std::string::npos);
}

TEST_CASE("an action (/me) reads \"* alice waves\", broadcast or whispered") {
  natter::chat_event action{1, 1764000000000, "alice", "", "waves", false};
  action.action = true;
  const std::string shown = show(action);
  CHECK(shown.ends_with(" * alice waves"));
  CHECK(shown.find('<') == std::string::npos);
  action.whisper = true;
  action.from = "bob";
  action.to = "alice";
  CHECK(show(action).ends_with(" (whisper) * bob waves"));
}

TEST_CASE("away shows on whois and in /users") {
  natter::whois_event whois{{}, "bob", "2:bb", true, "", "lunch"};
  CHECK(show(whois) == "* bob: fingerprint 2:bb (online)\n* bob is away: lunch");
  natter::users_event users;
  users.users = {{"bob", "2:bb", 0, "", "lunch"}};
  CHECK(show(users) == "* online (1):\n*   bob  2:bb  (away: lunch)");
}

TEST_CASE("presence, users, whois, welcome") {
  CHECK(show(natter::presence_event{false, "bob", "", "dropped"}) == "* bob left (dropped)");
  CHECK(show(natter::presence_event{false, "bob", "", "quit", {}, "see you tomorrow"}) ==
        "* bob left (quit: see you tomorrow)");
  CHECK(show(natter::presence_event{false, "bob", "", "kicked", {}, "spam\x1b[2J"}) ==
        "* bob left (kicked: spam\xEF\xBF\xBD[2J)");
  CHECK(show(natter::presence_event{true, "bob", "aaaa-bbbb", ""}) == "* bob joined (fingerprint aaaa-bbbb)");
  natter::users_event users;
  users.users = {{"alice", "f1", 0}, {"bob", "f2", 0}};
  // /users is where keys are compared: one user a line, names aligned, with the fingerprint.
  users.users = {{"alice", "2:f1", 0}, {"bob", "2:f2", 0}, {"Christopher", "", 0}};
  CHECK(show(users) ==
        "* online (3):\n*   alice        2:f1\n*   bob          2:f2\n*   Christopher  (no fingerprint)");
  CHECK(show(natter::whois_event{{}, "bob", "aaaa-bbbb", true}) == "* bob: fingerprint aaaa-bbbb (online)");
  CHECK(show(natter::whois_event{{}, "bob", "aaaa-bbbb", false}) == "* bob: fingerprint aaaa-bbbb (offline)");

  natter::welcome_event welcome;
  welcome.name = "alice";
  welcome.users = {{"alice", "f1", 0}};
  welcome.user_count = 3;
  welcome.motd = "be nice";
  CHECK(show(welcome) == "* joined as alice; online (3): alice and 2 more\n* be nice");
}

TEST_CASE("acks and pongs show nothing; errors and bye go to stderr") {
  CHECK(show(natter::ack_event{1, 2, ts}) == "<nothing>");
  CHECK(show(natter::pong_event{}) == "<nothing>");
  const auto error = nc::format_event(nc::client_event{natter::server_message{natter::error_event{"unknown_user", "no such user", 4}}}, {});
  REQUIRE(error);
  CHECK(error->where == nc::channel::error);
  CHECK(error->text == "! error unknown_user: no such user");
  const auto bye = nc::format_event(nc::client_event{natter::server_message{natter::bye_event{"kicked", "behave"}}}, {});
  REQUIRE(bye);
  CHECK(bye->where == nc::channel::error);
  CHECK(bye->text.find("kicked") != std::string::npos);
}

TEST_CASE("trace lines carry frame number, length, counter and ciphertext size") {
  nc::trace_event t;
  t.outgoing = true;
  t.frame_number = 3;
  t.length = 78;
  t.label = "session";
  t.counter = 1;
  t.ciphertext_size = 38;
  t.detail = R"({"type":"join"})";
  const auto line = nc::format_event(nc::client_event{t}, {});
  REQUIRE(line);
  CHECK(line->where == nc::channel::trace);
  CHECK(line->text == R"([trace] -> sent frame 3 len=78 Session C→S #1 ciphertext=38 {"type":"join"})");

  // Received frames: the same numbering as Wireshark's "Session S→C #N"; handshake frames
  // have no counter and keep their label.
  t.outgoing = false;
  t.frame_number = 4;
  t.counter = 2;
  const auto received = nc::format_event(nc::client_event{t}, {});
  REQUIRE(received);
  CHECK(received->text == R"([trace] <- recv frame 4 len=78 Session S→C #2 ciphertext=38 {"type":"join"})");
  nc::trace_event hello;
  hello.frame_number = 1;
  hello.length = 40;
  hello.label = "hello";
  hello.detail = "version 1";
  const auto hello_line = nc::format_event(nc::client_event{hello}, {});
  REQUIRE(hello_line);
  CHECK(hello_line->text == "[trace] <- recv frame 1 len=40 hello version 1");
}
