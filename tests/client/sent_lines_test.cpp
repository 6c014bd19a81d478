// How the conversation shows the lines we send: pending until the ack, failed with the reason
// of the error naming them, paced to the server's rate for a person too (a paste), with the
// server's spelling of a whisper's recipient, and a whisper to ourselves once.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "natter/client/conversation.hpp"
#include "natter/client/sent_requests.hpp"

namespace nc = natter::client;

namespace {

constexpr std::int64_t noon_ms = 1764000000000;  // 16:00 UTC

struct fake_clock {
  std::int64_t now_ms = 1000;
  nc::conversation_probes probes() {
    return {[this] { return now_ms; }, [] { return nc::session_progress{}; }};
  }
};

nc::conversation_config screen_config(bool echo = true) {
  nc::conversation_config c;
  c.server = "127.0.0.1:9900";
  c.own_name = "alice";
  c.interactive = true;
  c.utc = true;
  c.echo_sent = echo;
  return c;
}

void join(nc::conversation& c, double rate = 0, double burst = 0) {
  natter::welcome_event w;
  w.name = "alice";
  w.users = {{"alice", "aaaa", 0}, {"Bob", "bbbb", 0}};
  w.user_count = 2;
  w.max_text = 4096;
  w.rate = rate;
  w.burst = burst;
  c.on_event(natter::server_message{w});
  (void)c.take_lines();
}

natter::server_message ack(std::uint64_t ref) { return natter::server_message{natter::ack_event{ref, ref, noon_ms}}; }
natter::server_message refusal(std::string code, std::string message, std::uint64_t ref) {
  return natter::server_message{natter::error_event{std::move(code), std::move(message), ref}};
}

std::size_t sends(const std::vector<nc::conversation_action>& actions) {
  std::size_t n = 0;
  for (const auto& a : actions) n += std::holds_alternative<nc::send_action>(a) ? 1 : 0;
  return n;
}

}  // namespace

TEST_CASE("sent lines: a refused whisper is marked failed with the reason, not left as sent") {
  nc::conversation c(screen_config(), {});
  join(c);
  c.on_line("/w nobody hi", noon_ms);
  const auto echo = c.take_lines();
  REQUIRE(echo.size() == 1);
  CHECK(echo[0].text == "16:00 -> *nobody* hi");
  CHECK(echo[0].state == nc::send_state::pending);
  REQUIRE(sends(c.take_actions()) == 1);
  c.on_event(refusal("unknown_user", "there is no user called nobody", 7));
  const auto marks = c.take_marks();
  REQUIRE(marks.size() == 1);
  CHECK(marks[0].id == echo[0].id);
  CHECK(marks[0].state == nc::send_state::failed);
  CHECK(marks[0].reason == "there is no user called nobody");
  CHECK(c.take_lines().empty());  // the marked line says it; no second, anonymous error
}

TEST_CASE("sent lines: in line mode an error names the line it refused") {
  nc::conversation c(screen_config(false), {});
  join(c);
  c.on_line("/whois x", noon_ms);
  c.on_line("/w nobody hi", noon_ms);
  CHECK(sends(c.take_actions()) == 2);
  c.on_event(refusal("unknown_user", "there is no user called x", 2));  // the whois
  c.on_event(refusal("unknown_user", "there is no user called nobody", 3));
  const auto lines = c.take_lines();
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].text == "! error unknown_user: there is no user called x");
  CHECK(lines[1].text == "! not sent (unknown_user: there is no user called nobody): -> *nobody* hi");
  CHECK(c.take_marks().empty());
}

TEST_CASE("sent lines: answers match requests in order, whatever other requests are in between") {
  nc::conversation c(screen_config(), {});
  join(c);
  c.on_line("first", noon_ms);
  c.on_line("/users", noon_ms);
  c.on_line("second", noon_ms);
  const auto lines = c.take_lines();
  REQUIRE(lines.size() == 2);
  CHECK(sends(c.take_actions()) == 3);
  c.on_event(ack(2));
  c.on_event(natter::server_message{natter::users_event{3, {{"alice", "aaaa", 0}}, false}});
  c.on_event(refusal("rate_limited", "too many messages; slow down", 4));
  const auto marks = c.take_marks();
  REQUIRE(marks.size() == 2);
  CHECK(marks[0].id == lines[0].id);
  CHECK(marks[0].state == nc::send_state::sent);
  CHECK(marks[1].id == lines[1].id);
  CHECK(marks[1].state == nc::send_state::failed);
  CHECK(marks[1].reason == "too many messages; slow down");
}

