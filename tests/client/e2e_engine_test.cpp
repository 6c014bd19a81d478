// e2e_engine: several engines over an in-memory relay (e2e_test_net.hpp), honest and malicious.
#include <doctest/doctest.h>

#include <algorithm>

#include "e2e_test_net.hpp"
#include "natter/crypto/e2e_base64.hpp"
#include "natter/crypto/e2e_keylog.hpp"
#include "natter/crypto/e2e_wire.hpp"

namespace natter::test {
namespace {

using strings = std::vector<std::string>;

bool contains(const std::string& haystack, std::string_view needle) { return haystack.find(needle) != std::string::npos; }

// Flips one byte of a body (decoded), keeping it valid base64.
std::string flip_byte(const std::string& body, std::size_t from_end) {
  auto raw = crypto::e2e::from_base64(body);
  REQUIRE(raw.has_value());
  (*raw)[raw->size() - 1 - from_end] ^= 0x01;
  return crypto::e2e::to_base64(*raw);
}

TEST_CASE("e2e_engine: whisper and room round trips") {
  e2e_net net;
  net.join("alice", 0xa1);
  net.join("bob", 0xb0);
  net.join("carol", 0xc0);

  net.whisper("alice", "bob", "psst bob");
  net.run();
  CHECK(net.texts("bob") == strings{"alice: psst bob"});
  CHECK(net.members.at("bob").messages.at(0).whisper);
  CHECK(net.texts("carol").empty());

  net.say("alice", "hello room");
  net.run();
  CHECK(net.texts("bob") == strings{"alice: psst bob", "alice: hello room"});
  CHECK(net.texts("carol") == strings{"alice: hello room"});
  CHECK_FALSE(net.members.at("carol").messages.at(0).whisper);

  // The others got alice's sessions and can answer at once, in the room and privately.
  net.say("bob", "hi all");
  net.whisper("carol", "alice", "hi alice");
  net.run();
  auto alice_got = net.texts("alice");
  std::sort(alice_got.begin(), alice_got.end());  // bob's text waited for his handshake with carol
  CHECK(alice_got == strings{"bob: hi all", "carol: hi alice"});
  CHECK(net.texts("carol") == strings{"alice: hello room", "bob: hi all"});
  for (const auto& [name, m] : net.members) {
    CHECK(m.warnings.empty());
    CHECK(m.dropped.empty());
  }
  // The server saw no text: every body it routed is base64 of sealed bytes.
  for (const auto& [name, m] : net.members) {
    for (const auto& ev : m.received) CHECK_FALSE(contains(ev.body, "hello"));
  }
}

TEST_CASE("e2e_engine: simultaneous first whispers both arrive") {
  e2e_net net;
  net.join("alice", 0xa1);
  net.join("bob", 0xb0);
  net.whisper("alice", "bob", "from alice");
  net.whisper("bob", "alice", "from bob");
  net.run();
  CHECK(net.texts("bob") == strings{"alice: from alice"});
  CHECK(net.texts("alice") == strings{"bob: from bob"});
  CHECK(net.members.at("alice").warnings.empty());
  CHECK(net.members.at("bob").warnings.empty());
}

TEST_CASE("e2e_engine: a malicious relay is caught") {
  e2e_net net;
  net.join("alice", 0xa1);
  net.join("bob", 0xb0);
  net.join("mallory", 0x99);
  // Sessions and sender keys everywhere first.
  net.say("alice", "setup a");
  net.say("mallory", "setup m");
  net.run();
  net.members.at("bob").messages.clear();

  SUBCASE("a tampered whisper body fails authentication") {
    net.whisper("alice", "bob", "secret");
    net.tamper = [](const std::string&, e2e_event& ev) {
      if (ev.kind == e2e_kind::whisper) ev.body = flip_byte(ev.body, 20);
      return true;
    };
    net.run();
    CHECK(net.texts("bob").empty());
    CHECK(net.warned("bob", "failed authentication"));
  }
  SUBCASE("a tampered room message fails authentication") {
    net.say("alice", "secret");
    net.tamper = [](const std::string&, e2e_event& ev) {
      ev.body = flip_byte(ev.body, 70);  // inside the ciphertext, before the signature
      return true;
    };
    net.run();
    CHECK(net.texts("bob").empty());
    CHECK(net.warned("bob", "failed authentication"));
  }
  SUBCASE("a whisper relabelled with another sender is flagged") {
    net.whisper("alice", "bob", "from alice really");
    net.tamper = [](const std::string&, e2e_event& ev) {
      ev.from = "mallory";
      return true;
    };
    net.run();
    CHECK(net.texts("bob").empty());
    CHECK(net.warned("bob", "claiming to be from mallory was sealed in alice's session"));
  }
  SUBCASE("a room message relabelled with another sender is flagged") {
    net.say("alice", "from alice really");
    net.tamper = [](const std::string&, e2e_event& ev) {
      ev.from = "mallory";
      return true;
    };
    net.run();
    CHECK(net.texts("bob").empty());
    CHECK(net.warned("bob", "claiming to be from mallory was sealed with alice's sender key"));
  }
  SUBCASE("replays are dropped and shown") {
    net.whisper("alice", "bob", "once");
    net.say("alice", "once in the room");
    auto copy = net.wire;  // what the relay saw
    net.run();
    for (auto& f : copy) {
      if (f.to == "bob") net.deliver_raw(f.to, f.event);
    }
    CHECK(net.texts("bob") == strings{"alice: once", "alice: once in the room"});
    CHECK(net.warned("bob", "a repeated message from alice was dropped"));
    CHECK(net.warned("bob", "a repeated room message from alice was dropped"));
  }
  SUBCASE("a dropped message is reported once its time is up; reordering is tolerated") {
    net.say("alice", "one");
    net.say("alice", "two", 2);
    net.say("alice", "three", 3);
    net.whisper("alice", "bob", "w1");
    net.whisper("alice", "bob", "w2", 2);
    std::vector<e2e_event> to_bob;
    for (auto& f : net.wire) {
      if (f.to == "bob") to_bob.push_back(f.event);
    }
    net.wire.clear();
    REQUIRE(to_bob.size() == 5);
    // "three" before "one"; "two" never; w2 before w1.
    net.deliver_raw("bob", to_bob[2]);
    net.deliver_raw("bob", to_bob[0]);
    net.deliver_raw("bob", to_bob[4]);
    net.deliver_raw("bob", to_bob[3]);
    CHECK(net.texts("bob") == strings{"alice: three", "alice: one", "alice: w2", "alice: w1"});
    CHECK_FALSE(net.warned("bob", "did not arrive"));
    net.now += client::missing_message_max_age;
    net.tick_all();
    CHECK(net.warned("bob", "1 message from alice did not arrive"));
    CHECK(net.members.at("bob").warnings.size() == 1);
  }
  SUBCASE("control characters and escapes in a peer's text are not shown") {
    net.whisper("alice", "bob", "evil \x1b[2J clear");
    net.run();
    CHECK(net.texts("bob").empty());
    CHECK(net.warned("bob", "was not shown"));
  }
}

TEST_CASE("e2e_engine: membership") {
  e2e_net net;
  net.join("alice", 0xa1);
  net.join("bob", 0xb0);
  net.join("carol", 0xc0);
  net.say("alice", "before");
  net.run();
  REQUIRE(net.texts("carol") == strings{"alice: before"});

  SUBCASE("a member who left, keeping its keys, reads nothing after the rotation") {
    // carol leaves but keeps her engine and keys; she "listens" to the wire.
    net.depart_keeping("carol");
    auto& carol = net.members.at("carol");
    net.say("alice", "after carol left");
    // Capture the room message as a listening server would, and feed it to the old carol.
    std::vector<e2e_event> room;
    for (auto& f : net.wire) {
      if (f.event.kind == e2e_kind::room) room.push_back(f.event);
    }
    REQUIRE_FALSE(room.empty());
    net.run();
    CHECK(net.texts("bob").back() == "alice: after carol left");
    client::e2e_output out;
    carol.engine->on_event(room.front(), net.now, out);
    CHECK(out.messages.empty());
    REQUIRE_FALSE(out.warnings.empty());
    CHECK(contains(out.warnings.front(), "could not be read"));
    CHECK(net.members.at("alice").engine->epoch() == 1);
  }
  SUBCASE("without rotation the removed member would read it (what the test above relies on)") {
    // The same capture, but carol is still a member: she reads it. So the check above is real.
    net.say("alice", "carol still here");
    net.run();
    CHECK(net.texts("carol").back() == "alice: carol still here");
  }
  SUBCASE("a joiner reads nothing from before") {
    net.say("alice", "old news");
    std::vector<e2e_event> old_room;
    for (auto& f : net.wire) {
      if (f.event.kind == e2e_kind::room) old_room.push_back(f.event);
    }
    net.run();
    net.join("dave", 0xd0);
    net.say("alice", "welcome dave");
    net.run();
    CHECK(net.texts("dave") == strings{"alice: welcome dave"});
    client::e2e_output out;
    net.members.at("dave").engine->on_event(old_room.front(), net.now, out);
    CHECK(out.messages.empty());
    CHECK_FALSE(out.warnings.empty());
  }
}

TEST_CASE("e2e_engine: room codes and safety numbers") {
  e2e_net net;
  net.join("alice", 0xa1);
  net.join("bob", 0xb0);
  const auto code = net.members.at("alice").engine->room_code();
  REQUIRE(code.has_value());
  CHECK(code == net.members.at("bob").engine->room_code());
  CHECK(contains(net.members.at("alice").notices.back(), "room code now: " + *code));
  CHECK(net.members.at("alice").engine->safety_number("bob") == net.members.at("bob").engine->safety_number("alice"));

  SUBCASE("a ghost member changes the code, and it is shown") {
    const auto ghost = identity_of(0x66);
    net.members.at("alice").engine->on_directory("ghost", ghost.public_key());
    net.flush_all();
    CHECK(net.members.at("alice").engine->room_code() != code);
    CHECK(contains(net.members.at("alice").notices.back(), "room code now: "));
    CHECK_FALSE(contains(net.members.at("alice").notices.back(), *code));
    CHECK(net.members.at("bob").engine->room_code() == code);  // bob's view differs: compare aloud
  }
  SUBCASE("a substituted key changes the code and the safety number") {
    const auto fake = identity_of(0x77);
    net.members.at("alice").engine->on_directory("bob", fake.public_key());
    CHECK(net.members.at("alice").engine->room_code() != code);
    CHECK(net.members.at("alice").engine->safety_number("bob") != net.members.at("bob").engine->safety_number("alice"));
  }
}

TEST_CASE("e2e_engine: a held peer gets nothing and is not read") {
  e2e_net net;
  net.join("alice", 0xa1);
  net.join("bob", 0xb0);
  net.members.at("alice").engine->hold("bob");
  net.whisper("alice", "bob", "not for a changed key");
  net.run();
  CHECK(net.texts("bob").empty());
  REQUIRE(net.members.at("alice").dropped.size() == 1);
  CHECK(contains(net.members.at("alice").dropped.front().reason, "/accept bob"));
  net.whisper("bob", "alice", "hi");
  net.run();
  CHECK(net.texts("alice").empty());
  CHECK(net.warned("alice", "not accepted"));
  net.members.at("alice").engine->release("bob");
  net.now += client::stale_init_after;  // bob's init, dropped by alice, is stale now
  net.whisper("alice", "bob", "accepted now", 2);
  net.run();
  CHECK(net.texts("bob") == strings{"alice: accepted now"});
  CHECK(net.texts("alice") == strings{"bob: hi"});  // bob's whisper waited for the session
}

TEST_CASE("e2e_engine: an unanswered handshake drops what waited, after the timeout") {
  e2e_net net;
  net.join("alice", 0xa1);
  net.join("bob", 0xb0);
  net.tamper = [](const std::string&, e2e_event&) { return false; };  // the server drops everything
  net.whisper("alice", "bob", "lost", 7);
  net.run();
  CHECK(net.members.at("alice").dropped.empty());
  net.now += client::handshake_timeout;
  net.tick_all();
  REQUIRE(net.members.at("alice").dropped.size() == 1);
  CHECK(net.members.at("alice").dropped.front().tag == 7);
  CHECK(net.warned("alice", "went unanswered"));
}

std::size_t count_warnings(const e2e_net& net, const std::string& name, std::string_view part) {
  std::size_t n = 0;
  for (const auto& w : net.members.at(name).warnings) n += w.find(part) != std::string::npos ? 1 : 0;
  return n;
}

TEST_CASE("e2e_engine: a member the server lists but does not deliver to is warned about, once") {
  e2e_net net;
  net.join("alice", 0xa1);
  net.join("bob", 0xb0);
  auto& alice = *net.members.at("alice").engine;
  // A ghost: in alice's directory, unknown to the relay (which refuses with unknown_user).
  alice.on_directory("ghost", identity_of(0x99).public_key());
  net.say("alice", "one", 1);
  net.run();
  CHECK(net.texts("bob") == strings{"alice: one"});  // the room goes on without the ghost
  // Not at once: a member who has just left is refused too, before its `left` notice may come.
  CHECK(count_warnings(net, "alice", "ghost") == 0);
  net.now += client::not_delivered_warning_after;
  net.tick_all();
  const std::string warning =
      "the server listed ghost as a member but does not deliver to them: they cannot read your room texts";
  CHECK(count_warnings(net, "alice", warning) == 1);
  CHECK(count_warnings(net, "alice", "compare the room code") == 1);

  SUBCASE("once per member: listed again and refused again, it is not repeated") {
    alice.on_directory("ghost", identity_of(0x99).public_key());
    for (std::uint64_t tag = 2; tag < 5; ++tag) {
      net.say("alice", "more", tag);
      net.run();
      net.now += client::not_delivered_warning_after;
      net.tick_all();
    }
    CHECK(count_warnings(net, "alice", "ghost") == 1);
    CHECK(net.texts("bob").size() == 4);
  }
  SUBCASE("a whisper to the ghost is dropped, saying why") {
    net.whisper("alice", "ghost", "boo", 9);
    net.run();
    REQUIRE(net.members.at("alice").dropped.size() == 1);
    CHECK(net.members.at("alice").dropped[0].reason.find("does not deliver to ghost") != std::string::npos);
  }
}

TEST_CASE("e2e_engine: a member refused because it has just left is not called a ghost") {
  e2e_net net;
  net.join("alice", 0xa1);
  net.join("bob", 0xb0);
  auto& alice = *net.members.at("alice").engine;
  alice.on_directory("carol", identity_of(0xc0).public_key());  // gone already; her `left` is on its way
  net.say("alice", "hi", 1);
  net.run();
  alice.on_left("carol");
  net.now += client::not_delivered_warning_after;
  net.tick_all();
  CHECK(count_warnings(net, "alice", "carol") == 0);
  CHECK(net.members.at("alice").warnings.empty());
}

// Handshake and key bodies the relay has refused over its budget, by recipient and kind.
struct budget {
  explicit budget(int first) : refuse_first(first) {}
  int refuse_first;  // this many of alice's control bodies are refused (-1: all)
  std::vector<std::string> refused;
  std::function<std::string(const std::string&, const e2e_request&)> hook() {
    return [this](const std::string& from, const e2e_request& r) {
      const std::string what = from + "->" + r.to + " " + r.kind;
      if (from == "alice" && (refuse_first < 0 || static_cast<int>(refused.size()) < refuse_first)) {
        refused.push_back(what);
        return std::string(errc::rate_limited);
      }
      return std::string();
    };
  }
};

TEST_CASE("e2e_engine: a handshake refused over the server's budget is tried again, with backoff") {
  e2e_net net;
  net.join("alice", 0xa1);
  net.join("bob", 0xb0);
  budget b(2);
  net.refuse = b.hook();
  net.say("alice", "patience", 1);
  net.run();
  REQUIRE(b.refused == std::vector<std::string>{"alice->bob handshake"});
  CHECK(net.texts("bob").empty());  // the text waits for bob: not sent without him
  CHECK(net.members.at("alice").engine->waiting() == 1);
  net.now += client::refused_retry_first - std::chrono::milliseconds(1);
  net.tick_all();
  CHECK(b.refused.size() == 1);  // not before its time
  net.now += std::chrono::milliseconds(1);
  net.tick_all();
  net.run();
  CHECK(b.refused.size() == 2);  // the second try, refused too: the next waits twice as long
  net.now += client::refused_retry_first;
  net.tick_all();
  net.run();
  CHECK(b.refused.size() == 2);
  CHECK(net.texts("bob").empty());
  net.now += client::refused_retry_first;
  net.tick_all();
  net.run();
  CHECK(b.refused.size() == 2);
  CHECK(net.texts("bob") == strings{"alice: patience"});
  CHECK(net.members.at("alice").warnings.empty());
  CHECK(net.members.at("alice").dropped.empty());
}

TEST_CASE("e2e_engine: a member the server keeps refusing over its budget is given up, with a warning") {
  e2e_net net;
  net.join("alice", 0xa1);
  net.join("bob", 0xb0);
  net.join("carol", 0xc0);
  budget b(-1);
  net.refuse = [&b, all = b.hook()](const std::string& from, const e2e_request& r) {
    return r.to == "bob" ? all(from, r) : std::string();  // only bob's are refused
  };
  net.say("alice", "without bob", 1);
  net.run();
  for (int i = 0; i < 10; ++i) {
    net.now += client::refused_retry_first;
    net.tick_all();
    net.run();
  }
  CHECK(b.refused.size() == static_cast<std::size_t>(client::refused_retry_attempts));  // bounded
  CHECK(count_warnings(net, "alice", "bob cannot read your room texts: the server refused our key 4 times") == 1);
  CHECK(net.texts("carol") == strings{"alice: without bob"});  // the room went on, once it gave up
}

TEST_CASE("e2e_engine: our sender key refused over the server's budget goes again; texts wait for it") {
  e2e_net net;
  net.join("alice", 0xa1);
  net.join("bob", 0xb0);
  bool refused_once = false;
  net.refuse = [&](const std::string& from, const e2e_request& r) {
    if (from != "alice" || r.kind != e2e_kind::key || refused_once) return std::string();
    refused_once = true;
    return std::string(errc::rate_limited);
  };
  net.say("alice", "first", 1);
  net.run();
  REQUIRE(refused_once);
  CHECK(net.texts("bob").empty());  // its key did not arrive: bob cannot read it (and says so)
  CHECK(net.warned("bob", "no sender key from alice yet"));
  net.say("alice", "second", 2);
  net.run();
  CHECK(net.texts("bob").empty());  // waits for the key to go again
  net.now += client::refused_retry_first;
  net.tick_all();
  net.run();
  CHECK(net.texts("bob") == strings{"alice: second"});
  CHECK(net.members.at("alice").warnings.empty());
}

}  // namespace
}  // namespace natter::test

