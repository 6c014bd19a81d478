#include "natter/client/tui_state.hpp"

#include <doctest/doctest.h>

#include "natter/crypto/identity_v2.hpp"
#include "natter/crypto/keys.hpp"

#include <string>

#include "natter/client/wide_text.hpp"

namespace nc = natter::client;

namespace {

constexpr const char* server = "127.0.0.1:9900";
constexpr const char* server_fp = "1503-4d48-517a-f22f-20be-1cca-c826-e9a9";
constexpr const char* bob_fp = "2e7e-4087-d722-9730-4a51-2b47-1777-36a7";
// The keys those fingerprints stand for here (the conversation stores keys, shows fingerprints).
const std::string server_key_hex(64, '5');
const std::string bob_key_hex(64, '6');
const natter::crypto::public_key server_key = *natter::crypto::public_key_from_hex(server_key_hex);
const natter::crypto::ed25519_public_key bob_key = *natter::crypto::ed25519_public_key_from_hex(bob_key_hex);
constexpr std::int64_t noon_ms = 1764000000000;  // 16:00 UTC

nc::tui_state make_state(nc::verified_store store = {}) {
  return nc::tui_state(nc::tui_config{server, "alice", "aaaa-bbbb", false, true}, std::move(store));
}

void connect(nc::tui_state& s, nc::pin_state pin = nc::pin_state::pinned) {
  s.on_event(nc::established_event{"00", server_fp, server_key_hex, pin});
  natter::welcome_event w;
  w.name = "alice";
  w.users = {{"alice", "aaaa", 0}, {"bob", bob_fp, 0, bob_key_hex}};
  w.user_count = 2;
  w.max_text = 4096;
  s.on_event(natter::server_message{w});
}

std::string last_line(const nc::tui_state& s) { return nc::narrow(s.log().at(s.log().size() - 1).text); }
nc::line_kind last_kind(const nc::tui_state& s) { return s.log().at(s.log().size() - 1).kind; }

std::vector<nc::tui_action> type(nc::tui_state& s, std::wstring_view text, bool enter = true) {
  for (const wchar_t c : text) (void)s.on_key({nc::key_code::character, c}, noon_ms);
  if (!enter) return {};
  return s.on_key({nc::key_code::enter}, noon_ms);
}

std::vector<std::string> user_names(const nc::tui_state& s) {
  std::vector<std::string> out;
  for (const auto& u : s.users()) out.push_back(u.name);
  return out;
}

}  // namespace

TEST_CASE("tui state: the user list follows welcome, presence and users") {
  auto s = make_state();
  connect(s);
  CHECK(user_names(s) == std::vector<std::string>{"alice", "bob"});
  CHECK(s.users()[0].self);
  CHECK(s.online_count() == 2);
  s.on_event(natter::server_message{natter::presence_event{true, "Carol", "cccc", ""}});
  CHECK(user_names(s) == std::vector<std::string>{"alice", "bob", "Carol"});
  CHECK(last_kind(s) == nc::line_kind::system);
  s.on_event(natter::server_message{natter::presence_event{false, "bob", "", "quit"}});
  CHECK(user_names(s) == std::vector<std::string>{"alice", "Carol"});
  CHECK(s.online_count() == 2);
  CHECK(last_line(s) == "* bob left (quit)");
  s.on_event(natter::server_message{natter::users_event{{}, {{"alice", "a", 0}, {"dave", "d", 0}}, false}});
  CHECK(user_names(s) == std::vector<std::string>{"alice", "dave"});
}

