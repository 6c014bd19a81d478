// e2e_layer: the directory through the peer pins, texts through the engine, what is shown.
#include <doctest/doctest.h>

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <memory>
#include <set>

#include "e2e_test_net.hpp"
#include "natter/client/e2e_layer.hpp"
#include "natter/limits.hpp"

namespace natter::test {
namespace {

using client::e2e_layer;
using client::e2e_shown;

struct layer_fixture {
  crypto::identity_v2 alice = identity_of(0xa1);
  crypto::identity_v2 bob = identity_of(0xb0);
  crypto::identity_v2 fake = identity_of(0x77);
  client::peer_pins pins;
  int saves = 0;
  e2e_layer layer{alice, settings(false)};

  client::e2e_settings settings(bool accept_changes) {
    client::e2e_settings s;
    s.enabled = true;
    s.server = "127.0.0.1:7777";
    s.pins = &pins;
    s.save_pins = [this](const client::peer_pins&) { ++saves; };
    s.accept_key_changes = accept_changes;
    return s;
  }
  static std::string hex(const crypto::identity_v2& id) { return crypto::to_hex(id.public_key().bytes); }
  e2e_layer::output welcome(e2e_layer& l, const std::string& bob_key) {
    e2e_layer::output out;
    welcome_event w;
    w.name = "alice";
    w.users = {{"alice", "", 0, hex(alice)}, {"bob", "", 0, bob_key}};
    w.user_count = 2;
    l.on_welcome(w, test_server_key(), out);
    return out;
  }
  static bool shows(const e2e_layer::output& out, e2e_shown kind, std::string_view part) {
    for (const auto& e : out.events) {
      const auto* s = std::get_if<client::e2e_shown_event>(&e);
      if (s && s->kind == kind && s->text.find(part) != std::string::npos) return true;
    }
    return false;
  }
};

TEST_CASE_FIXTURE(layer_fixture, "e2e_layer: a key seen first is pinned and the room code shown") {
  const auto out = welcome(layer, hex(bob));
  CHECK(pins.pinned("127.0.0.1:7777", "bob") == bob.public_key());
  CHECK(saves == 1);  // the first pins: saved at once
  CHECK(shows(out, e2e_shown::notice, "pinned the end-to-end keys of 1 users"));
  CHECK(shows(out, e2e_shown::notice, "room code now: "));
}

TEST_CASE_FIXTURE(layer_fixture, "e2e_layer: a substituted key is flagged and sends to it are held until /accept") {
  (void)pins.check("127.0.0.1:7777", "bob", bob.public_key());  // pinned on an earlier run
  auto out = welcome(layer, hex(fake));                          // the server now hands out another key
  CHECK(shows(out, e2e_shown::warning, "NEW end-to-end key for bob"));
  CHECK(pins.pinned("127.0.0.1:7777", "bob") == bob.public_key());  // not replaced by itself
  out = {};
  CHECK(layer.send_text(whisper_request{"bob", "secret", {}}, 5, client::room_route::end_to_end, out));
  CHECK(out.send.empty());
  REQUIRE(out.dropped.size() == 1);
  CHECK(out.dropped[0].tag == 5);
  CHECK(out.dropped[0].reason.find("/accept bob") != std::string::npos);

  SUBCASE("the same change again is not repeated") {
    out = {};
    CHECK_FALSE(layer.on_message(presence_event{true, "bob", "", "", hex(fake)}, out));
    CHECK_FALSE(shows(out, e2e_shown::warning, "NEW end-to-end key"));
  }
  SUBCASE("/accept pins the new key and releases the peer") {
    out = {};
    layer.run({client::e2e_user_command::what::accept_key, "bob"}, out);
    CHECK(shows(out, e2e_shown::notice, "accepted bob's new end-to-end key"));
    CHECK(pins.pinned("127.0.0.1:7777", "bob") == fake.public_key());
    out = {};
    CHECK(layer.send_text(whisper_request{"bob", "now", {}}, 6, client::room_route::end_to_end, out));
    CHECK(out.dropped.empty());
    REQUIRE(out.send.size() == 1);  // the handshake with the accepted key
    CHECK(std::get<e2e_request>(out.send[0].request).kind == e2e_kind::handshake);
  }
}

TEST_CASE_FIXTURE(layer_fixture, "e2e_layer: --accept-peer-key-changes accepts, loudly") {
  (void)pins.check("127.0.0.1:7777", "bob", bob.public_key());
  e2e_layer bot{alice, settings(true)};
  const auto out = welcome(bot, hex(fake));
  CHECK(shows(out, e2e_shown::warning, "CHANGED"));
  CHECK(pins.pinned("127.0.0.1:7777", "bob") == fake.public_key());
}

TEST_CASE_FIXTURE(layer_fixture, "e2e_layer: a server listing another key for us is flagged; chat events are marked") {
  auto out = welcome(layer, hex(bob));
  out = {};
  (void)layer.on_message(users_event{{}, {{"alice", "", 0, hex(fake)}}, false}, out);
  CHECK(shows(out, e2e_shown::warning, "another key than yours"));
  out = {};
  CHECK(layer.on_message(chat_event{1, 0, "bob", "", "plain", false}, out));
  REQUIRE(out.events.size() == 1);
  CHECK(std::get<client::e2e_shown_event>(out.events[0]).kind == e2e_shown::not_end_to_end);
}


// Real engines on the other side, and a relay between them and one layer (alice's), routing as
// the server does: room bodies to every peer, the rest to `to`.
struct big_room {
  struct peer {
    std::string name;
    crypto::identity_v2 id;
    std::unique_ptr<client::e2e_engine> engine;
    std::vector<client::e2e_message> got;
  };
  crypto::identity_v2 alice = identity_of(0xa1);
  client::peer_pins pins;
  std::vector<peer> peers;
  std::vector<user_info> everyone;  // sorted by folded name, alice first, as the server lists them
  std::set<std::string> gone;       // left: the relay no longer delivers to them
  std::uint64_t next_id = 1;

