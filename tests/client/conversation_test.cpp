#include "natter/client/conversation.hpp"

#include <doctest/doctest.h>

#include "natter/crypto/identity_v2.hpp"
#include "natter/crypto/keys.hpp"

#include <string>
#include <vector>

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

// The session and the clock, as the conversation sees them: plain numbers a test sets.
struct fake_world {
  std::int64_t now_ms = 1000;
  nc::session_progress progress;

  nc::conversation_probes probes() {
    return {[this] { return now_ms; }, [this] { return progress; }};
  }
};

nc::conversation_config person() {
  nc::conversation_config c;
  c.server = server;
  c.own_name = "alice";
  c.own_fingerprint = "aaaa-bbbb";
  c.interactive = true;
  c.utc = true;
  return c;
}

nc::conversation_config script() {
  auto c = person();
  c.interactive = false;
  return c;
}

natter::welcome_event welcome(double rate = 0, double burst = 0) {
  natter::welcome_event w;
  w.name = "alice";
  w.users = {{"alice", "aaaa", 0}, {"bob", bob_fp, 0, bob_key_hex}};
  w.user_count = 2;
  w.max_text = 4096;
  w.rate = rate;
  w.burst = burst;
  return w;
}

void join(nc::conversation& c, double rate = 0, double burst = 0) {
  c.on_event(nc::established_event{"00", server_fp, server_key_hex, nc::pin_state::pinned});
  c.on_event(natter::server_message{welcome(rate, burst)});
}

std::vector<std::string> texts(const std::vector<nc::shown_line>& lines) {
  std::vector<std::string> out;
  for (const auto& l : lines) out.push_back(l.text);
  return out;
}

// The say/whisper texts among the actions, in order.
std::vector<std::string> sent_texts(const std::vector<nc::conversation_action>& actions) {
  std::vector<std::string> out;
  for (const auto& a : actions) {
    const auto* send = std::get_if<nc::send_action>(&a);
    if (send == nullptr) continue;
    if (const auto* say = std::get_if<natter::say_request>(&send->message)) out.push_back(say->text);
    if (const auto* w = std::get_if<natter::whisper_request>(&send->message)) out.push_back(w->to + ":" + w->text);
  }
  return out;
}