TEST_CASE("tui state: whispers and broadcasts look different in both directions") {
  auto s = make_state();
  connect(s);
  natter::chat_event c{1, noon_ms, "bob", "", "hello all", false};
  s.on_event(natter::server_message{c});
  CHECK(last_line(s) == "16:00 <bob> hello all");
  CHECK(last_kind(s) == nc::line_kind::message);
  c = {2, noon_ms, "bob", "alice", "psst", true};
  s.on_event(natter::server_message{c});
  CHECK(last_line(s) == "16:00 *bob* (whisper) psst");  // as in line mode
  CHECK(last_kind(s) == nc::line_kind::whisper_in);

  auto actions = type(s, L"/w bob 안녕");
  REQUIRE(actions.size() == 1);
  const auto& sent = std::get<nc::send_action>(actions[0]).message;
  CHECK(std::get<natter::whisper_request>(sent).text == "안녕");
  CHECK(last_line(s) == "16:00 -> *bob* 안녕");
  CHECK(last_kind(s) == nc::line_kind::whisper_out);

  actions = type(s, L"hi everyone");
  REQUIRE(actions.size() == 1);
  CHECK(std::get<natter::say_request>(std::get<nc::send_action>(actions[0]).message).text == "hi everyone");
  CHECK(last_line(s) == "16:00 <alice> hi everyone");
  CHECK(last_kind(s) == nc::line_kind::own_message);

  s.on_event(natter::server_message{natter::error_event{"bad_name", "not a valid name", {}}});
  CHECK(last_kind(s) == nc::line_kind::error);  // an error naming no request is shown as it is
}

TEST_CASE("tui state: the status line says end-to-end once the end-to-end layer speaks; lines carry [e2e]") {
  auto s = make_state();
  connect(s, nc::pin_state::new_pin);
  CHECK(s.status().find("end-to-end") == std::string::npos);
  s.on_event(nc::e2e_shown_event{nc::e2e_shown::notice, {}, "room code now: aaaa-bbbb-cccc-dddd", false, 0, false});
  CHECK(s.status() == std::string("127.0.0.1:9900 | alice | end-to-end | key new ") + server_fp);
  s.on_event(nc::e2e_shown_event{nc::e2e_shown::message, "bob", "sealed hi", false, 0, false});
  CHECK(last_line(s).find("[e2e] <bob> sealed hi") != std::string::npos);
  s.on_event(nc::e2e_shown_event{nc::e2e_shown::not_end_to_end, "bob", "open hi", false, 0, false});
  CHECK(last_line(s).find("[not e2e] <bob> open hi") != std::string::npos);
  // An open room: the status line never says end-to-end while room texts are not.
  nc::e2e_shown_event open{nc::e2e_shown::room_open, {}, "lobby has 1204 members, more than 1000: ...", false, 0, false};
  open.room_members = 1204;
  s.on_event(open);
  CHECK(s.status() == std::string("127.0.0.1:9900 | alice | open room | key new ") + server_fp);
  CHECK(s.status().find("end-to-end") == std::string::npos);
  CHECK(s.status(40).find("open") != std::string::npos);
  s.on_event(nc::e2e_shown_event{nc::e2e_shown::room_end_to_end, {}, "lobby has 999 members", false, 0, false});
  CHECK(s.status() == std::string("127.0.0.1:9900 | alice | end-to-end | key new ") + server_fp);
}

TEST_CASE("tui state: status line shows server, name, fingerprint and pin state") {
  auto s = make_state();
  CHECK(s.status() == "127.0.0.1:9900 | alice | connecting…");
  connect(s, nc::pin_state::new_pin);
  CHECK(s.status() == std::string("127.0.0.1:9900 | alice | key new ") + server_fp);
  auto pinned = make_state();
  connect(pinned);
  CHECK(pinned.status().ends_with("key pinned " + std::string(server_fp)));
  nc::verified_store store;
  store.mark_server(server, server_key);
  auto verified = make_state(store);
  connect(verified);
  CHECK(verified.status().ends_with("key verified ✓ " + std::string(server_fp)));
  for (int i = 0; i < 30; ++i) verified.on_event(nc::notice_event{"n"});
  verified.set_pane_size(80, 11);
  (void)verified.on_key({nc::key_code::page_up}, noon_ms);
  CHECK(verified.status().ends_with("scrolled back 10 lines (PgDn)"));
  (void)verified.on_key({nc::key_code::page_down}, noon_ms);
  CHECK(verified.log().offset() == 0);
}