  explicit big_room(std::size_t n) {
    everyone.push_back({"alice", "", 0, crypto::to_hex(alice.public_key().bytes)});
    peers.reserve(n);  // an engine borrows its peer's identity: the peers must not move
    for (std::size_t i = 0; i < n; ++i) {
      std::string name = std::to_string(i);
      name = "p" + std::string(3 - std::min<std::size_t>(3, name.size()), '0') + name;
      peer& p = peers.emplace_back(peer{name, crypto::identity_v2::generate(), nullptr, {}});
      p.engine = std::make_unique<client::e2e_engine>(p.id, p.name, test_server_key());
      p.engine->on_directory("alice", alice.public_key());
      everyone.push_back({p.name, "", 0, crypto::to_hex(p.id.public_key().bytes)});
    }
  }
  client::e2e_settings settings(std::size_t limit = client::max_e2e_room_members) {
    client::e2e_settings s;
    s.enabled = true;
    s.server = "127.0.0.1:7777";
    s.pins = &pins;
    s.room_limit = limit;
    return s;
  }
  peer* find(const std::string& name) {
    for (auto& p : peers) {
      if (p.name == name) return &p;
    }
    return nullptr;
  }
  // Delivers what the layer sent (and what the peers answer) until nothing moves. Returns the
  // plain say requests the layer sent meanwhile, in order among all its requests.
  std::vector<std::string> relay(e2e_layer& layer, e2e_layer::output& out, std::vector<std::string>* order = nullptr) {
    std::vector<std::string> plain;
    std::deque<e2e_event> to_alice;
    while (!out.send.empty() || !to_alice.empty()) {
      auto sends = std::exchange(out.send, {});
      for (auto& s : sends) {
        if (const auto* say = std::get_if<say_request>(&s.request)) {
          plain.push_back(say->text);
          if (order) order->push_back("say");
          continue;
        }
        const auto& r = std::get<e2e_request>(s.request);
        if (order) order->push_back(r.kind + (r.to.empty() ? "" : ":" + r.to));
        const e2e_event ev{next_id++, 0, "alice", r.kind, r.to, r.body};
        for (auto& p : peers) {
          if ((r.kind != e2e_kind::room && p.name != r.to) || gone.contains(p.name)) continue;
          client::e2e_output po;
          p.engine->on_event(ev, {}, po);
          for (auto& m : po.messages) p.got.push_back(m);
          for (auto& m : po.warnings) FAIL_CHECK(p.name << ": " << m);
          for (auto& back : po.send) to_alice.push_back({next_id++, 0, p.name, back.request.kind, "alice", back.request.body});
        }
      }
      while (!to_alice.empty()) {
        (void)layer.on_message(to_alice.front(), out);
        to_alice.pop_front();
      }
    }
    return plain;
  }
};

std::vector<user_info> slice(const std::vector<user_info>& all, std::size_t from, std::size_t to) {
  return {all.begin() + static_cast<std::ptrdiff_t>(from), all.begin() + static_cast<std::ptrdiff_t>(to)};
}

TEST_CASE("e2e_layer: a welcome listing 256 of 300 waits for the users pages; the room text then reaches all 299") {
  big_room room(299);
  e2e_layer layer{room.alice, room.settings()};
  e2e_layer::output out;
  welcome_event w;
  w.name = "alice";
  w.users = slice(room.everyone, 0, 256);
  w.user_count = 300;
  layer.on_welcome(w, test_server_key(), out);
  CHECK(layer.wants_directory());
  CHECK(layer.directory().members() == 300);
  CHECK_FALSE(layer.directory().open());
  CHECK(layer_fixture::shows(out, e2e_shown::notice, "lists 256 of 300 members"));
  CHECK_FALSE(layer_fixture::shows(out, e2e_shown::notice, "room code now"));  // not for a partial room

  // Typed before the directory is complete: it waits, and nothing starts for the first 255 alone.
  out = {};
  CHECK(layer.send_text(say_request{"hello all", {}}, 7, client::room_route::end_to_end, out));
  CHECK(out.send.empty());
  CHECK(out.dropped.empty());

  // The server's answer to `users`: every user again, in pages of 256.
  layer.on_directory_page(users_event{1, slice(room.everyone, 0, 256), true}, out);
  CHECK(out.send.empty());
  CHECK(layer.wants_directory());
  layer.on_directory_page(users_event{1, slice(room.everyone, 256, 300), false}, out);
  CHECK_FALSE(layer.wants_directory());
  CHECK(room.pins.pinned("127.0.0.1:7777", "p298") == room.peers[298].id.public_key());
  CHECK(layer_fixture::shows(out, e2e_shown::notice, "(300 members"));
  CHECK(layer_fixture::shows(out, e2e_shown::notice, "pinned the end-to-end keys of 299 users"));
  std::set<std::string> handshakes;
  for (const auto& s : out.send) {
    const auto& r = std::get<e2e_request>(s.request);
    if (r.kind == e2e_kind::handshake) handshakes.insert(r.to);
  }
  CHECK(handshakes.size() == 299);
  CHECK(handshakes.contains("p298"));  // listed only on the second page

  CHECK(room.relay(layer, out).empty());
  for (const auto& p : room.peers) {
    REQUIRE_MESSAGE(p.got.size() == 1, p.name);
    CHECK(p.got[0].text == "hello all");
    CHECK_FALSE(p.got[0].whisper);
  }
}

TEST_CASE("e2e_layer: in an open room a room text routed in the clear is a plain say, after the texts before it") {
  big_room room(2);  // alice, p000, p001: 3 members, more than a limit of 2
  e2e_layer layer{room.alice, room.settings(2)};
  e2e_layer::output out;
  welcome_event w;
  w.name = "alice";
  w.users = room.everyone;
  w.user_count = 3;
  layer.on_welcome(w, test_server_key(), out);
  CHECK(layer.directory().open());
  bool announced = false;
  for (const auto& e : out.events) {
    const auto* shown = std::get_if<client::e2e_shown_event>(&e);
    if (shown && shown->kind == e2e_shown::room_open) {
      announced = true;
      CHECK(shown->room_members == 3);
      CHECK(shown->text == "lobby has 3 members, more than 2: room texts are NOT end-to-end, the server can read them"
                           " (whispers still are)");
    }
  }
  CHECK(announced);

  out = {};
  // A whisper waits for its handshake; the plain say behind it must not overtake it (the server
  // answers in order, and the conversation matches its lines to the answers by that order).
  CHECK(layer.send_text(whisper_request{"p001", "psst", {}}, 8, client::room_route::end_to_end, out));
  CHECK(layer.send_text(say_request{"in the clear", {}}, 9, client::room_route::in_the_clear, out));
  REQUIRE(out.send.size() == 1);
  CHECK(std::get<e2e_request>(out.send[0].request).kind == e2e_kind::handshake);
  std::vector<std::string> order;
  const auto plain = room.relay(layer, out, &order);
  REQUIRE(plain.size() == 1);
  CHECK(plain[0] == "in the clear");
  const auto whisper_at = std::find(order.begin(), order.end(), "whisper:p001");
  const auto say_at = std::find(order.begin(), order.end(), "say");
  CHECK(whisper_at < say_at);
  REQUIRE(room.peers[1].got.size() == 1);
  CHECK(room.peers[1].got[0].whisper);  // the whisper stayed end to end
  CHECK(room.peers[0].got.empty());     // the say never went end to end

  SUBCASE("coming back under the limit is announced, and end-to-end room texts go again") {
    out = {};
    room.gone.insert("p000");
    (void)layer.on_message(presence_event{false, "p000", "", "quit"}, out);
    CHECK_FALSE(layer.directory().open());
    CHECK(layer_fixture::shows(out, e2e_shown::room_end_to_end,
                               "lobby has 2 members, 2 at most: room texts are end-to-end again"));
    CHECK(layer.send_text(say_request{"sealed again", {}}, 10, client::room_route::end_to_end, out));
    CHECK(room.relay(layer, out).empty());
    REQUIRE(room.peers[1].got.size() == 2);
    CHECK(room.peers[1].got[1].text == "sealed again");
  }
  SUBCASE("--require-e2e refuses a text routed in the clear") {
    auto s = room.settings(2);
    s.require_e2e = true;
    e2e_layer strict{room.alice, s};
    out = {};
    strict.on_welcome(w, test_server_key(), out);
    out = {};
    CHECK(strict.send_text(say_request{"no", {}}, 11, client::room_route::in_the_clear, out));
    CHECK(out.send.empty());
    REQUIRE(out.dropped.size() == 1);
    CHECK(out.dropped[0].tag == 11);
    CHECK(out.dropped[0].reason == "not sent: the room is open (3 members) and --require-e2e is set");
  }
}

TEST_CASE("e2e_layer: a server that does not finish the pages is waited for directory_timeout, then texts go") {
  big_room room(3);
  client::e2e_clock::time_point now{};
  auto s = room.settings();
  s.now = [&now] { return now; };
  e2e_layer layer{room.alice, s};
  e2e_layer::output out;
  welcome_event w;
  w.name = "alice";
  w.users = slice(room.everyone, 0, 2);
  w.user_count = 4;
  layer.on_welcome(w, test_server_key(), out);
  CHECK(layer.send_text(say_request{"eventually", {}}, 3, client::room_route::end_to_end, out));
  out = {};
  now += client::directory_timeout - std::chrono::seconds(1);
  layer.tick(out);
  CHECK(out.send.empty());
  now += std::chrono::seconds(1);
  layer.tick(out);
  CHECK(layer_fixture::shows(out, e2e_shown::warning, "did not finish listing the members"));
  REQUIRE(out.send.size() == 1);  // the one peer it listed
  CHECK(std::get<e2e_request>(out.send[0].request).to == "p000");
}

}  // namespace
}  // namespace natter::test