namespace natter::test {
namespace {

// What --e2e-keylog writes, kept in memory.
struct recording_keys final : crypto::e2e::message_key_observer {
  std::vector<std::string> lines;
  void on_message_key(const crypto::e2e::message_key_use& use, const crypto::secret_key& key) noexcept override {
    lines.push_back(crypto::e2e::e2e_keylog_line(use, key));
  }
};

TEST_CASE("e2e_engine: the key log names one message key per sealed and opened text, and it opens the body") {
  e2e_net net;
  net.join("alice", 0xa1);
  net.join("bob", 0xb0);
  recording_keys alice_keys;
  recording_keys bob_keys;
  net.members.at("alice").engine->observe_keys(&alice_keys);
  net.members.at("bob").engine->observe_keys(&bob_keys);
  net.whisper("alice", "bob", "keyed whisper");
  net.say("alice", "keyed room");
  net.run();
  REQUIRE(net.texts("bob").size() == 2);
  // alice sealed the whisper, her sender key (made for the room text) and the room text; bob
  // opened the same three (he has no sender key yet: he never spoke in the room).
  CHECK(alice_keys.lines.size() == 3);
  CHECK(bob_keys.lines.size() == 3);
  // The whisper's line, found by the body's session id, n and direction (alice->bob), opens it.
  const auto& whisper = *std::find_if(net.members.at("bob").received.begin(), net.members.at("bob").received.end(),
                                      [](const e2e_event& e) { return e.kind == e2e_kind::whisper; });
  const auto raw = crypto::e2e::from_base64(whisper.body);
  REQUIRE(raw.has_value());
  const auto view = crypto::e2e::parse_pairwise_body(*raw);
  REQUIRE(view.has_value());
  const std::string prefix = "NATTER_E2E_KEY pairwise " + crypto::to_hex(view->header.id) + " " +
                             std::to_string(view->header.n) + " alice->bob ";
  const auto line = std::find_if(bob_keys.lines.begin(), bob_keys.lines.end(),
                                 [&](const std::string& l) { return l.starts_with(prefix); });
  REQUIRE(line != bob_keys.lines.end());
  crypto::secret_key mk;
  REQUIRE(crypto::from_hex(line->substr(prefix.size()), {mk.data(), crypto::key_size}));
  const auto plain = crypto::e2e::open(mk, view->nonce, view->header_bytes, view->ciphertext);
  REQUIRE(plain.has_value());
  CHECK(std::string(plain->begin(), plain->end()) == "keyed whisper");
  CHECK(std::count(alice_keys.lines.begin(), alice_keys.lines.end(), *line) == 1);  // the same line on both sides
}

}  // namespace
}  // namespace natter::test
