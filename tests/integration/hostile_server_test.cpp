// A malicious server is caught (issue 13), against the real `natter` client binary: real
// clients talk through a real natter-server, with a keyed_relay in between that holds the
// server's hop keys — the power of a hostile server — and rewrites what the server sends. For
// each attack the client shows a warning, and the attacked text is never shown as a message.
// (The same attacks against the engine alone, with an in-memory relay: tests/client/e2e_engine_test.cpp.)
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <map>
#include <memory>
#include <thread>

#include "child_process.hpp"
#include "keyed_relay.hpp"
#include "natter/crypto/fingerprint_v2.hpp"
#include "natter/crypto/identity_v2.hpp"
#include "natter/crypto/keys.hpp"
#include "server_process.hpp"

using namespace natter;
using namespace natter::test;
using json = nlohmann::json;
using frames = std::vector<keyed_relay::messages>;

namespace {

// The client reports a message skipped over after missing_message_max_age (20 s) and checks
// once a second or so: the drop test waits this long for it.
constexpr auto missing_report_wait = std::chrono::seconds(30);

// Polls `read` (a process's stdout or stderr) until it holds `text`.
bool eventually(const std::function<std::string()>& read, const std::string& text,
                std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (read().find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return false;
}

std::size_t count_of(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1)) ++n;
  return n;
}

// A text no process but the sending client ever had: built at run time.
std::string marker(const std::string& what) { return what + std::to_string(::getpid()) + "QZ"; }

// The e2e requests `sent` holds of `kind` (any kind if empty) addressed to `to`.
std::size_t e2e_requests_to(const keyed_relay::messages& sent, const std::string& to, const std::string& kind = "") {
  std::size_t n = 0;
  for (const auto& m : sent) {
    if (m.value("type", "") == "e2e" && m.value("to", "") == to && (kind.empty() || m.value("kind", "") == kind)) ++n;
  }
  return n;
}

// An Ed25519 key the server never gave anyone: the substitute a hostile server would hand out.
std::string fresh_key_hex() {
  return crypto::to_hex(crypto::identity_v2::generate().public_key().bytes);
}
std::string fingerprint_of(const std::string& key_hex) {
  crypto::ed25519_public_key key;
  REQUIRE(crypto::from_hex(key_hex, key.bytes));
  return crypto::fingerprint_v2(key);
}

// A real server with its hop key log, the hostile relay in front of it, and users who reach
// the server only through the relay (so their known_hosts and peer pins name the relay).
// An attack's state is declared before the fixture in each test: the relay calls the attack
// until it is destroyed, so what the attack refers to must outlive it.
struct hostile_server {
  temp_dir root;
  std::filesystem::path keylog = root.path() / "server-keys.log";
  server_process server{{"--keylog", keylog.string()}};
  keyed_relay relay{server.port(), keylog};

  std::vector<std::string> env(const std::string& name) const {
    std::filesystem::create_directories(root.path() / name);
    return {"XDG_CONFIG_HOME=" + (root.path() / name).string()};
  }
  std::vector<std::string> args(const std::string& name, std::vector<std::string> extra) const {
    std::vector<std::string> a = {client_binary(), "--name", name, "--accept-new", "--plain"};
    a.insert(a.end(), extra.begin(), extra.end());
    a.push_back("127.0.0.1:" + std::to_string(relay.port()));
    return a;
  }
  // A listener: --stay, reading what arrives.
  std::unique_ptr<background_process> listen(const std::string& name, const std::string& tag = "") {
    auto p = std::make_unique<background_process>(args(name, {"--stay"}), env(name), root.path(),
                                                  tag.empty() ? name : tag);
    REQUIRE(p->wait_for_output("joined as " + name));
    return p;
  }
  // A script: types `input`, waits for its answers (and `wait_ms` more), quits.
  process_result type(const std::string& name, const std::string& input, int wait_ms = 300) {
    auto r = run_process(args(name, {"--wait-ms", std::to_string(wait_ms)}), input, env(name),
                         std::chrono::seconds(20));
    CHECK(r.status != -1000);  // it finished by itself
    return r;
  }
  // Nothing went wrong in the relay itself: what the clients saw was the attack, not a bug.
  void check_relay() const {
    CHECK(relay.problems().empty());
    for (const auto& p : relay.problems()) MESSAGE(p);
    CHECK(relay.frames_resealed() > 0);
  }
};