TEST_CASE("tui state: scrolled back, new messages are counted below; the status fits its width") {
  auto s = make_state();
  connect(s);
  for (int i = 0; i < 30; ++i) s.on_event(nc::notice_event{"n"});
  s.set_pane_size(80, 11);
  (void)s.on_key({nc::key_code::page_up}, noon_ms);
  s.on_event(natter::server_message{natter::chat_event{1, noon_ms, "bob", "", "while away", false}});
  s.on_event(natter::server_message{natter::chat_event{2, noon_ms, "bob", "", "and again", false}});
  CHECK(s.status().ends_with("| 2 new below (PgDn)"));
  // On 60 columns the fingerprint gives way, so the hint is still there.
  const std::string narrow = s.status(60);
  CHECK(narrow == "127.0.0.1:9900 | alice | key pinned | 2 new below (PgDn)");
  CHECK(s.status(200).find(server_fp) != std::string::npos);
  // PageUp stops with the oldest line at the top of the pane.
  for (int i = 0; i < 10; ++i) (void)s.on_key({nc::key_code::page_up}, noon_ms);
  const auto rows = s.log().rows(80, 11);
  REQUIRE(rows.size() == 11);
  CHECK(rows.front().text.starts_with(L"* joined as alice"));
  (void)s.on_key({nc::key_code::ctrl_c}, noon_ms);
}

TEST_CASE("tui state: Tab cycles through names like irssi; candidates go to the status line") {
  auto s = make_state();
  connect(s);
  s.on_event(natter::server_message{natter::presence_event{true, "bea", "bbbb", ""}});
  const std::size_t log_size = s.log().size();
  (void)type(s, L"/w ", false);
  (void)s.on_key({nc::key_code::tab}, noon_ms);
  CHECK(s.input().text() == L"/w alice ");
  CHECK(s.status() == "Tab: [alice] bea bob");
  (void)s.on_key({nc::key_code::tab}, noon_ms);
  CHECK(s.input().text() == L"/w bea ");
  (void)s.on_key({nc::key_code::tab}, noon_ms);
  CHECK(s.input().text() == L"/w bob ");
  (void)s.on_key({nc::key_code::tab}, noon_ms);
  CHECK(s.input().text() == L"/w alice ");
  CHECK(s.log().size() == log_size);  // nothing written into the log
  (void)type(s, L"hi", false);  // any other key ends the round
  CHECK(s.input().text() == L"/w alice hi");
  CHECK(s.status().starts_with("127.0.0.1:9900"));
}

TEST_CASE("tui state: /clear empties the pane and keeps the log; /help wraps under its columns") {
  auto s = make_state();
  connect(s);
  const std::size_t before = s.log().size();
  (void)type(s, L"/clear");
  CHECK(s.log().rows(80, 10).empty());
  CHECK(s.log().size() == before);
  (void)type(s, L"/help");
  const auto rows = s.log().rows(40, 100);
  // "  /w NAME TEXT      whisper TEXT to NAME only (also /msg)" at 40 columns: the rest of
  // the description continues under "whisper", not at the left edge.
  bool found = false;
  for (std::size_t i = 0; i + 1 < rows.size(); ++i) {
    if (!rows[i].text.starts_with(L"  /w NAME TEXT")) continue;
    found = true;
    CHECK(rows[i + 1].text.starts_with(std::wstring(20, L' ')));
    CHECK(rows[i + 1].text[20] != L' ');
  }
  CHECK(found);
}

TEST_CASE("tui state: /verify marks the server key after y") {
  auto s = make_state();
  connect(s);
  auto actions = type(s, L"/verify");
  CHECK(actions.empty());
  CHECK(nc::narrow(s.prompt()).find("[y/N]") != std::string::npos);
  actions = type(s, L"y");
  REQUIRE(actions.size() == 1);
  CHECK(std::holds_alternative<nc::save_verified_action>(actions[0]));
  CHECK(s.verified().server_verified(server, server_key));
  CHECK(s.prompt() == L"> ");
  CHECK(s.status().find("key verified ✓ ") != std::string::npos);
  CHECK(s.input().history().size() == 1);  // "/verify", not the answer
}