bool quits(const std::vector<nc::conversation_action>& actions) {
  for (const auto& a : actions) {
    if (std::holds_alternative<nc::quit_action>(a)) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("conversation: y/N answers are read one way") {
  for (const char* yes : {"y", "Y", "yes", "Yes", "YES"}) CHECK(nc::read_reply(yes) == nc::reply::yes);
  for (const char* no : {"", "n", "N", "no", "No", "NO"}) CHECK(nc::read_reply(no) == nc::reply::no);
  for (const char* other : {"hello", "yes please", " y", "ja"}) CHECK(nc::read_reply(other) == nc::reply::not_an_answer);
}

TEST_CASE("conversation: the join shows who is online, and lines typed before it go after it") {
  fake_world world;
  nc::conversation c(person(), {}, world.probes());
  c.on_line("hello early", noon_ms);
  CHECK(c.take_actions().empty());
  CHECK(c.take_finished_lines() == 0);  // held for the join
  join(c);
  CHECK(c.joined());
  const auto lines = c.take_lines();
  REQUIRE(lines.size() == 2);
  CHECK(lines[0].kind == nc::shown_kind::info);
  CHECK(lines[0].text == "* joined as alice; online (2): alice, bob");
  CHECK(lines[1].kind == nc::shown_kind::hint);
  CHECK(lines[1].text == "* type /help for commands, /quit to leave");
  CHECK(sent_texts(c.take_actions()) == std::vector<std::string>{"hello early"});
  CHECK(c.take_finished_lines() == 1);
  CHECK(c.online().online_count() == 2);
}

TEST_CASE("conversation: presence and users keep the roster") {
  nc::conversation c(person(), {});
  join(c);
  (void)c.take_lines();
  c.on_event(natter::server_message{natter::presence_event{true, "Carol", "cccc", ""}});
  CHECK(c.online().online_count() == 3);
  CHECK(c.online().users().count("carol") == 1);
  c.on_event(natter::server_message{natter::presence_event{false, "bob", "", "quit"}});
  CHECK(c.online().online_count() == 2);
  CHECK(texts(c.take_lines()) == std::vector<std::string>{"* Carol joined (fingerprint cccc)", "* bob left (quit)"});
  c.on_event(natter::server_message{natter::users_event{{}, {{"dave", "d", 0}}, false}});
  CHECK(c.online().online_count() == 1);
  CHECK(c.online().users().begin()->second.name == "dave");
}

TEST_CASE("conversation: whispers have their own kinds; the full screen echoes what we send") {
  auto config = person();
  SUBCASE("line mode: plain style, no echo") {
    nc::conversation c(config, {});
    join(c);
    (void)c.take_lines();
    c.on_event(natter::server_message{natter::chat_event{1, noon_ms, "bob", "alice", "psst", true}});
    auto lines = c.take_lines();
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].kind == nc::shown_kind::whisper_in);
    CHECK(lines[0].text == "16:00 *bob* (whisper) psst");
    c.on_line("/w bob hi", noon_ms);
    CHECK(c.take_lines().empty());
    CHECK(sent_texts(c.take_actions()) == std::vector<std::string>{"bob:hi"});
  }
  SUBCASE("full screen: the same look, and a local echo, pending until the ack") {
    config.echo_sent = true;
    nc::conversation c(config, {});
    join(c);
    (void)c.take_lines();
    c.on_event(natter::server_message{natter::chat_event{1, noon_ms, "bob", "alice", "psst", true}});
    CHECK(texts(c.take_lines()) == std::vector<std::string>{"16:00 *bob* (whisper) psst"});
    c.on_line("/w bob hi", noon_ms);
    c.on_line("hello all", noon_ms);
    const auto lines = c.take_lines();
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].kind == nc::shown_kind::whisper_out);
    CHECK(lines[0].text == "16:00 -> *bob* hi");
    CHECK(lines[0].state == nc::send_state::pending);
    CHECK(lines[1].kind == nc::shown_kind::own_chat);
    CHECK(lines[1].text == "16:00 <alice> hello all");
    CHECK(lines[1].state == nc::send_state::pending);
    CHECK(sent_texts(c.take_actions()) == std::vector<std::string>{"bob:hi", "hello all"});
    c.on_event(natter::server_message{natter::ack_event{2, 10, noon_ms}});
    c.on_event(natter::server_message{natter::ack_event{3, 11, noon_ms}});
    const auto marks = c.take_marks();
    REQUIRE(marks.size() == 2);
    CHECK(marks[0].id == lines[0].id);
    CHECK(marks[0].state == nc::send_state::sent);
    CHECK(marks[1].id == lines[1].id);
    CHECK(c.take_lines().empty());
  }
}

TEST_CASE("conversation: /me sends an action and shows it as * alice waves, ours and others'") {
  auto config = person();
  config.echo_sent = true;
  nc::conversation c(config, {});
  join(c);
  (void)c.take_lines();
  c.on_line("/me waves", noon_ms);
  CHECK(texts(c.take_lines()) == std::vector<std::string>{"16:00 * alice waves"});
  const auto actions = c.take_actions();
  REQUIRE(actions.size() == 1);
  const auto& say = std::get<natter::say_request>(std::get<nc::send_action>(actions[0]).message);
  CHECK(say.text == "waves");
  CHECK(say.action);
  natter::chat_event theirs{1, noon_ms, "bob", "", "waves back", false};
  theirs.action = true;
  c.on_event(natter::server_message{theirs});
  CHECK(texts(c.take_lines()) == std::vector<std::string>{"16:00 * bob waves back"});
}

TEST_CASE("conversation: /away tells the server; a whisper to someone away says so, as irssi does") {
  nc::conversation c(person(), {});
  join(c);
  (void)c.take_lines();
  c.on_line("/away lunch", noon_ms);
  CHECK(texts(c.take_lines()) == std::vector<std::string>{"* you are marked away: lunch"});
  auto actions = c.take_actions();
  REQUIRE(actions.size() == 1);
  CHECK(std::get<natter::away_request>(std::get<nc::send_action>(actions[0]).message).message == "lunch");
  c.on_line("/away", noon_ms);
  CHECK(texts(c.take_lines()) == std::vector<std::string>{"* you are back (no longer marked away)"});
  (void)c.take_actions();

  c.on_line("/w bob are you there", noon_ms);
  (void)c.take_actions();
  c.on_event(natter::server_message{natter::ack_event{1, 7, noon_ms, "in a meeting"}});
  CHECK(texts(c.take_lines()) == std::vector<std::string>{"* bob is away: in a meeting"});
  c.on_line("hello all", noon_ms);  // a broadcast's ack never says away
  (void)c.take_actions();
  c.on_event(natter::server_message{natter::ack_event{2, 8, noon_ms}});
  CHECK(c.take_lines().empty());
}