// An attack that rewrites single messages addressed to `victim` and passes the rest.
keyed_relay::attack on_each(const std::string& victim, std::function<frames(json)> rewrite) {
  return [victim, rewrite = std::move(rewrite)](const std::string& to, keyed_relay::messages frame) {
    if (to != victim) return frames{std::move(frame)};
    keyed_relay::messages kept;
    frames extra;
    for (auto& m : frame) {
      frames out = rewrite(std::move(m));
      if (out.empty()) continue;
      // The first frame of the rewrite stays in this frame; more become frames of their own.
      for (auto& x : out[0]) kept.push_back(std::move(x));
      for (std::size_t i = 1; i < out.size(); ++i) extra.push_back(std::move(out[i]));
    }
    frames result{std::move(kept)};
    for (auto& e : extra) result.push_back(std::move(e));
    return result;
  };
}

frames keep(json m) { return frames{{std::move(m)}}; }

}  // namespace

TEST_CASE("hostile server, control: through the keyed relay unchanged, texts arrive labelled [e2e] and nothing is flagged") {
  hostile_server h;
  auto bob = h.listen("bob");
  const std::string whisper = marker("WHISPER"), room = marker("ROOM");
  const auto alice = h.type("alice", "/w bob " + whisper + "\n" + room + "\n");
  INFO(alice.err);
  CHECK(alice.status == 0);
  CHECK(bob->wait_for_output("[e2e] *alice* (whisper) " + whisper));
  CHECK(bob->wait_for_output("[e2e] <alice> " + room));
  CHECK(bob->err().find("! [e2e]") == std::string::npos);
  CHECK(alice.err.find("! [e2e]") == std::string::npos);
  CHECK(bob->out().find("[not e2e]") == std::string::npos);
  h.check_relay();
  // The relay opened what the clients sent: end-to-end envelopes only, to the right peer.
  CHECK(e2e_requests_to(h.relay.sent_by("alice"), "bob", "whisper") == 1);
}

TEST_CASE("hostile server: a tampered whisper body and a tampered room body fail authentication and are not shown") {
  std::atomic<int> tampered{0};  // counted on the relay's thread, read here
  hostile_server h;
  auto bob = h.listen("bob");
  h.relay.set_attack(on_each("bob", [&](json m) {
    if (is_e2e(m, "whisper", "alice") || is_e2e(m, "room", "alice")) {
      m["body"] = flip_middle_byte(m["body"].get<std::string>());
      ++tampered;
    }
    return keep(std::move(m));
  }));
  const std::string whisper = marker("WHISPER"), room = marker("ROOM");
  const auto alice = h.type("alice", "/w bob " + whisper + "\n" + room + "\n");
  INFO(alice.err);
  CHECK(eventually([&] { return bob->err(); }, "! [e2e] a message from alice failed authentication (tampered?); dropped"));
  CHECK(eventually([&] { return bob->err(); },
                   "! [e2e] a room message from alice failed authentication (tampered or forged); dropped"));
  CHECK(tampered == 2);
  CHECK(bob->out().find(whisper) == std::string::npos);
  CHECK(bob->out().find(room) == std::string::npos);
  h.check_relay();
}

TEST_CASE("hostile server: a whisper and a room text relabelled as another user's are flagged and not shown") {
  hostile_server h;
  auto bob = h.listen("bob");
  auto carol = h.listen("carol");
  h.relay.set_attack(on_each("bob", [](json m) {
    if (is_e2e(m, "whisper", "alice") || is_e2e(m, "room", "alice")) m["from"] = "carol";
    return keep(std::move(m));
  }));
  const std::string whisper = marker("WHISPER"), room = marker("ROOM");
  const auto alice = h.type("alice", "/w bob " + whisper + "\n" + room + "\n");
  INFO(alice.err);
  CHECK(eventually([&] { return bob->err(); },
                   "! [e2e] a message claiming to be from carol was sealed in alice's session: the server changed its "
                   "sender; dropped"));
  CHECK(eventually([&] { return bob->err(); },
                   "! [e2e] a room message claiming to be from carol was sealed with alice's sender key: the server "
                   "changed its sender; dropped"));
  CHECK(bob->out().find(whisper) == std::string::npos);
  CHECK(bob->out().find(room) == std::string::npos);
  // Carol's frames were not touched: she reads the room text, from alice.
  CHECK(carol->wait_for_output("[e2e] <alice> " + room));
  h.check_relay();
}