TEST_CASE("sent lines: the echo uses the server's spelling; a whisper to ourselves shows once") {
  nc::conversation c(screen_config(), {});
  join(c);
  c.on_line("/w BOB hi", noon_ms);
  CHECK(c.take_lines().at(0).text == "16:00 -> *Bob* hi");
  c.on_line("/w Alice note to self", noon_ms);
  CHECK(c.take_lines().size() == 1);
  // The server delivers it back to us as well: already shown.
  c.on_event(natter::server_message{natter::chat_event{9, noon_ms, "alice", "alice", "note to self", true}});
  CHECK(c.take_lines().empty());
  // Line mode shows no echo, so there the delivered copy is the one shown.
  nc::conversation plain(screen_config(false), {});
  join(plain);
  plain.on_event(natter::server_message{natter::chat_event{9, noon_ms, "alice", "alice", "note to self", true}});
  CHECK(plain.take_lines().size() == 1);
}

TEST_CASE("sent lines: a person's burst is paced to the server's rate, shown at once as pending") {
  fake_clock clock;
  nc::conversation c(screen_config(), {}, clock.probes());
  join(c, 10, 4);  // paced at 9/s with a burst of 2
  for (int i = 1; i <= 5; ++i) c.on_line("pasted " + std::to_string(i), noon_ms);
  const auto lines = c.take_lines();
  REQUIRE(lines.size() == 5);
  for (const auto& l : lines) CHECK(l.state == nc::send_state::pending);
  CHECK(sends(c.take_actions()) == 2);
  CHECK(c.pacing());
  clock.now_ms += 1000;  // the bucket refills, up to its burst
  c.tick();
  CHECK(sends(c.take_actions()) == 2);
  clock.now_ms += 1000;
  c.tick();
  CHECK(sends(c.take_actions()) == 1);
  CHECK_FALSE(c.pacing());
}

TEST_CASE("sent lines: a lost connection fails what was held or never acknowledged") {
  fake_clock clock;
  nc::conversation c(screen_config(), {}, clock.probes());
  join(c, 10, 2);  // a burst of 1
  c.on_line("went out", noon_ms);
  c.on_line("still held", noon_ms);
  const auto lines = c.take_lines();
  CHECK(sends(c.take_actions()) == 1);
  c.on_event(nc::closed_event{"eof", false, false});
  const auto marks = c.take_marks();
  REQUIRE(marks.size() == 2);
  CHECK(marks[0].id == lines[1].id);
  CHECK(marks[0].reason == "not sent: disconnected");
  CHECK(marks[1].id == lines[0].id);
  CHECK(marks[1].reason == "no acknowledgement: disconnected");
}

TEST_CASE("sent requests: pings and quit are not tracked; a lost answer does not shift the rest") {
  nc::sent_requests sent;
  sent.sent(natter::ping_request{}, 0);
  sent.sent(natter::quit_request{}, 0);
  CHECK(sent.waiting() == 0);
  sent.sent(natter::whois_request{"x", {}}, 0);
  sent.sent(natter::say_request{"hi", {}}, 5);
  // An ack can only answer a say/whisper: the whois before it lost its answer.
  const auto answered = sent.on_answer(natter::ack_event{3, 1, 0});
  REQUIRE(answered);
  CHECK(answered->line_id == 5);
  CHECK(sent.waiting() == 0);
  CHECK_FALSE(sent.on_answer(natter::pong_event{4}));
  CHECK_FALSE(sent.on_answer(natter::error_event{"bad_json", "x", {}}));
}