TEST_CASE("conversation: /users lists each user with the fingerprint, in both UIs") {
  nc::conversation c(person(), {});
  join(c);
  (void)c.take_lines();
  c.on_line("/users", noon_ms);
  REQUIRE(c.take_actions().size() == 1);
  c.on_event(natter::server_message{natter::users_event{1, {{"alice", "aaaa", 0}, {"bob", bob_fp, 0, bob_key_hex}}, false}});
  CHECK(texts(c.take_lines()) ==
        std::vector<std::string>{std::string("* online (2):\n*   alice  aaaa\n*   bob    ") + bob_fp});
}

TEST_CASE("conversation: /verify asks about the server key; y marks it, n does not") {
  nc::conversation c(person(), {});
  join(c);
  (void)c.take_lines();
  c.on_line("/verify", noon_ms);
  auto lines = c.take_lines();
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].text == std::string("* server 127.0.0.1:9900 key fingerprint: ") + server_fp);
  CHECK(lines[2].kind == nc::shown_kind::prompt);
  CHECK(lines[2].text == "Mark the server's key as verified? [y/N] ");
  REQUIRE(c.waiting_question());
  CHECK(c.waiting_question()->kind == nc::question_kind::verify_server);

  SUBCASE("y") {
    c.on_line("y", noon_ms);
    CHECK_FALSE(c.waiting_question());
    CHECK(c.verified().server_verified(server, server_key));
    CHECK(c.server_key_state() == "verified ✓");
    CHECK(texts(c.take_lines()) == std::vector<std::string>{"* the key of 127.0.0.1:9900 is now marked verified ✓"});
    const auto actions = c.take_actions();
    REQUIRE(actions.size() == 1);
    const auto& save = std::get<nc::save_verified_action>(actions[0]);
    CHECK(save.server == server);
    CHECK(save.name.empty());
    CHECK(save.key == server_key_hex);  // the full key is stored, not the fingerprint shown
    // Asked again, it says so instead of asking.
    c.on_line("/verify", noon_ms);
    CHECK(texts(c.take_lines()).back() == "* already marked verified ✓");
    CHECK_FALSE(c.waiting_question());
  }
  SUBCASE("n") {
    c.on_line("n", noon_ms);
    CHECK_FALSE(c.waiting_question());
    CHECK_FALSE(c.verified().server_verified(server, server_key));
    CHECK(texts(c.take_lines()) == std::vector<std::string>{"* not marked verified"});
    CHECK(c.take_actions().empty());
  }
  SUBCASE("a line that is no answer is not eaten: the question gets no, the line is sent") {
    c.on_line("hello", noon_ms);
    CHECK_FALSE(c.waiting_question());
    CHECK_FALSE(c.verified().server_verified(server, server_key));
    CHECK(sent_texts(c.take_actions()) == std::vector<std::string>{"hello"});
  }
}

