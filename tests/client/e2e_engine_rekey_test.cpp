// e2e_engine's rekey of pairwise sessions (e2e_engine_rekey.cpp, docs/E2E.md §5 "Rekey"), over
// the in-memory relay. The count is injected (e2e_rekey_settings) so a rekey comes every 20
// bodies; one test crosses the real 10 000.
#include <doctest/doctest.h>

#include <algorithm>
#include <iterator>
#include <set>

#include "e2e_test_net.hpp"

namespace natter::test {
namespace {

using strings = std::vector<std::string>;
using crypto::e2e::session_id;
using namespace std::chrono_literals;

constexpr std::uint32_t small_count = 20;

// Takes the last event `from` put on the wire of `kind` (the relay holds it back).
e2e_event hold_back(e2e_net& net, const std::string& from, std::string_view kind) {
  for (auto it = net.wire.rbegin(); it != net.wire.rend(); ++it) {
    if (it->event.from == from && it->event.kind == kind) {
      e2e_event ev = it->event;
      net.wire.erase(std::next(it).base());
      return ev;
    }
  }
  FAIL("nothing of that kind on the wire");
  return {};
}

std::size_t on_wire(const e2e_net& net, const std::string& from, std::string_view kind) {
  return static_cast<std::size_t>(std::count_if(net.wire.begin(), net.wire.end(), [&](const e2e_net::in_flight& f) {
    return f.event.from == from && f.event.kind == kind;
  }));
}

client::e2e_sessions_view sessions(e2e_net& net, const std::string& who, const std::string& peer) {
  return net.members.at(who).engine->sessions_of(peer);
}

// Both sides hold one settled session, the same.
void check_settled(e2e_net& net) {
  const auto a = sessions(net, "alice", "bob");
  const auto b = sessions(net, "bob", "alice");
  REQUIRE(a.current.has_value());
  CHECK(a.current == b.current);
  CHECK_FALSE(a.candidate.has_value());
  CHECK_FALSE(b.candidate.has_value());
}

e2e_net two_members(std::uint32_t count = small_count) {
  e2e_net net;
  net.rekey.after_messages = count;
  net.join("alice", 0xa1);
  net.join("bob", 0xb0);
  return net;
}

// `burst` texts each way between deliveries: 1, the relay keeps up; more, both sides reach the
// count with bodies in flight and start a rekey at once (the simultaneous-initiation rule).
void exchange_across_rekeys(int burst) {
  auto net = two_members();
  strings alice_expects;
  strings bob_expects;
  std::set<session_id> ids;
  std::uint64_t tag = 1;
  for (int round = 0; round < 100 / burst; ++round) {
    for (int k = 0; k < burst; ++k) {
      const std::string a = "a" + std::to_string(round) + "." + std::to_string(k);
      const std::string b = "b" + std::to_string(round) + "." + std::to_string(k);
      net.whisper("alice", "bob", a, tag++);
      net.whisper("bob", "alice", b, tag++);
      bob_expects.push_back("alice: " + a);
      alice_expects.push_back("bob: " + b);
    }
    // Room texts too: the sender keys handed over in the first sessions go on working.
    net.say("alice", "room a" + std::to_string(round), tag++);
    net.say("bob", "room b" + std::to_string(round), tag++);
    bob_expects.push_back("alice: room a" + std::to_string(round));
    alice_expects.push_back("bob: room b" + std::to_string(round));
    net.run();
    check_settled(net);
    ids.insert(*sessions(net, "alice", "bob").current);
  }
  CHECK(net.texts("bob") == bob_expects);
  CHECK(net.texts("alice") == alice_expects);
  // 100 whispers and a few keys each way at 20 a session: at least 5 rekeys (fewer when both
  // sides renew the one session at once), every one a session id not seen before.
  CHECK(ids.size() >= 5);
  for (const auto& [name, m] : net.members) {
    CAPTURE(name);
    CHECK(m.warnings.empty());
    CHECK(m.dropped.empty());
  }
}

TEST_CASE("e2e rekey: texts flow both ways across many rekeys, none lost or repeated, each a new session") {
  SUBCASE("one text each way at a time") { exchange_across_rekeys(1); }
  SUBCASE("bursts of 7 each way, both sides renewing at once") { exchange_across_rekeys(7); }
}

TEST_CASE("e2e rekey: a body sealed in the old session just before the switch opens within the grace, not after") {
  auto net = two_members();
  net.whisper("alice", "bob", "first");
  net.run();
  const auto old_id = sessions(net, "alice", "bob").current;
  REQUIRE(old_id.has_value());

  for (int i = 1; i < static_cast<int>(small_count); ++i) net.whisper("alice", "bob", "a" + std::to_string(i));
  REQUIRE(on_wire(net, "alice", e2e_kind::handshake) == 1);  // her 20th body, then her rekey init
  // Still before the switch, both seal in the old session; the relay holds these back.
  net.whisper("alice", "bob", "alice late");
  net.whisper("bob", "alice", "bob late 1");
  net.whisper("bob", "alice", "bob late 2");
  const auto bob_late_2 = hold_back(net, "bob", e2e_kind::whisper);
  const auto bob_late_1 = hold_back(net, "bob", e2e_kind::whisper);
  const auto alice_late = hold_back(net, "alice", e2e_kind::whisper);
  net.run();

  check_settled(net);
  const auto a = sessions(net, "alice", "bob");
  CHECK(a.current != old_id);
  CHECK(a.previous == old_id);
  CHECK(sessions(net, "bob", "alice").previous == old_id);
  CHECK(net.texts("bob").size() == small_count);  // "first", a1..a19
  CHECK(net.texts("alice").empty());

  net.now += client::old_session_grace - 1s;
  net.deliver_raw("bob", alice_late);
  net.deliver_raw("alice", bob_late_1);
  CHECK(net.texts("bob").back() == "alice: alice late");
  CHECK(net.texts("alice") == strings{"bob: bob late 1"});
  CHECK(net.members.at("alice").warnings.empty());
  CHECK(net.members.at("bob").warnings.empty());

  net.now += 1s;  // the grace is over
  net.deliver_raw("alice", bob_late_2);
  CHECK(net.texts("alice") == strings{"bob: bob late 1"});  // refused, not shown
  CHECK(net.warned("alice", "sealed in a session already renewed"));
  CHECK_FALSE(sessions(net, "alice", "bob").previous.has_value());
}

TEST_CASE("e2e rekey: if the body confirming the switch is lost, the peer's next body in the old session brings it again") {
  auto net = two_members();
  net.whisper("alice", "bob", "first");
  net.run();
  const auto old_id = sessions(net, "alice", "bob").current;
  bool dropped = false;
  net.tamper = [&](const std::string& to, e2e_event& ev) {
    if (to == "bob" && ev.kind == e2e_kind::key && !dropped) {
      dropped = true;  // alice's sender key, her first body in the new session
      return false;
    }
    return true;
  };
  for (int i = 1; i < static_cast<int>(small_count); ++i) net.whisper("alice", "bob", "a" + std::to_string(i));
  net.run();
  REQUIRE(dropped);
  CHECK(sessions(net, "alice", "bob").current != old_id);
  CHECK(sessions(net, "bob", "alice").current == old_id);  // bob never saw a body in the new one
  CHECK(sessions(net, "bob", "alice").candidate.has_value());

  net.whisper("bob", "alice", "still in the old one");
  net.run();
  CHECK(net.texts("alice") == strings{"bob: still in the old one"});
  check_settled(net);  // alice sent her sender key again; bob switched

  net.now += client::old_session_grace;
  net.tick_all();
  net.whisper("bob", "alice", "after the grace");
  net.run();
  CHECK(net.texts("alice").back() == "bob: after the grace");
  CHECK(net.members.at("alice").warnings.empty());
  // The body the relay dropped is reported, as any gap in a session is.
  CHECK(net.members.at("bob").warnings == strings{"1 message from alice did not arrive"});
}

TEST_CASE("e2e rekey: after the grace the old session is gone, and what was sealed in it opens nowhere") {
  auto net = two_members();
  for (std::uint32_t i = 0; i < small_count; ++i) net.whisper("alice", "bob", "old " + std::to_string(i));
  net.run();
  check_settled(net);
  std::vector<e2e_event> old_whispers;
  for (const auto& ev : net.members.at("bob").received) {
    if (ev.kind == e2e_kind::whisper) old_whispers.push_back(ev);
  }
  REQUIRE(old_whispers.size() == small_count);
  const auto old_id = sessions(net, "bob", "alice").previous;
  REQUIRE(old_id.has_value());

  // Within the grace bob still holds the old session: a repeat is caught by its receive window.
  net.deliver_raw("bob", old_whispers.back());
  CHECK(net.warned("bob", "a repeated message from alice"));

  net.now += client::old_session_grace;
  net.tick_all();  // no body needed: the tick ends the grace
  for (const std::string who : {"alice", "bob"}) {
    CAPTURE(who);
    const auto s = sessions(net, who, who == "alice" ? "bob" : "alice");
    CHECK_FALSE(s.previous.has_value());
    CHECK(s.current != old_id);
    CHECK(s.candidate != old_id);
  }
  // Now no key of it is left: not a repeat caught by a window, but nothing to open it with.
  net.members.at("bob").warnings.clear();
  net.deliver_raw("bob", old_whispers.front());
  CHECK(net.warned("bob", "sealed in a session already renewed"));
  CHECK_FALSE(net.warned("bob", "repeated"));
  CHECK(net.texts("bob").size() == small_count);
}

TEST_CASE("e2e rekey: replayed inits after a rekey do not break the new session") {
  auto net = two_members();
  for (std::uint32_t i = 0; i < small_count; ++i) net.whisper("alice", "bob", "m" + std::to_string(i));
  net.run();
  check_settled(net);
  std::vector<e2e_event> inits;  // alice's first init and her rekey init, as bob received them
  for (const auto& ev : net.members.at("bob").received) {
    if (ev.kind == e2e_kind::handshake) inits.push_back(ev);
  }
  REQUIRE(inits.size() == 2);
  const auto settled = sessions(net, "alice", "bob").current;

  for (const auto& init : inits) net.deliver_raw("bob", init);
  net.run();  // bob answers each (he cannot tell a replay); alice expects no answer
  CHECK(net.warned("alice", "unexpected handshake answer"));
  CHECK(sessions(net, "bob", "alice").candidate.has_value());  // a session nobody else holds
  CHECK(sessions(net, "bob", "alice").current == settled);

  net.whisper("alice", "bob", "still here");
  net.whisper("bob", "alice", "me too");
  net.run();
  CHECK(net.texts("bob").back() == "alice: still here");
  CHECK(net.texts("alice").back() == "bob: me too");
  CHECK(sessions(net, "alice", "bob").current == settled);
  CHECK(sessions(net, "bob", "alice").current == settled);

  // The replay's candidate holds bob's own rekey back only for a while.
  net.now += client::handshake_timeout;
  for (std::uint32_t i = 0; i < small_count; ++i) net.whisper("bob", "alice", "n" + std::to_string(i));
  net.run();
  check_settled(net);
  CHECK(sessions(net, "bob", "alice").current != settled);
  CHECK(net.texts("alice").size() == 1 + small_count);
}

TEST_CASE("e2e rekey: a session an hour old is renewed by the side that initiated it") {
  auto net = two_members();
  net.whisper("alice", "bob", "hello");  // alice initiates the first session
  net.run();
  const auto first = sessions(net, "alice", "bob").current;
  net.now += client::rekey_after_age - 1s;
  net.tick_all();
  CHECK(net.wire.empty());
  net.now += 1s;
  net.tick_all();
  CHECK(on_wire(net, "alice", e2e_kind::handshake) == 1);
  CHECK(on_wire(net, "bob", e2e_kind::handshake) == 0);  // the responder leaves it to her
  net.run();
  check_settled(net);
  CHECK(sessions(net, "alice", "bob").current != first);
  net.whisper("bob", "alice", "after an hour");
  net.run();
  CHECK(net.texts("alice") == strings{"bob: after an hour"});
}

TEST_CASE("e2e rekey: an unanswered rekey keeps the old session working, and is tried again later") {
  auto net = two_members();
  net.whisper("alice", "bob", "hello");
  net.run();
  const auto first = sessions(net, "alice", "bob").current;
  net.tamper = [](const std::string&, e2e_event& ev) { return ev.kind != e2e_kind::handshake; };
  for (std::uint32_t i = 1; i < small_count + 5; ++i) net.whisper("alice", "bob", "m" + std::to_string(i));
  net.run();
  net.now += client::handshake_timeout;
  net.tick_all();
  CHECK(net.warned("alice", "could not be renewed"));
  net.whisper("alice", "bob", "goes on", 2);
  net.whisper("bob", "alice", "me too", 3);
  net.run();
  CHECK(net.texts("bob").size() == 1 + (small_count + 4) + 1);  // hello, m1..m24, goes on
  CHECK(net.texts("bob").back() == "alice: goes on");
  CHECK(net.texts("alice") == strings{"bob: me too"});
  CHECK(net.members.at("alice").dropped.empty());
  CHECK(sessions(net, "alice", "bob").current == first);

  net.tamper = [](const std::string&, e2e_event&) { return true; };
  net.now += client::rekey_retry_after;
  net.whisper("alice", "bob", "retried", 4);
  net.run();
  check_settled(net);
  CHECK(sessions(net, "alice", "bob").current != first);
  CHECK(net.texts("bob").back() == "alice: retried");
}

TEST_CASE("e2e rekey: at the real count of 10 000") {
  e2e_net net;  // default settings
  net.join("alice", 0xa1);
  net.join("bob", 0xb0);
  REQUIRE(net.rekey.after_messages == crypto::e2e::rekey_after_messages);
  std::set<session_id> ids;
  const std::uint32_t total = crypto::e2e::rekey_after_messages + 10;
  for (std::uint32_t i = 0; i < total; ++i) {
    net.whisper("alice", "bob", "m" + std::to_string(i), i + 1);
    if (i % 500 == 499 || i + 1 == total) {
      net.run();
      ids.insert(*sessions(net, "alice", "bob").current);
    }
  }
  check_settled(net);
  CHECK(ids.size() == 2);  // one rekey, at the 10 000th body
  const auto texts = net.texts("bob");
  REQUIRE(texts.size() == total);
  CHECK(texts.back() == "alice: m" + std::to_string(total - 1));
  CHECK(net.members.at("bob").warnings.empty());
}

}  // namespace
}  // namespace natter::test