TEST_CASE("hostile server: a replayed whisper and room text are shown once and the replays flagged") {
  hostile_server h;
  auto bob = h.listen("bob");
  // Each text event goes to bob twice: once in its frame, again in a frame of its own.
  h.relay.set_attack(on_each("bob", [](json m) {
    if (is_e2e(m, "whisper", "alice") || is_e2e(m, "room", "alice")) {
      json copy = m;
      return frames{{std::move(m)}, {std::move(copy)}};
    }
    return keep(std::move(m));
  }));
  const std::string whisper = marker("WHISPER"), room = marker("ROOM");
  const auto alice = h.type("alice", "/w bob " + whisper + "\n" + room + "\n");
  INFO(alice.err);
  CHECK(bob->wait_for_output("[e2e] *alice* (whisper) " + whisper));
  CHECK(bob->wait_for_output("[e2e] <alice> " + room));
  CHECK(eventually([&] { return bob->err(); }, "! [e2e] a repeated message from alice was dropped (a replay)"));
  CHECK(eventually([&] { return bob->err(); }, "! [e2e] a repeated room message from alice was dropped (a replay)"));
  CHECK(count_of(bob->out(), whisper) == 1);
  CHECK(count_of(bob->out(), room) == 1);
  h.check_relay();
}

TEST_CASE("hostile server: a dropped whisper and room text are reported as not arrived, the next ones shown") {
  std::atomic<bool> dropped_whisper{false}, dropped_room{false};  // the relay's thread writes them
  hostile_server h;
  auto bob = h.listen("bob");
  h.relay.set_attack(on_each("bob", [&](json m) {
    if (is_e2e(m, "whisper", "alice") && !dropped_whisper) {
      dropped_whisper = true;
      return frames{};
    }
    if (is_e2e(m, "room", "alice") && !dropped_room) {
      dropped_room = true;
      return frames{};
    }
    return keep(std::move(m));
  }));
  const std::string w1 = marker("WFIRST"), w2 = marker("WSECOND"), r1 = marker("RFIRST"), r2 = marker("RSECOND");
  // Alice stays online past the report: a leaver's state is dropped, with what it still awaited.
  const std::string input = "/w bob " + w1 + "\n/w bob " + w2 + "\n" + r1 + "\n" + r2 + "\n";
  auto alice = std::async(std::launch::async, [&] {
    return run_process(h.args("alice", {"--wait-ms", "27000"}), input, h.env("alice"), std::chrono::seconds(45));
  });
  CHECK(bob->wait_for_output("[e2e] *alice* (whisper) " + w2, std::chrono::seconds(10)));
  CHECK(bob->wait_for_output("[e2e] <alice> " + r2));
  CHECK(bob->err().find("did not arrive") == std::string::npos);  // not before its time
  // Reported once the gap is missing_message_max_age (20 s) old: one for the pairwise chain,
  // one for alice's sender key.
  const auto reported = [&] { return count_of(bob->err(), "! [e2e] 1 message from alice did not arrive"); };
  CHECK(eventually([&] { return reported() == 2 ? "both" : ""; }, "both", missing_report_wait));
  CHECK(dropped_whisper);
  CHECK(dropped_room);
  CHECK(bob->out().find(w1) == std::string::npos);
  CHECK(bob->out().find(r1) == std::string::npos);
  const auto finished = alice.get();
  INFO(finished.err);
  CHECK(finished.status == 0);
  h.check_relay();
}