TEST_CASE("conversation: /verify NAME asks the server for the key, then the person") {
  nc::conversation c(person(), {});
  join(c);
  (void)c.take_lines();
  c.on_line("/verify bob", noon_ms);
  auto actions = c.take_actions();
  REQUIRE(actions.size() == 2);
  CHECK(std::get<natter::whois_request>(std::get<nc::send_action>(actions[0]).message).name == "bob");
  CHECK(std::get<nc::e2e_command_action>(actions[1]).command.name == "bob");  // and the safety number
  CHECK_FALSE(c.waiting_question());  // not before the server answered
  c.on_event(natter::server_message{natter::whois_event{{}, "bob", bob_fp, true, bob_key_hex}});
  const auto lines = c.take_lines();
  REQUIRE(lines.size() == 3);
  CHECK(lines[0].text == std::string("* bob: fingerprint ") + bob_fp + " (online)");
  CHECK(lines[2].text == "Mark bob's key as verified? [y/N] ");

  SUBCASE("y") {
    c.on_line("yes", noon_ms);
    CHECK(c.user_verified(c.online().users().at("bob")));
    CHECK(std::get<nc::save_verified_action>(c.take_actions().at(0)).name == "bob");
    // bob's end-to-end lines carry ✓ from now on; an unverified sender's do not.
    (void)c.take_lines();
    c.on_event(nc::e2e_shown_event{nc::e2e_shown::message, "bob", "sealed", false, 0, false});
    c.on_event(nc::e2e_shown_event{nc::e2e_shown::message, "carol", "also sealed", false, 0, false});
    c.on_event(nc::e2e_shown_event{nc::e2e_shown::not_end_to_end, "bob", "open", false, 0, false});
    const auto shown = c.take_lines();
    REQUIRE(shown.size() == 3);
    CHECK(shown[0].text.ends_with("[e2e] <bob ✓> sealed"));
    CHECK(shown[1].text.ends_with("[e2e] <carol> also sealed"));
    CHECK(shown[2].text.ends_with("[not e2e] <bob> open"));  // ✓ only for what the body authenticated
  }
  SUBCASE("n") {
    c.on_line("", noon_ms);  // Enter alone is no
    CHECK_FALSE(c.user_verified(c.online().users().at("bob")));
    CHECK(c.take_actions().empty());
  }
  SUBCASE("an unknown name ends the wait") {
    c.on_line("n", noon_ms);
    c.on_line("/verify nobody", noon_ms);
    c.on_event(natter::server_message{natter::error_event{"unknown_user", "there is no user called nobody", {}}});
    c.on_event(natter::server_message{natter::whois_event{{}, "nobody", bob_fp, false}});
    CHECK_FALSE(c.waiting_question());
  }
}

TEST_CASE("conversation: /verify NAME for a name with no protocol 2 key asks nothing") {
  nc::conversation c(person(), {});
  join(c);
  c.on_line("/verify bob", noon_ms);
  (void)c.take_actions();
  (void)c.take_lines();
  c.on_event(natter::server_message{natter::whois_event{{}, "bob", bob_fp, false}});  // a v1 owner: no key
  CHECK_FALSE(c.waiting_question());
  CHECK(texts(c.take_lines()).back() == "! bob has no protocol 2 identity key yet: nothing to verify until they connect");
}

TEST_CASE("conversation: /verify in a script is an unknown command, which fails it") {
  fake_world world;
  nc::conversation c(script(), {}, world.probes());
  join(c);
  c.on_line("/verify", noon_ms);
  CHECK_FALSE(c.waiting_question());
  CHECK(c.take_lines().back().kind == nc::shown_kind::error);
  CHECK(c.exit_code() == 1);
}

TEST_CASE("conversation: the trust question is answered by the next line, or by leaving") {
  nc::conversation c(person(), {});
  c.on_event(nc::trust_request_event{server, server_fp});
  const auto lines = c.take_lines();
  REQUIRE(lines.size() == 4);
  CHECK(lines[1].text == std::string("*   ") + server_fp);
  CHECK(lines[3].kind == nc::shown_kind::prompt);
  CHECK(lines[3].text == "Trust this server? [y/N] ");
  SUBCASE("y") {
    c.on_line("y", noon_ms);
    CHECK(std::get<nc::trust_action>(c.take_actions().at(0)).trusted);
  }
  SUBCASE("a line that is no answer asks again, and is neither an answer nor sent") {
    c.on_line("hello", noon_ms);
    CHECK(c.take_actions().empty());
    REQUIRE(c.waiting_question());
    const auto again = c.take_lines();
    REQUIRE(again.size() == 2);
    CHECK(again[0].text == "* please answer y or n; \"hello\" was not sent");
    CHECK(again[1].kind == nc::shown_kind::prompt);
    c.on_line("n", noon_ms);
    CHECK_FALSE(std::get<nc::trust_action>(c.take_actions().at(0)).trusted);
  }
  SUBCASE("Ctrl-D says no, and does not also quit") {
    c.leave();
    const auto actions = c.take_actions();
    REQUIRE(actions.size() == 1);
    CHECK_FALSE(std::get<nc::trust_action>(actions[0]).trusted);
  }
}

