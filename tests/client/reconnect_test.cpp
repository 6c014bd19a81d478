// What a reconnect looks like in the shared conversation and the full screen: the countdown,
// the kept scrollback and input line, lines typed meanwhile, "while you were away", leaving
// while away, giving up; and away_summary itself. The driver's loop is reconnect_policy_test.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "natter/client/away_summary.hpp"
#include "natter/client/conversation.hpp"
#include "natter/client/tui_state.hpp"
#include "natter/client/wide_text.hpp"

namespace nc = natter::client;

namespace {

constexpr const char* server = "127.0.0.1:9900";
constexpr const char* server_fp = "1503-4d48-517a-f22f-20be-1cca-c826-e9a9";
constexpr std::int64_t noon_ms = 1764000000000;

natter::welcome_event welcome(std::vector<std::string> names, std::size_t announced = 0) {
  natter::welcome_event w;
  w.name = "alice";
  for (auto& name : names) w.users.push_back({name, name + "-fp", 0});
  w.user_count = announced ? announced : w.users.size();
  w.max_text = 4096;
  return w;
}

struct clock_probe {
  std::int64_t now_ms = 1000;
  nc::conversation_probes probes() {
    return {[this] { return now_ms; }, [] { return nc::session_progress{}; }};
  }
};

nc::conversation_config person() {
  nc::conversation_config c;
  c.server = server;
  c.own_name = "alice";
  c.interactive = true;
  c.utc = true;
  return c;
}

void join(auto& c, std::vector<std::string> names) {
  c.on_event(nc::established_event{"00", server_fp, {}, nc::pin_state::pinned});
  c.on_event(natter::server_message{welcome(std::move(names))});
}

std::vector<std::string> texts(const std::vector<nc::shown_line>& lines) {
  std::vector<std::string> out;
  for (const auto& l : lines) out.push_back(l.text);
  return out;
}

bool has_line(const nc::tui_state& s, const std::string& text) {
  for (std::size_t i = 0; i < s.log().size(); ++i) {
    if (nc::narrow(s.log().at(i).text) == text) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("away_summary: who left and who joined, bounded, and careful with incomplete lists") {
  const auto list = [](std::vector<std::string> names, bool complete = true) {
    nc::user_list_view v;
    for (auto& n : names) v.users.push_back({n, "", 0});
    v.complete = complete;
    return v;
  };
  CHECK(nc::away_summary(list({"alice", "bob"}), list({"alice", "carol"})) == "bob left, carol joined");
  CHECK(nc::away_summary(list({"alice", "bob"}), list({"Alice", "BOB"})).empty());  // names compare folded
  CHECK(nc::away_summary(list({"alice", "bob", "dave"}), list({"alice"})) == "bob, dave left");
  CHECK(nc::away_summary(list({"alice", "bob"}), list({"alice", "carol"}, false)) == "carol joined");
  CHECK(nc::away_summary(list({"alice", "bob"}, false), list({"alice", "carol"})) == "bob left");
  std::vector<std::string> many{"alice"};
  for (int i = 0; i < 13; ++i) many.push_back("u" + std::to_string(10 + i));
  CHECK(nc::away_summary(list({"alice"}), list(many)) ==
        "u10, u11, u12, u13, u14, u15, u16, u17, u18, u19 and 3 more joined");
  CHECK(nc::away_summary(list({"x\x1b[2J"}), list({})) == "x\xEF\xBF\xBD[2J left");  // printable
}

TEST_CASE("reconnect: the conversation counts down, fails what was unacknowledged, and says what changed") {
  clock_probe clock;
  nc::conversation c(person(), {}, clock.probes());
  join(c, {"alice", "bob"});
  c.on_line("are you there", noon_ms);
  (void)c.take_actions();
  (void)c.take_lines();
  (void)c.take_marks();

  c.on_event(nc::reconnecting_event{"connection lost: eof", 4000, 1});
  CHECK(c.reconnecting());
  CHECK_FALSE(c.joined());
  CHECK_FALSE(c.closed());
  CHECK(c.reconnect_wait_ms() == 4000);
  CHECK(texts(c.take_lines()) == std::vector<std::string>{"* connection lost: eof; reconnecting in 4 s (/quit leaves)"});
  CHECK(c.take_marks().empty());  // without an echo (line mode) nothing is marked; sent_lines_test has the marks

  clock.now_ms += 1500;
  CHECK(c.reconnect_wait_ms() == 2500);
  clock.now_ms += 5000;
  CHECK(c.reconnect_wait_ms() == 0);  // the attempt is under way
  c.on_event(nc::reconnecting_event{"connection refused", 1000, 2});
  CHECK(texts(c.take_lines()) == std::vector<std::string>{"* attempt 1 failed: connection refused; next in 1 s"});

  // A line typed meanwhile waits for the join, and is sent after it.
  c.on_line("back soon", noon_ms);
  CHECK(c.take_actions().empty());
  CHECK(texts(c.take_lines()) == std::vector<std::string>{"* not connected: lines are sent once reconnected"});

  join(c, {"alice", "carol"});
  CHECK(c.joined());
  CHECK_FALSE(c.reconnecting());
  const auto lines = texts(c.take_lines());
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "* reconnected to 127.0.0.1:9900");
  CHECK(lines[1].starts_with("* joined as alice; online (2): alice, carol"));
  CHECK(lines[2] == "* while you were away: bob left, carol joined");  // and no second "/help" hint
  const auto actions = c.take_actions();
  REQUIRE(actions.size() == 1);
  CHECK(std::get<natter::say_request>(std::get<nc::send_action>(actions[0]).message).text == "back soon");
  CHECK(c.exit_code() == 0);
}

TEST_CASE("reconnect: users announced as leaving because the server stops count as present before") {
  clock_probe clock;
  nc::conversation c(person(), {}, clock.probes());
  join(c, {"alice", "bob", "dave"});
  // A stopping server tells everyone that everyone else leaves, then says bye.
  for (const char* name : {"bob", "dave"}) {
    c.on_event(natter::server_message{natter::presence_event{false, name, {}, "server_stopping"}});
  }
  c.on_event(natter::server_message{natter::bye_event{"server_stopping", "the server is shutting down"}});
  c.on_event(nc::reconnecting_event{"the server stopped", 500, 1});
  (void)c.take_lines();
  join(c, {"alice", "bob"});
  const auto lines = texts(c.take_lines());
  REQUIRE_FALSE(lines.empty());
  CHECK(lines.back() == "* while you were away: dave left");
}

TEST_CASE("reconnect: /quit while away leaves at once; giving up is exit 5") {
  clock_probe clock;
  nc::conversation c(person(), {}, clock.probes());
  join(c, {"alice"});
  c.on_event(nc::reconnecting_event{"the server stopped", 500, 1});
  c.on_line("/quit later", noon_ms);
  const auto actions = c.take_actions();
  REQUIRE(actions.size() == 1);
  CHECK(std::get<nc::quit_action>(actions[0]).reason == "later");
  c.on_event(nc::closed_event{"left while reconnecting", true, false});
  CHECK(c.closed_after_quit());
  CHECK(c.exit_code() == 0);

  nc::conversation gave_up(person(), {}, clock.probes());
  join(gave_up, {"alice"});
  gave_up.on_event(nc::reconnecting_event{"the server stopped", 500, 1});
  gave_up.on_event(nc::failure_event{nc::failure_kind::connection_lost, "gave up reconnecting"});
  gave_up.on_event(nc::closed_event{"refused", false, false});
  CHECK(gave_up.exit_code() == 5);
  CHECK_FALSE(gave_up.reconnecting());
  CHECK(gave_up.failures() == std::vector<std::string>{"gave up reconnecting"});
}

TEST_CASE("reconnect: the full screen keeps its scrollback and input line, and shows the state") {
  clock_probe clock;
  nc::tui_state s(nc::tui_config{server, "alice", "aaaa-bbbb", false, true}, {}, clock.probes());
  join(s, {"alice", "bob"});
  s.on_event(natter::server_message{natter::chat_event{1, noon_ms, "bob", "", "before the restart", false}});
  for (const wchar_t ch : std::wstring(L"half a sente")) (void)s.on_key({nc::key_code::character, ch}, noon_ms);
  CHECK(s.status().find("reconnecting") == std::string::npos);

  s.on_event(nc::reconnecting_event{"the server stopped", 3200, 1});
  CHECK(s.reconnecting());
  CHECK(s.status().ends_with(" | reconnecting in 4 s…"));
  clock.now_ms += 3200;
  CHECK(s.status().ends_with(" | reconnecting…"));
  (void)s.on_key({nc::key_code::character, L'x'}, noon_ms);  // keys still edit: nothing ends
  CHECK_FALSE(s.finished());

  join(s, {"alice", "bob"});
  CHECK_FALSE(s.reconnecting());
  CHECK(s.status().find("reconnecting") == std::string::npos);
  CHECK(has_line(s, "16:00 <bob> before the restart"));
  CHECK(has_line(s, "* reconnected to 127.0.0.1:9900"));
  CHECK(nc::narrow(s.input().text()) == "half a sentex");
}