TEST_CASE("hostile server: two texts swapped in transit are both shown, in the order they arrive, unflagged") {
  std::map<std::string, json> held;  // kind -> the first text of that kind, held back (relay thread only)
  std::map<std::string, std::atomic<bool>> swapped;  // keys made here, before the relay runs
  swapped["whisper"] = false;
  swapped["room"] = false;
  hostile_server h;
  auto bob = h.listen("bob");
  h.relay.set_attack(on_each("bob", [&](json m) {
    for (const std::string kind : {"whisper", "room"}) {
      if (!is_e2e(m, kind, "alice") || swapped.at(kind)) continue;
      if (!held.contains(kind)) {
        held[kind] = std::move(m);
        return frames{};
      }
      swapped.at(kind) = true;
      json first = std::move(held[kind]);
      held.erase(kind);
      return frames{{std::move(m)}, {std::move(first)}};
    }
    return keep(std::move(m));
  }));
  const std::string w1 = marker("WFIRST"), w2 = marker("WSECOND"), r1 = marker("RFIRST"), r2 = marker("RSECOND");
  const auto alice = h.type("alice", "/w bob " + w1 + "\n/w bob " + w2 + "\n" + r1 + "\n" + r2 + "\n");
  INFO(alice.err);
  CHECK(alice.status == 0);
  REQUIRE(bob->wait_for_output("[e2e] *alice* (whisper) " + w1));
  REQUIRE(bob->wait_for_output("[e2e] <alice> " + r1));
  CHECK(swapped.at("whisper"));
  CHECK(swapped.at("room"));
  // Within the receive window (E2E.md §3) a late message opens with the key kept for it, and
  // the client shows each text as it arrives: the second first.
  const std::string out = bob->out();
  CHECK(out.find(w2) < out.find(w1));
  CHECK(out.find(r2) < out.find(r1));
  CHECK(count_of(out, w1) == 1);
  CHECK(count_of(out, r1) == 1);
  CHECK(bob->err().find("! [e2e]") == std::string::npos);
  h.check_relay();
}

TEST_CASE("hostile server: a key substituted in presence is a loud warning; the peer is held and nothing goes to it") {
  const std::string fake = fresh_key_hex();
  hostile_server h;
  auto bob = h.listen("bob");
  // First contact, honest: bob pins alice's real key.
  (void)h.type("alice", "", 0);
  REQUIRE(bob->wait_for_output("alice left"));
  CHECK(bob->out().find("pinned alice's end-to-end key on first sight") != std::string::npos);
  h.relay.set_attack(on_each("bob", [&](json m) {
    if (m.value("type", "") == "presence" && m.value("event", "") == "joined" && m.value("name", "") == "alice") {
      m["key"] = fake;
      m["fingerprint"] = fingerprint_of(fake);
    }
    return keep(std::move(m));
  }));
  const std::string whisper = marker("WHISPER"), room = marker("ROOM");
  const auto alice = h.type("alice", "/w bob " + whisper + "\n" + room + "\n");
  INFO(alice.err);
  CHECK(eventually([&] { return bob->err(); }, "! [e2e] WARNING: the server gives a NEW end-to-end key for alice"));
  CHECK(bob->err().find("now:    " + fingerprint_of(fake)) != std::string::npos);
  CHECK(eventually([&] { return bob->err(); },
                   "an end-to-end message from alice was not opened: alice's key changed and is not accepted (/accept alice)"));
  REQUIRE(bob->wait_for_output("alice left"));
  CHECK(bob->out().find(whisper) == std::string::npos);
  CHECK(bob->out().find(room) == std::string::npos);
  // Bob sealed nothing for the key the server gave: not even a handshake answer.
  CHECK(e2e_requests_to(h.relay.sent_by("bob"), "alice") == 0);
  h.check_relay();
}

TEST_CASE("hostile server: a key substituted in a whois answer holds the peer; the whisper to it is not sent") {
  const std::string fake = fresh_key_hex();
  hostile_server h;
  auto alice = h.listen("alice");
  (void)h.type("bob", "", 0);  // first contact, honest: bob pins alice's real key
  h.relay.set_attack(on_each("bob", [&](json m) {
    if (m.value("type", "") == "whois" && m.value("name", "") == "alice") {
      m["key"] = fake;
      m["fingerprint"] = fingerprint_of(fake);
    }
    return keep(std::move(m));
  }));
  const std::string whisper = marker("WHISPER"), room = marker("ROOM");
  const auto bob = h.type("bob", "/whois alice\n/w alice " + whisper + "\n" + room + "\n");
  INFO(bob.out);
  INFO(bob.err);
  CHECK(bob.status != -1000);
  CHECK(bob.err.find("! [e2e] WARNING: the server gives a NEW end-to-end key for alice") != std::string::npos);
  CHECK(bob.err.find("now:    " + fingerprint_of(fake)) != std::string::npos);
  CHECK(bob.err.find("alice's key changed and is not accepted (/accept alice)): -> *alice* " + whisper) !=
        std::string::npos);
  // Nothing of bob's texts was sealed for alice after the substitution: no whisper, no sender key.
  const auto sent = h.relay.sent_by("bob");
  CHECK(e2e_requests_to(sent, "alice", "whisper") == 0);
  CHECK(e2e_requests_to(sent, "alice", "key") == 0);
  // So alice reads neither; the room text reaches her unreadable, and she says so.
  CHECK(eventually([&] { return alice->err(); }, "a room message from bob could not be read: no sender key from bob yet"));
  CHECK(alice->out().find(whisper) == std::string::npos);
  CHECK(alice->out().find(room) == std::string::npos);
  h.check_relay();
}