TEST_CASE("conversation: exit codes") {
  fake_world world;
  SUBCASE("a normal quit is 0, and quitting happens once") {
    nc::conversation c(person(), {}, world.probes());
    join(c);
    c.on_line("/quit bye now", noon_ms);
    c.leave();
    const auto actions = c.take_actions();
    REQUIRE(actions.size() == 1);
    CHECK(std::get<nc::quit_action>(actions[0]).reason == "bye now");
    (void)c.take_lines();
    c.on_event(natter::server_message{natter::bye_event{"quit", ""}});
    CHECK(c.take_lines().empty());  // the answer to our own quit is not announced
    c.on_event(nc::closed_event{"bye", true, true});
    CHECK(c.closed_after_quit());
    CHECK(c.exit_code() == 0);
  }
  SUBCASE("a connection that fails is 1, a joined one lost (and not retried) 5") {
    nc::conversation c(person(), {}, world.probes());
    c.on_event(nc::failure_event{nc::failure_kind::runtime, "cannot connect: refused"});
    c.on_event(nc::closed_event{"refused", false, false});
    CHECK(c.exit_code() == 1);
    nc::conversation lost(person(), {}, world.probes());
    join(lost);
    lost.on_event(nc::failure_event{nc::failure_kind::connection_lost, "connection lost: eof"});
    lost.on_event(nc::closed_event{"eof", false, false});
    CHECK(lost.exit_code() == 5);
    CHECK(lost.failures() == std::vector<std::string>{"connection lost: eof"});
  }
  SUBCASE("a changed server key is 3") {
    nc::conversation c(script(), {}, world.probes());
    c.on_event(nc::failure_event{nc::failure_kind::key_mismatch, "the key changed"});
    c.on_event(nc::failure_event{nc::failure_kind::runtime, "and then closed"});
    CHECK(c.exit_code() == 3);
  }
  SUBCASE("a key-change warning stays several readable lines for the normal screen") {
    nc::conversation c(person(), {}, world.probes());
    c.on_event(nc::failure_event{nc::failure_kind::key_mismatch, "@@@ WARNING @@@\n  pinned: a\x1b[2J\n  offered: b"});
    REQUIRE(c.failures().size() == 1);
    CHECK(c.failures()[0] == "@@@ WARNING @@@\n  pinned: a\xEF\xBF\xBD[2J\n  offered: b");
  }
  SUBCASE("a kick is 4 and a server stop 5, with --stay too, and the reason is kept for the normal screen") {
    auto config = script();
    for (const bool stay : {false, true}) {
      config.stay = stay;
      nc::conversation kicked(config, {}, world.probes());
      join(kicked);
      kicked.on_event(natter::server_message{natter::bye_event{"kicked", "spamming"}});
      (void)kicked.take_lines();
      kicked.on_event(nc::closed_event{"bye", false, true});
      CHECK(texts(kicked.take_lines()) == std::vector<std::string>{"natter: kicked by the operator: spamming"});
      CHECK(kicked.exit_code() == 4);
      CHECK(kicked.failures() == std::vector<std::string>{"kicked by the operator: spamming"});
      nc::conversation stopped(config, {}, world.probes());
      join(stopped);
      stopped.on_event(natter::server_message{natter::bye_event{"server_stopping", "the server is shutting down"}});
      stopped.on_event(nc::closed_event{"bye", false, true});
      CHECK(stopped.exit_code() == 5);
      CHECK(stopped.failures() == std::vector<std::string>{"the server stopped"});
    }
    nc::conversation plain_kick(person(), {}, world.probes());
    plain_kick.on_event(natter::server_message{natter::bye_event{"kicked", "kicked by the operator"}});
    plain_kick.on_event(nc::closed_event{"bye", false, true});
    CHECK(plain_kick.failures() == std::vector<std::string>{"kicked by the operator"});
  }
  SUBCASE("a refusal fails a script, not a person") {
    nc::conversation c(script(), {}, world.probes());
    nc::conversation p(person(), {}, world.probes());
    for (auto* each : {&c, &p}) {
      join(*each);
      each->on_event(natter::server_message{natter::error_event{"unknown_user", "no", {}}});
    }
    CHECK(c.exit_code() == 1);
    CHECK(p.exit_code() == 0);
  }
  SUBCASE("a script with lines the session refused is 1") {
    nc::conversation c(script(), {}, world.probes());
    CHECK(c.exit_code() == 0);
    world.progress.refused = 1;
    CHECK(c.exit_code() == 1);
  }
}

