// Routing through a real server: broadcasts reach everyone else, whispers exactly one user,
// names are unique and pinned to keys.
#include <doctest/doctest.h>

#include "natter/crypto/fingerprint_v2.hpp"
#include "server_process.hpp"
#include "test_peer.hpp"

using namespace natter;
using namespace natter::test;

namespace {
std::optional<chat_event> next_chat(test_peer& peer, std::chrono::milliseconds timeout = 3s) {
  return peer.wait_for_type<chat_event>(timeout);
}
}  // namespace

TEST_CASE("a broadcast reaches every other user, and the sender gets an ack") {
  server_process server;
  test_peer alice(server.port()), bob(server.port()), carol(server.port());
  REQUIRE(alice.join("alice"));
  REQUIRE(bob.join("bob"));
  REQUIRE(carol.join("carol"));

  alice.send(say_request{"hello, everyone", 7});
  const auto ack = alice.wait_for_type<ack_event>();
  REQUIRE(ack);
  CHECK(ack->ref == 7);

  for (test_peer* receiver : {&bob, &carol}) {
    const auto got = next_chat(*receiver);
    REQUIRE(got);
    CHECK(got->text == "hello, everyone");
    CHECK(got->from == "alice");
    CHECK_FALSE(got->whisper);
    CHECK(got->id == ack->id);
  }
  // The sender is not echoed its own broadcast.
  CHECK_FALSE(next_chat(alice, 300ms));
}

TEST_CASE("a whisper reaches only its target") {
  server_process server;
  test_peer alice(server.port()), bob(server.port()), carol(server.port());
  REQUIRE(alice.join("alice"));
  REQUIRE(bob.join("bob"));
  REQUIRE(carol.join("carol"));

  alice.send(whisper_request{"BOB", "just between us", 1});  // names are case-insensitive
  REQUIRE(alice.wait_for_type<ack_event>());
  const auto got = next_chat(bob);
  REQUIRE(got);
  CHECK(got->whisper);
  CHECK(got->text == "just between us");
  CHECK(got->from == "alice");
  CHECK(got->to == "bob");
  CHECK_FALSE(next_chat(carol, 400ms));
  CHECK_FALSE(next_chat(alice, 100ms));
}

TEST_CASE("whispers to unknown or offline users are refused with a clear error") {
  server_process server;
  test_peer alice(server.port());
  REQUIRE(alice.join("alice"));
  {
    test_peer dave(server.port());
    REQUIRE(dave.join("dave"));
  }  // dave registered, now offline
  alice.wait_for([](const server_message& m) {
    const auto* p = std::get_if<presence_event>(&m);
    return p && !p->joined && p->name == "dave";
  });
  alice.send(whisper_request{"nobody", "hello?", 2});
  auto error = alice.wait_for_type<error_event>();
  REQUIRE(error);
  CHECK(error->code == "unknown_user");
  CHECK(error->ref == 2);
  CHECK(error->message.find("no user") != std::string::npos);

  alice.send(whisper_request{"dave", "hello?", 3});
  error = alice.wait_for_type<error_event>();
  REQUIRE(error);
  CHECK(error->code == "unknown_user");
  CHECK(error->message.find("not online") != std::string::npos);
}

TEST_CASE("a name already online is refused, case-insensitively") {
  server_process server;
  const auto key = crypto::identity_v2::generate();
  test_peer first(server.port(), copy_identity(key));
  REQUIRE(first.join("Alice"));
  test_peer second(server.port());
  CHECK_FALSE(second.join("alice"));
  // Another key asking for an online name: the online check comes first.
  CHECK(second.error().find("name_in_use") == 0);
  // The refused connection stays usable and can take a free name.
  CHECK(second.join("alice2"));
}

TEST_CASE("a name is pinned to the first key that used it, across server restarts") {
  temp_dir state;
  {
    server_process server({}, state.path() / "s");
    test_peer owner(server.port());
    REQUIRE(owner.join("mallory_target"));
  }
  server_process server({}, state.path() / "s");
  test_peer thief(server.port());
  CHECK_FALSE(thief.join("Mallory_Target"));
  CHECK(thief.error().rfind("name_taken", 0) == 0);
}

TEST_CASE("the owner of a pinned name gets it back, with its original spelling") {
  server_process server;
  auto owner_key = crypto::identity_v2::generate();
  {
    test_peer owner(server.port(), copy_identity(owner_key));
    REQUIRE(owner.join("Zoe"));
  }
  test_peer again(server.port(), std::move(owner_key));
  REQUIRE(again.handshake());
  again.send(join_request{"zoe", 1});
  // The old session's leave may race with the new join; retry briefly on name_in_use.
  auto welcome = again.wait_for_type<welcome_event>(2s);
  if (!welcome) {
    again.send(join_request{"zoe", 2});
    welcome = again.wait_for_type<welcome_event>();
  }
  REQUIRE(welcome);
  CHECK(welcome->name == "Zoe");
}

TEST_CASE("presence, users and whois tell who is here and their key fingerprint") {
  server_process server;
  test_peer alice(server.port()), bob(server.port());
  REQUIRE(alice.join("alice"));
  REQUIRE(bob.join("bob"));
  const auto joined = alice.wait_for_type<presence_event>();
  REQUIRE(joined);
  CHECK(joined->joined);
  CHECK(joined->name == "bob");
  CHECK(joined->fingerprint.size() == 51);  // "2:" + 10 groups of 4 hex digits
  CHECK(joined->fingerprint == crypto::fingerprint_v2(bob.identity_key()));
  CHECK(joined->key == crypto::to_hex(bob.identity_key()));

  alice.send(users_request{5});
  const auto users = alice.wait_for_type<users_event>();
  REQUIRE(users);
  REQUIRE(users->users.size() == 2);
  CHECK(users->users[0].name == "alice");
  CHECK(users->users[1].name == "bob");
  CHECK(users->users[1].fingerprint == joined->fingerprint);

  alice.send(whois_request{"BOB", 6});
  const auto whois = alice.wait_for_type<whois_event>();
  REQUIRE(whois);
  CHECK(whois->online);
  CHECK(whois->fingerprint == joined->fingerprint);
  CHECK(whois->key == joined->key);

  bob.send(quit_request{"bye"});
  const auto left = alice.wait_for_type<presence_event>();
  REQUIRE(left);
  CHECK_FALSE(left->joined);
  CHECK(left->reason == "quit");
}

TEST_CASE("a connection that ends without quit is reported as dropped") {
  server_process server;
  test_peer alice(server.port());
  REQUIRE(alice.join("alice"));
  {
    test_peer bob(server.port());
    REQUIRE(bob.join("bob"));
    REQUIRE(alice.wait_for_type<presence_event>());
  }
  const auto left = alice.wait_for_type<presence_event>();
  REQUIRE(left);
  CHECK(left->name == "bob");
  CHECK(left->reason == "dropped");
}

TEST_CASE("requests before join are refused, and a second join too") {
  server_process server;
  test_peer peer(server.port());
  REQUIRE(peer.handshake());
  peer.send(say_request{"too early", 1});
  auto error = peer.wait_for_type<error_event>();
  REQUIRE(error);
  CHECK(error->code == "not_joined");
  REQUIRE(peer.join("eve"));
  peer.send(join_request{"eve2", 3});
  error = peer.wait_for_type<error_event>();
  REQUIRE(error);
  CHECK(error->code == "already_joined");
}
