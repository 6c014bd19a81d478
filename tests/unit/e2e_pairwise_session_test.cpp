// Pairwise end-to-end sessions (e2e_pairwise_session): the KK setup relayed as opaque bytes,
// simultaneous initiation, bindings in the prologue, and the per-direction chains.
#include <doctest/doctest.h>

#include "e2e_test_support.hpp"
#include "natter/crypto/e2e_pairwise_session.hpp"

using natter::test::e2e_pair;
using natter::test::t0;
using natter::test::to_bytes;
namespace e2e = natter::crypto::e2e;
using setup_status = e2e::pairwise_setup::setup_status;

TEST_CASE("e2e pairwise: an honest KK setup gives one session, both directions open") {
  const e2e_pair pair;
  auto [alice, bob] = pair.sessions();
  CHECK(alice.id() == bob.id());

  const auto hello = alice.seal(to_bytes("hello bob"));
  REQUIRE(hello.has_value());
  // A body is for the other direction only: alice cannot open her own.
  CHECK(alice.open(*hello, t0).status == e2e::receive_status::auth_failed);
  CHECK(hello->size() == e2e::pairwise_header_size + e2e::aead_nonce_size + 64 + 16);
  auto opened = bob.open(*hello, t0);
  CHECK(opened.status == e2e::receive_status::ok);
  CHECK(opened.plaintext == to_bytes("hello bob"));
  CHECK(opened.n == 0);

  const auto back = bob.seal(to_bytes("hi alice"));
  REQUIRE(back.has_value());
  CHECK(alice.open(*back, t0).plaintext == to_bytes("hi alice"));
}

TEST_CASE("e2e pairwise: replays and duplicates refused, reordering tolerated, drops reported") {
  const e2e_pair pair;
  auto [alice, bob] = pair.sessions();
  std::vector<std::vector<std::uint8_t>> bodies;
  for (int i = 0; i < 4; ++i) bodies.push_back(*alice.seal(to_bytes("m" + std::to_string(i))));

  CHECK(bob.open(bodies[0], t0).status == e2e::receive_status::ok);
  CHECK(bob.open(bodies[0], t0).status == e2e::receive_status::duplicate);
  CHECK(bob.open(bodies[3], t0).plaintext == to_bytes("m3"));
  CHECK(bob.outstanding() == std::vector<std::uint32_t>{1, 2});  // "2 messages missing"
  CHECK(bob.open(bodies[2], t0).plaintext == to_bytes("m2"));
  CHECK(bob.open(bodies[2], t0).status == e2e::receive_status::duplicate);
  using namespace std::chrono_literals;
  bob.expire(t0 + 5min, 2min);
  CHECK(bob.take_lost() == std::vector<std::uint32_t>{1});  // "1 message did not arrive"
  CHECK(bob.open(bodies[1], t0 + 6min).status == e2e::receive_status::duplicate);
}

TEST_CASE("e2e pairwise: a body tampered with, or from another session, is refused and burns nothing") {
  const e2e_pair pair;
  auto [alice, bob] = pair.sessions();
  auto [alice2, bob2] = pair.sessions();
  CHECK(alice.id() != alice2.id());  // fresh ephemerals, a fresh session
  const auto body = *alice.seal(to_bytes("secret"));
  for (std::size_t at : {std::size_t{0}, std::size_t{5}, std::size_t{12}, std::size_t{20}, body.size() - 1}) {
    CAPTURE(at);
    auto bad = body;
    bad[at] ^= 0x01;
    CHECK(bob.open(bad, t0).status != e2e::receive_status::ok);
  }
  CHECK(bob2.open(body, t0).status == e2e::receive_status::wrong_session);
  CHECK(bob.open(body, t0).plaintext == to_bytes("secret"));
}

TEST_CASE("e2e pairwise: the prologue binds the server key and both names") {
  const e2e_pair pair;
  auto alice = pair.alice_setup();
  const auto init = *alice.start();

  SUBCASE("another server") {
    auto bob = e2e::pairwise_setup::create(pair.bob, "bob", natter::test::party_of(pair.alice, "alice"),
                                           natter::test::pair_filled(0x77).public_key_bytes);
    CHECK(bob->receive(init).status == setup_status::bad_message);
  }
  SUBCASE("another name for the peer") {
    auto bob = pair.setup_of(pair.bob, "bob", pair.alice, "mallory");
    CHECK(bob.receive(init).status == setup_status::bad_message);
  }
  SUBCASE("another name for oneself") {
    auto bob = pair.setup_of(pair.bob, "robert", pair.alice, "alice");
    CHECK(bob.receive(init).status == setup_status::bad_message);
  }
  SUBCASE("the same bindings: accepted") {
    auto bob = pair.bob_setup();
    CHECK(bob.receive(init).status == setup_status::reply);
  }
  CHECK(e2e::pairwise_prologue(natter::test::server_key, natter::test::party_of(pair.alice, "alice"),
                               natter::test::party_of(pair.bob, "bob")) ==
        e2e::pairwise_prologue(natter::test::server_key, natter::test::party_of(pair.bob, "bob"),
                               natter::test::party_of(pair.alice, "alice")));
}