namespace natter::test {
namespace {

// A real `peers` file in a directory of its own, and a layer that saves to it as the program does.
struct pinning_layer {
  crypto::identity_v2 alice = identity_of(0xa1);
  std::filesystem::path dir = std::filesystem::temp_directory_path() /
                              ("natter-pins-test-" + std::to_string(::getpid()) + "-" + std::to_string(++serial()));
  std::filesystem::path path = dir / "peers";
  client::peer_pins pins;
  int saves = 0;
  std::size_t pinned_at_last_save = 0;
  std::vector<crypto::identity_v2> others;
  client::e2e_clock::time_point now = client::e2e_clock::now();
  std::unique_ptr<e2e_layer> layer;

  explicit pinning_layer(bool accept_changes = false) {
    client::e2e_settings s;
    s.enabled = true;
    s.server = "127.0.0.1:7777";
    s.pins = &pins;
    s.accept_key_changes = accept_changes;
    s.now = [this] { return now; };
    s.save_pins = [this](const client::peer_pins& p) {
      p.save(path);
      ++saves;
      pinned_at_last_save = on_disk();
    };
    layer = std::make_unique<e2e_layer>(alice, s);
    e2e_layer::output out;
    welcome_event w;
    w.name = "alice";
    w.users = {{"alice", "", 0, hex(alice)}};
    w.user_count = 1;
    layer->on_welcome(w, test_server_key(), out);
  }
  ~pinning_layer() {
    layer.reset();
    std::error_code ignored;
    std::filesystem::remove_all(dir, ignored);
  }
  pinning_layer(const pinning_layer&) = delete;
  pinning_layer& operator=(const pinning_layer&) = delete;
  static int& serial() {
    static int n = 0;
    return n;
  }
  static std::string hex(const crypto::identity_v2& id) { return crypto::to_hex(id.public_key().bytes); }
  static std::string name_of(std::size_t i) { return "u" + std::to_string(i); }
  [[nodiscard]] std::size_t on_disk() const {
    const auto loaded = client::peer_pins::load(path);
    std::size_t n = 0;
    for (std::size_t i = 0; i < 300; ++i) n += loaded.pinned("127.0.0.1:7777", name_of(i)) ? 1 : 0;
    return n;
  }
  users_event page_of_new_keys(std::size_t count) {
    users_event page{77, {}, false};
    for (std::size_t i = 0; i < count; ++i) {
      const auto& id = others.emplace_back(crypto::identity_v2::generate());
      page.users.push_back({name_of(others.size() - 1), "", 0, hex(id)});
    }
    return page;
  }
};

TEST_CASE("e2e_layer: a users page of 256 new keys saves the peers file once, with all of them") {
  pinning_layer l;
  e2e_layer::output out;
  (void)l.layer->on_message(l.page_of_new_keys(limits::max_users_per_message), out);
  CHECK(layer_fixture::shows(out, e2e_shown::notice, "pinned u255's end-to-end key on first sight"));
  CHECK(l.saves == 1);  // once for the page, not once per key
  CHECK(l.on_disk() == limits::max_users_per_message);
  l.layer->tick(out);
  CHECK(l.saves == 1);  // nothing new: not saved again
}

TEST_CASE("e2e_layer: pins in quick succession wait for the tick, or for their first use") {
  pinning_layer l;
  e2e_layer::output out;
  (void)l.layer->on_message(l.page_of_new_keys(2), out);
  REQUIRE(l.saves == 1);
  // Within pins_save_interval of that save: a storm, batched.
  (void)l.layer->on_message(presence_event{true, "u2", "", "", pinning_layer::hex(l.others.emplace_back(
                                                                   crypto::identity_v2::generate()))},
                            out);
  (void)l.layer->on_message(l.page_of_new_keys(5), out);
  CHECK(l.saves == 1);
  SUBCASE("the tick saves them") {
    l.layer->tick(out);
    CHECK(l.saves == 2);
    CHECK(l.on_disk() == 8);
  }
  SUBCASE("a text that needs them saves them first") {
    out = {};
    CHECK(l.layer->send_text(say_request{"hello", {}}, 3, client::room_route::end_to_end, out));
    REQUIRE_FALSE(out.send.empty());  // the handshakes with the new keys
    CHECK(l.saves == 2);              // saved before the call returned, so before the session sends
    CHECK(l.pinned_at_last_save == 8);
  }
  SUBCASE("closing saves them") {
    l.layer.reset();
    CHECK(l.saves == 2);
    CHECK(l.on_disk() == 8);
  }
  SUBCASE("a pin after pins_save_interval is saved at once") {
    l.now += client::pins_save_interval;
    (void)l.layer->on_message(l.page_of_new_keys(1), out);
    CHECK(l.saves == 2);
    CHECK(l.on_disk() == 9);
  }
}

TEST_CASE("e2e_layer: a key change accepted by --accept-peer-key-changes is saved too") {
  pinning_layer l(true);
  e2e_layer::output out;
  (void)l.layer->on_message(l.page_of_new_keys(2), out);
  REQUIRE(l.saves == 1);
  const auto replacement = crypto::identity_v2::generate();
  out = {};
  (void)l.layer->on_message(presence_event{true, "u1", "", "", pinning_layer::hex(replacement)}, out);
  CHECK(layer_fixture::shows(out, e2e_shown::warning, "u1's end-to-end key CHANGED"));
  l.layer->tick(out);
  CHECK(l.saves == 2);
  CHECK(client::peer_pins::load(l.path).pinned("127.0.0.1:7777", "u1") == replacement.public_key());
}

}  // namespace
}  // namespace natter::test