TEST_CASE("conversation: a script is paced to the announced rate, in order") {
  fake_world world;
  nc::conversation c(script(), {}, world.probes());
  join(c, 10, 4);  // paced at 9/s with a burst of 2
  for (int i = 1; i <= 5; ++i) c.on_line("line " + std::to_string(i), noon_ms);
  CHECK(sent_texts(c.take_actions()) == std::vector<std::string>{"line 1", "line 2"});
  CHECK(c.take_finished_lines() == 2);  // the reader waits while lines are held
  c.tick();
  CHECK(c.take_actions().empty());  // no time has passed
  world.now_ms += 112;              // one token at 9/s
  c.tick();
  CHECK(sent_texts(c.take_actions()) == std::vector<std::string>{"line 3"});
  CHECK(c.take_finished_lines() == 0);
  world.now_ms += 224;
  c.tick();
  CHECK(sent_texts(c.take_actions()) == std::vector<std::string>{"line 4", "line 5"});
  CHECK(c.take_finished_lines() == 3);
}

TEST_CASE("conversation: a script waits for the send window before reading on") {
  fake_world world;
  nc::conversation c(script(), {}, world.probes());
  join(c);
  world.progress.unacknowledged = nc::send_window;
  c.on_line("one", noon_ms);
  CHECK(sent_texts(c.take_actions()) == std::vector<std::string>{"one"});
  CHECK(c.take_finished_lines() == 0);
  world.progress.unacknowledged = 3;
  c.tick();
  CHECK(c.take_finished_lines() == 1);
}

TEST_CASE("conversation: a script quits at the end of its input, after --wait-ms, never with --stay") {
  fake_world world;
  auto config = script();
  SUBCASE("at once") {
    nc::conversation c(config, {}, world.probes());
    c.on_input_end();
    c.tick();
    CHECK_FALSE(quits(c.take_actions()));  // not joined yet: piped lines may still be waiting
    join(c);
    c.tick();
    CHECK(quits(c.take_actions()));
  }
  SUBCASE("--wait-ms") {
    config.wait_ms = 300;
    nc::conversation c(config, {}, world.probes());
    join(c);
    c.on_input_end();
    c.tick();
    world.now_ms += 299;
    c.tick();
    CHECK_FALSE(quits(c.take_actions()));
    world.now_ms += 1;
    c.tick();
    CHECK(quits(c.take_actions()));
  }
  SUBCASE("--stay") {
    config.stay = true;
    nc::conversation c(config, {}, world.probes());
    join(c);
    c.on_input_end();
    world.now_ms += 60000;
    c.tick();
    CHECK_FALSE(quits(c.take_actions()));
  }
}

TEST_CASE("conversation: a person's /quit while connecting acts at once") {
  nc::conversation c(person(), {});
  c.on_line("/quit", noon_ms);
  CHECK(quits(c.take_actions()));
}

TEST_CASE("conversation: /fingerprint shows both keys, --trace frames only when asked") {
  auto config = person();
  nc::conversation c(config, {});
  join(c);
  (void)c.take_lines();
  c.on_line("/fingerprint", noon_ms);
  CHECK(texts(c.take_lines()) == std::vector<std::string>{"* your fingerprint: aaaa-bbbb",
                                                          std::string("* server 127.0.0.1:9900: ") + server_fp + " (pinned)"});
  c.on_event(nc::trace_event{true, 3, 40, "session", 0, 20, "{}"});
  CHECK(c.take_lines().empty());
  config.trace = true;
  nc::conversation tracing(config, {});
  tracing.on_event(nc::trace_event{true, 3, 40, "session", 0, 20, "{}"});
  CHECK(tracing.take_lines().at(0).kind == nc::shown_kind::trace);
}

namespace {

nc::e2e_shown_event room_state(bool open, std::size_t members) {
  nc::e2e_shown_event e{open ? nc::e2e_shown::room_open : nc::e2e_shown::room_end_to_end,
                        {},
                        open ? "lobby has " + std::to_string(members) +
                                   " members, more than 1000: room texts are NOT end-to-end, the server can read them"
                             : "lobby has " + std::to_string(members) + " members, 1000 at most: room texts are "
                                                                        "end-to-end again",
                        false,
                        0,
                        false};
  e.room_members = members;
  return e;
}

std::vector<nc::room_route> routes(const std::vector<nc::conversation_action>& actions) {
  std::vector<nc::room_route> out;
  for (const auto& a : actions) {
    if (const auto* send = std::get_if<nc::send_action>(&a)) out.push_back(send->route);
  }
  return out;
}

}  // namespace