TEST_CASE("e2e pairwise: an init from someone else fails alone; our own pending init stands") {
  const e2e_pair pair;
  const auto mallory = natter::test::identity_filled(0x66);
  auto alice = pair.alice_setup();
  // alice would give way to a real init from bob (his key is the lower), so a forged one reaches
  // the responder path: it must fail there without touching her own pending init.
  REQUIRE_FALSE(alice.wins_simultaneous());
  const auto alice_init = alice.start();
  REQUIRE(alice_init.has_value());
  CHECK_FALSE(alice.start().has_value());
  // mallory, holding her own key, claims to be bob in the same bindings.
  auto fake = pair.setup_of(mallory, "bob", pair.alice, "alice");
  CHECK(alice.receive(*fake.start()).status == setup_status::bad_message);
  CHECK(alice.receive(natter::test::to_bytes("junk")).status == setup_status::bad_message);
  auto bob = pair.bob_setup();
  auto reply = bob.receive(*alice_init);
  REQUIRE(reply.status == setup_status::reply);
  CHECK(alice.receive(*reply.reply).status == setup_status::established);
  CHECK(alice.receive(*reply.reply).status == setup_status::out_of_turn);
  CHECK(alice.take_session().has_value());
  CHECK_FALSE(alice.take_session().has_value());
  CHECK_FALSE(e2e::pairwise_setup::create(pair.bob, "bob", natter::test::party_of(pair.bob, "alice"),
                                          natter::test::server_key));
}

TEST_CASE("e2e pairwise: simultaneous initiation resolves to the lower key's session, on both sides") {
  const e2e_pair pair;
  auto alice = pair.alice_setup();
  auto bob = pair.bob_setup();
  const auto alice_init = *alice.start();
  const auto bob_init = *bob.start();
  REQUIRE(alice.wins_simultaneous() != bob.wins_simultaneous());
  auto& winner = alice.wins_simultaneous() ? alice : bob;
  auto& loser = alice.wins_simultaneous() ? bob : alice;
  const auto& winner_init = alice.wins_simultaneous() ? alice_init : bob_init;
  const auto& loser_init = alice.wins_simultaneous() ? bob_init : alice_init;
  CHECK((pair.alice.public_key() < pair.bob.public_key()) == alice.wins_simultaneous());

  // Either delivery order: the winner ignores the loser's init, the loser answers the winner's.
  CHECK(winner.receive(loser_init).status == setup_status::ignored);
  const auto reply = loser.receive(winner_init);
  REQUIRE(reply.status == setup_status::reply);
  CHECK(winner.receive(*reply.reply).status == setup_status::established);
  auto w = winner.take_session();
  auto l = loser.take_session();
  REQUIRE(w.has_value());
  REQUIRE(l.has_value());
  CHECK(w->id() == l->id());
  CHECK(l->open(*w->seal(to_bytes("one session")), t0).plaintext == to_bytes("one session"));
  CHECK(w->open(*l->seal(to_bytes("both ways")), t0).plaintext == to_bytes("both ways"));
}

TEST_CASE("e2e pairwise: a response that does not authenticate kills that setup") {
  const e2e_pair pair;
  auto alice = pair.alice_setup();
  auto bob = pair.bob_setup();
  auto reply = bob.receive(*alice.start());
  REQUIRE(reply.status == setup_status::reply);
  auto bad = *reply.reply;
  bad.back() ^= 1;
  CHECK(alice.receive(bad).status == setup_status::failed);
  CHECK(alice.receive(*reply.reply).status == setup_status::out_of_turn);
  CHECK_FALSE(alice.take_session().has_value());
}

TEST_CASE("e2e pairwise: should_rekey after rekey_after_messages sent") {
  const e2e_pair pair;
  auto [alice, bob] = pair.sessions();
  for (std::uint32_t i = 0; i + 1 < e2e::rekey_after_messages; ++i) REQUIRE(alice.seal({}).has_value());
  CHECK_FALSE(alice.should_rekey());
  REQUIRE(alice.seal({}).has_value());
  CHECK(alice.should_rekey());
  CHECK_FALSE(bob.should_rekey());
}

TEST_CASE("e2e pairwise: should_rekey at a chosen count counts what we sent; received_up_to what we passed") {
  const e2e_pair pair;
  auto [alice, bob] = pair.sessions();
  for (int i = 0; i < 19; ++i) REQUIRE(bob.open(*alice.seal({}), t0).status == e2e::receive_status::ok);
  CHECK_FALSE(alice.should_rekey(20));
  CHECK(bob.received_up_to() == 19);
  // A body skipped over counts as passed: the receive chain has moved beyond it.
  const auto skipped = alice.seal({});
  REQUIRE(skipped.has_value());
  REQUIRE(bob.open(*alice.seal({}), t0).status == e2e::receive_status::ok);
  CHECK(alice.should_rekey(20));
  CHECK_FALSE(alice.should_rekey());  // the default count is 10 000
  CHECK(bob.received_up_to() == 21);
  CHECK_FALSE(bob.should_rekey(20));  // bob sent nothing
}

TEST_CASE("e2e pairwise: a replayed init gives the responder only an unconfirmed session") {
  const e2e_pair pair;
  auto alice = pair.alice_setup();
  const auto init = *alice.start();
  auto bob = pair.bob_setup();
  auto reply = bob.receive(init);
  REQUIRE(reply.status == setup_status::reply);
  REQUIRE(alice.receive(*reply.reply).status == setup_status::established);
  auto a = alice.take_session();
  auto b = bob.take_session();
  CHECK(a->confirmed());
  CHECK_FALSE(b->confirmed());

  // The relay replays alice's old init to a fresh setup of bob's: it authenticates (KK message 1
  // is replayable), but no one can use the session it makes.
  auto bob_again = pair.bob_setup();
  REQUIRE(bob_again.receive(init).status == setup_status::reply);
  auto replayed = bob_again.take_session();
  CHECK_FALSE(replayed->confirmed());
  CHECK(replayed->id() != b->id());

  const auto body = *a->seal(to_bytes("first"));
  CHECK(replayed->open(body, t0).status == e2e::receive_status::wrong_session);
  CHECK_FALSE(replayed->confirmed());
  CHECK(b->open(body, t0).status == e2e::receive_status::ok);
  CHECK(b->confirmed());
}