TEST_CASE("tui state: /verify NAME asks whois, shows the fingerprint, N keeps it unverified") {
  auto s = make_state();
  connect(s);
  auto actions = type(s, L"/verify bob");
  REQUIRE(actions.size() == 2);  // whois, and the end-to-end safety number
  CHECK(std::get<natter::whois_request>(std::get<nc::send_action>(actions[0]).message).name == "bob");
  s.on_event(natter::server_message{natter::whois_event{{}, "bob", bob_fp, true, bob_key_hex}});
  CHECK(last_line(s).find(bob_fp) != std::string::npos);
  CHECK(nc::narrow(s.prompt()) == "Mark bob's key as verified? [y/N] ");

  SUBCASE("yes") {
    actions = type(s, L"y");
    REQUIRE(actions.size() == 1);
    CHECK(s.verified().user_verified(server, "bob", bob_key));
    CHECK(s.users()[1].verified);  // the ✓ in the user list
    CHECK_FALSE(s.users()[0].verified);
  }
  SUBCASE("no") {
    actions = type(s, L"n");
    CHECK(actions.empty());
    CHECK_FALSE(s.users()[1].verified);
    CHECK(last_line(s) == "* not marked verified");
  }
}

TEST_CASE("tui state: a verified user with a new key is no longer verified") {
  nc::verified_store store;
  store.mark_user(server, "bob", bob_key);
  auto s = make_state(store);
  connect(s);
  CHECK(s.users()[1].verified);
  s.on_event(natter::server_message{natter::presence_event{false, "bob", "", "quit"}});
  s.on_event(natter::server_message{natter::presence_event{true, "bob", server_fp, "", std::string(64, '7')}});
  CHECK_FALSE(s.users()[1].verified);
}

TEST_CASE("tui state: trust prompt answers through the input line") {
  auto s = make_state();
  s.on_event(nc::trust_request_event{server, server_fp});
  CHECK(s.prompt() == L"Trust this server? [y/N] ");
  auto actions = type(s, L"yes");
  REQUIRE(actions.size() == 1);
  CHECK(std::get<nc::trust_action>(actions[0]).trusted);
}

TEST_CASE("tui state: tab completion, quit keys and the end of the session") {
  auto s = make_state();
  connect(s);
  (void)type(s, L"/w b", false);
  (void)s.on_key({nc::key_code::tab}, noon_ms);
  CHECK(s.input().text() == L"/w bob ");
  (void)s.on_key({nc::key_code::ctrl_u}, noon_ms);
  auto actions = s.on_key({nc::key_code::ctrl_d}, noon_ms);  // empty line: quit
  REQUIRE(actions.size() == 1);
  CHECK(std::holds_alternative<nc::quit_action>(actions[0]));
  CHECK(s.on_key({nc::key_code::ctrl_c}, noon_ms).empty());  // only once
  s.on_event(nc::closed_event{"bye", true, true});
  CHECK(s.finished());
  CHECK(s.exit_code() == 0);
}

TEST_CASE("tui state: a session ended for good waits for Enter, failures set the exit code") {
  auto s = make_state();
  s.on_event(nc::failure_event{nc::failure_kind::key_mismatch, "the key changed"});
  s.on_event(nc::closed_event{"lost", false, false});
  CHECK_FALSE(s.finished());
  CHECK(s.status().ends_with("| disconnected"));
  CHECK(last_line(s) == "* disconnected (lost); press Enter to leave (PgUp scrolls back)");
  // Typing on (mid-sentence) or scrolling back does not throw the log away.
  (void)s.on_key({nc::key_code::character, L'x'}, noon_ms);
  (void)s.on_key({nc::key_code::page_up}, noon_ms);
  CHECK_FALSE(s.finished());
  (void)s.on_key({nc::key_code::enter}, noon_ms);
  CHECK(s.finished());
  CHECK(s.exit_code() == 3);
  CHECK(s.failures() == std::vector<std::string>{"the key changed"});
}

TEST_CASE("tui state: a burst of messages stays bounded") {
  auto s = make_state();
  connect(s);
  for (int i = 0; i < 20000; ++i) {
    s.on_event(natter::server_message{natter::chat_event{std::uint64_t(i), noon_ms, "bob", "", "m" + std::to_string(i), false}});
  }
  CHECK(s.log().size() == nc::max_scrollback_lines);
  CHECK(last_line(s) == "16:00 <bob> m19999");
}

TEST_CASE("tui state: a line typed before the join is sent when the join comes") {
  auto s = make_state();
  s.on_event(nc::established_event{"00", server_fp, server_key_hex, nc::pin_state::pinned});
  CHECK(type(s, L"early bird").empty());
  connect(s);
  const auto actions = s.take_actions();
  REQUIRE(actions.size() == 1);
  CHECK(std::get<natter::say_request>(std::get<nc::send_action>(actions[0]).message).text == "early bird");
  CHECK(last_line(s) == "16:00 <alice> early bird");
}