namespace {
// Every room code a client printed, in order.
std::vector<std::string> room_codes(const std::string& out) {
  const std::string tag = "room code now: ";
  std::vector<std::string> codes;
  for (auto at = out.find(tag); at != std::string::npos; at = out.find(tag, at + 1)) {
    codes.push_back(out.substr(at + tag.size(), 19));  // xxxx-xxxx-xxxx-xxxx
  }
  return codes;
}
}  // namespace

TEST_CASE("hostile server: a ghost member added to the directory changes the room code, which the user is shown") {
  const std::string ghost_key = fresh_key_hex();
  hostile_server h;
  auto alice = h.listen("alice");
  // Right after bob's welcome, a presence notice for a member who does not exist.
  h.relay.set_attack([&](const std::string& to, keyed_relay::messages frame) {
    bool welcome = false;
    for (const auto& m : frame) welcome = welcome || m.value("type", "") == "welcome";
    if (to != "bob" || !welcome) return frames{std::move(frame)};
    const json ghost = {{"type", "presence"}, {"event", "joined"}, {"name", "ghost"}, {"key", ghost_key},
                        {"fingerprint", fingerprint_of(ghost_key)}};
    return frames{std::move(frame), {ghost}};
  });
  const std::string room = marker("ROOM");
  // Bob stays long enough for the ghost's refusal to be told (not_delivered_warning_after, 2 s,
  // checked on the client's 1 s tick).
  const auto bob = h.type("bob", room + "\n", 3500);
  INFO(bob.out);
  INFO(bob.err);
  CHECK(bob.status == 0);
  // The server refused the handshake to the ghost (unknown_user): bob is told, once.
  CHECK(count_of(bob.err, "! [e2e] the server listed ghost as a member but does not deliver to them: they cannot "
                          "read your room texts") == 1);
  CHECK(bob.out.find("* [e2e] pinned ghost's end-to-end key on first sight: " + fingerprint_of(ghost_key)) !=
        std::string::npos);
  CHECK(bob.out.find("(3 members; compare it with the others to see that nobody was added)") != std::string::npos);
  REQUIRE(alice->wait_for_output("[e2e] <bob> " + room));
  // The codes differ exactly when the member lists do: bob's first (alice and bob) is one alice
  // was shown too, bob's last (with the ghost) is none of hers — what comparing them out of band
  // exposes. (Alice's latest code may already be the one after bob left: bob has exited.)
  const auto bob_codes = room_codes(bob.out);
  const auto alice_codes = room_codes(alice->out());
  REQUIRE(bob_codes.size() >= 2);
  REQUIRE(!alice_codes.empty());
  const auto alice_saw = [&](const std::string& code) {
    return std::find(alice_codes.begin(), alice_codes.end(), code) != alice_codes.end();
  };
  CHECK(alice_saw(bob_codes.front()));
  CHECK_FALSE(alice_saw(bob_codes.back()));
  // Bob's sender key goes to a member only inside a KK session authenticated by that member's
  // key: bob asked the ghost for one (the real server knows no ghost and refused it), and sent
  // the ghost no key and no text.
  const auto sent = h.relay.sent_by("bob");
  CHECK(e2e_requests_to(sent, "ghost", "handshake") >= 1);
  CHECK(e2e_requests_to(sent, "ghost", "key") == 0);
  CHECK(e2e_requests_to(sent, "ghost", "whisper") == 0);
  h.check_relay();
}