TEST_CASE("conversation: an open room is said loudly, its room texts go in the clear labelled [not e2e], whispers not") {
  auto config = person();
  std::vector<std::string> logged;
  config.log = [&logged](std::string_view line) -> std::optional<std::string> {
    logged.emplace_back(line);
    return std::nullopt;
  };
  SUBCASE("full screen: the echo carries the label") { config.echo_sent = true; }
  SUBCASE("line mode: the text is repeated, labelled, once acknowledged") {}
  nc::conversation c(config, {});
  // As the session sends it: the open room before the welcome.
  c.on_event(nc::e2e_shown_event{nc::e2e_shown::notice, {}, "room code now: aaaa (1204 members)", false, 0, false});
  c.on_event(room_state(true, 1204));
  join(c);
  CHECK(c.room_open());
  const auto announced = c.take_lines();
  bool loud = false;
  for (const auto& l : announced) {
    loud = loud || (l.kind == nc::shown_kind::error &&
                    l.text == "! [not e2e] lobby has 1204 members, more than 1000: room texts are NOT end-to-end, "
                              "the server can read them");
  }
  CHECK(loud);

  c.on_line("hello big room", noon_ms);
  c.on_line("/w bob still sealed", noon_ms);
  const auto actions = c.take_actions();
  CHECK(sent_texts(actions) == std::vector<std::string>{"hello big room", "bob:still sealed"});
  CHECK(routes(actions) == std::vector<nc::room_route>{nc::room_route::in_the_clear, nc::room_route::end_to_end});
  auto lines = c.take_lines();
  if (config.echo_sent) {
    REQUIRE(lines.size() == 2);
    CHECK(lines[0].text == "16:00 [not e2e] <alice> hello big room");
  }
  c.on_event(natter::server_message{natter::ack_event{2, 10, noon_ms}});
  lines = c.take_lines();
  if (!config.echo_sent) {
    REQUIRE(lines.size() == 1);
    CHECK(lines[0].text == "16:00 [not e2e] <alice> hello big room");
    CHECK(lines[0].kind == nc::shown_kind::own_chat);  // stdout: a pipe's output says it too
  } else {
    CHECK(lines.empty());
  }
  REQUIRE_FALSE(logged.empty());
  CHECK(logged.back() == "[not e2e] <alice> hello big room");

  // Back under the limit: said, and room texts are end to end (and labelled so) again.
  c.on_event(room_state(false, 999));
  CHECK_FALSE(c.room_open());
  bool said = false;
  for (const auto& l : c.take_lines()) said = said || l.text.find("* [e2e] lobby has 999 members") == 0;
  CHECK(said);
  c.on_line("sealed again", noon_ms);
  CHECK(routes(c.take_actions()) == std::vector<nc::room_route>{nc::room_route::end_to_end});
  if (config.echo_sent) CHECK(texts(c.take_lines()) == std::vector<std::string>{"16:00 [e2e] <alice> sealed again"});
}

TEST_CASE("conversation: --require-e2e refuses room texts in an open room, each with an error; whispers still go") {
  auto config = script();
  config.require_e2e = true;
  nc::conversation c(config, {});
  c.on_event(room_state(true, 1204));
  join(c);
  (void)c.take_lines();
  c.on_line("not for the server", noon_ms);
  CHECK(texts(c.take_lines()) ==
        std::vector<std::string>{"! not sent: the room is open (1204 members) and --require-e2e is set: not for the server"});
  CHECK(sent_texts(c.take_actions()).empty());
  CHECK(c.exit_code() == 1);  // a script learns that a line was refused
  c.on_line("/w bob fine", noon_ms);
  CHECK(sent_texts(c.take_actions()) == std::vector<std::string>{"bob:fine"});
  c.on_event(room_state(false, 900));
  c.on_line("now it goes", noon_ms);
  const auto actions = c.take_actions();
  CHECK(sent_texts(actions) == std::vector<std::string>{"now it goes"});
  CHECK(routes(actions) == std::vector<nc::room_route>{nc::room_route::end_to_end});
}

TEST_CASE("conversation: in line mode an action sent in the clear is repeated as an action, labelled") {
  nc::conversation c(person(), {});
  c.on_event(room_state(true, 1204));
  join(c);
  (void)c.take_lines();
  c.on_line("/me waves", noon_ms);
  CHECK(routes(c.take_actions()) == std::vector<nc::room_route>{nc::room_route::in_the_clear});
  c.on_event(natter::server_message{natter::ack_event{2, 10, noon_ms}});
  CHECK(texts(c.take_lines()) == std::vector<std::string>{"16:00 [not e2e] * alice waves"});
}