namespace {

void paste(nc::tui_state& s, std::wstring_view text) {
  (void)s.on_key({nc::key_code::paste_begin}, noon_ms);
  for (const wchar_t c : text) {
    if (c == L'\n') {
      (void)s.on_key({nc::key_code::enter}, noon_ms);
    } else if (c == L'\t') {
      (void)s.on_key({nc::key_code::tab}, noon_ms);
    } else {
      (void)s.on_key({nc::key_code::character, c}, noon_ms);
    }
  }
  (void)s.on_key({nc::key_code::paste_end}, noon_ms);
}

std::vector<std::string> said(const std::vector<nc::tui_action>& actions) {
  std::vector<std::string> out;
  for (const auto& a : actions) {
    const auto* send = std::get_if<nc::send_action>(&a);
    if (send == nullptr) continue;
    if (const auto* say = std::get_if<natter::say_request>(&send->message)) out.push_back(say->text);
    if (std::holds_alternative<natter::whisper_request>(send->message)) out.push_back("(a whisper)");
  }
  return out;
}

}  // namespace

TEST_CASE("tui state: a multi-line paste asks first, and its lines are text, tabs included") {
  auto s = make_state();
  connect(s);
  paste(s, L"hello\n/w bob not a command\n\tindented\n");
  CHECK(s.prompt() == L"Send 3 pasted lines? [y/N] ");
  CHECK(s.input().empty());
  SUBCASE("y sends them as they were, slash and tab included") {
    CHECK(said(type(s, L"y")) == std::vector<std::string>{"hello", "/w bob not a command", "\tindented"});
    CHECK(s.prompt() == L"> ");
  }
  SUBCASE("Enter (the default) sends nothing") {
    CHECK(said(type(s, L"")).empty());
    CHECK(last_line(s) == "* the 3 pasted lines were not sent");
  }
}

TEST_CASE("tui state: a one-line paste goes into the input line; a pasted tab is not completion") {
  auto s = make_state();
  connect(s);
  (void)type(s, L"say ", false);
  paste(s, L"b\tb\n");
  CHECK(s.input().text() == L"say b\tb");
  CHECK(s.status().starts_with("127.0.0.1:9900"));  // no Tab round was started
  CHECK(said(s.on_key({nc::key_code::enter}, noon_ms)) == std::vector<std::string>{"say b\tb"});
}

TEST_CASE("tui state: a mention rings once per line, and its row knows where the name is") {
  auto s = make_state();
  connect(s);
  s.on_event(natter::server_message{natter::chat_event{1, noon_ms, "bob", "", "alice: lunch?", false}});
  s.on_event(natter::server_message{natter::chat_event{2, noon_ms, "bob", "", "anyone?", false}});
  CHECK(s.take_bells() == 1);
  CHECK(s.take_bells() == 0);
  const auto rows = s.log().rows(80, 2);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].highlight);
  CHECK_FALSE(rows[1].highlight);
  CHECK(rows[0].text.substr(rows[0].nick_start, rows[0].nick_length) == L"bob");
  CHECK(rows[0].nick == L"bob");
}

TEST_CASE("tui state: a half-typed line waits while a paste's question is answered") {
  auto s = make_state();
  connect(s);
  (void)type(s, L"half typed", false);
  paste(s, L"one\ntwo");
  CHECK(s.input().empty());
  CHECK(said(type(s, L"y")) == std::vector<std::string>{"one", "two"});
  CHECK(s.input().text() == L"half typed");
}

TEST_CASE("tui state: Ctrl-C leaves even in the middle of a paste") {
  auto s = make_state();
  connect(s);
  (void)s.on_key({nc::key_code::paste_begin}, noon_ms);
  (void)s.on_key({nc::key_code::character, L'x'}, noon_ms);
  const auto actions = s.on_key({nc::key_code::ctrl_c}, noon_ms);
  REQUIRE(actions.size() == 1);
  CHECK(std::holds_alternative<nc::quit_action>(actions[0]));
}
