// e2e_layer: the directory through the peer pins, texts through the engine, what is shown.
#include <doctest/doctest.h>

#include "e2e_test_net.hpp"
#include "natter/client/e2e_layer.hpp"

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
  CHECK(saves == 1);
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

}  // namespace
}  // namespace natter::test