TEST_CASE("sent lines: a pasted line that is no answer drops the paste and runs as typed") {
  nc::conversation c(screen_config(), {});
  join(c);
  c.on_paste({"one", "", "two"}, noon_ms);
  REQUIRE(c.waiting_question());
  CHECK(c.waiting_question()->kind == nc::question_kind::send_paste);
  CHECK(c.take_lines().back().text == "Send 2 pasted lines? [y/N] ");
  c.on_line("actually, hello", noon_ms);
  CHECK_FALSE(c.waiting_question());
  const auto actions = c.take_actions();
  REQUIRE(sends(actions) == 1);
  CHECK(std::get<natter::say_request>(std::get<nc::send_action>(actions[0]).message).text == "actually, hello");
}

TEST_CASE("alerts: whispers to us and broadcasts naming us are highlighted and ring the bell") {
  auto config = screen_config();
  nc::conversation c(config, {});
  join(c);
  const auto shown = [&](natter::chat_event e) {
    c.on_event(natter::server_message{std::move(e)});
    auto lines = c.take_lines();
    REQUIRE(lines.size() == 1);
    return lines[0];
  };
  auto line = shown({1, noon_ms, "Bob", "", "hi all", false});
  CHECK_FALSE(line.highlight);
  CHECK_FALSE(line.ring);
  CHECK(line.from == "Bob");
  line = shown({2, noon_ms, "Bob", "", "ALICE, look", false});
  CHECK(line.highlight);
  CHECK(line.ring);
  line = shown({3, noon_ms, "Bob", "alice", "psst", true});
  CHECK(line.highlight);
  CHECK(line.ring);
  line = shown({4, noon_ms, "Bob", "", "malice aforethought", false});
  CHECK_FALSE(line.highlight);
  // The settings turn the bell off, mentions and whispers each on their own; the highlight stays.
  config.bell_on_whisper = false;
  nc::conversation quiet(config, {});
  join(quiet);
  quiet.on_event(natter::server_message{natter::chat_event{5, noon_ms, "Bob", "alice", "psst", true}});
  quiet.on_event(natter::server_message{natter::chat_event{6, noon_ms, "Bob", "", "alice: hi", false}});
  auto lines = quiet.take_lines();
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].highlight);
  CHECK_FALSE(lines[0].ring);
  CHECK(lines[1].ring);
  config.bell_on_whisper = true;
  config.bell_on_mention = false;
  nc::conversation no_mentions(config, {});
  join(no_mentions);
  no_mentions.on_event(natter::server_message{natter::chat_event{5, noon_ms, "Bob", "alice", "psst", true}});
  no_mentions.on_event(natter::server_message{natter::chat_event{6, noon_ms, "Bob", "", "alice: hi", false}});
  lines = no_mentions.take_lines();
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].ring);
  CHECK(lines[1].highlight);
  CHECK_FALSE(lines[1].ring);
}

TEST_CASE("/clear is the full screen's; line mode says so and sends nothing") {
  nc::conversation plain(screen_config(false), {});
  auto screen_config_clear = screen_config();
  screen_config_clear.can_clear = true;
  nc::conversation clearing(screen_config_clear, {});
  for (auto* c : {&plain, &clearing}) join(*c);
  plain.on_line("/clear", noon_ms);
  CHECK(plain.take_actions().empty());
  CHECK(plain.take_lines().at(0).kind == nc::shown_kind::hint);
  clearing.on_line("/clear", noon_ms);
  const auto actions = clearing.take_actions();
  REQUIRE(actions.size() == 1);
  CHECK(std::holds_alternative<nc::clear_view_action>(actions[0]));
}

TEST_CASE("sent lines: a line whose JSON would not fit the server's frame fails here, unsent") {
  nc::conversation c(screen_config(), {});
  natter::welcome_event w;
  w.name = "alice";
  w.max_text = 4096;
  w.max_frame = 4096;  // a server at the smallest frame limit
  c.on_event(natter::server_message{w});
  (void)c.take_lines();
  c.on_line(std::string(3000, '"'), noon_ms);  // 3 000 bytes of text, 6 000 of JSON
  CHECK(sends(c.take_actions()) == 0);
  const auto marks = c.take_marks();
  REQUIRE(marks.size() == 1);
  CHECK(marks[0].state == nc::send_state::failed);
  CHECK(marks[0].reason == "too large for the server's frame limit of 4096 bytes");
  c.on_line(std::string(3000, 'a'), noon_ms);  // fits
  CHECK(sends(c.take_actions()) == 1);
}
