// The handshake state machine (docs/PROTOCOL.md §2-3), driven entirely in memory.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <string>
#include <vector>

#include "natter/crypto/handshake.hpp"
#include "natter/crypto/keys.hpp"
#include "natter/frame.hpp"
#include "test_support.hpp"
#include "../key_recorder.hpp"

using natter::crypto::handshake;
using natter::crypto::key_pair;
using natter::crypto::public_key;
using natter::crypto::role;
using state = natter::crypto::handshake::state;
using body = std::vector<std::uint8_t>;

namespace {

// The two order-8 points of Curve25519 (X25519 small-order blocklists; the second is
// libsodium's test/default/box.c small_order_p).
constexpr public_key order_8_point{
    0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef, 0x5b,
    0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57};
constexpr public_key small_order_p{
    0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
    0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00};

// Client and server with their identities; frames are passed by hand between them.
struct peers {
  key_pair client_id = key_pair::generate();
  key_pair server_id = key_pair::generate();
  natter::testing::key_recorder client_key, server_key;  // what each side derived
  handshake client{role::client, client_id, nullptr, &client_key};
  handshake server{role::server, server_id, nullptr, &server_key};
};

// Frames the client sends after accepting the server's hello: {hello, key exchange}.
std::vector<body> client_opening(peers& p) {
  const auto server_hello = p.server.start();
  REQUIRE(server_hello.size() == 1);
  REQUIRE(p.client.start().empty());
  REQUIRE(p.client.on_frame(server_hello[0]).empty());
  REQUIRE(p.client.current() == state::awaiting_verdict);
  auto out = p.client.accept_peer_key();
  REQUIRE(out.size() == 2);
  return out;
}

// Runs a whole handshake; both sides end established.
void complete(peers& p) {
  const auto opening = client_opening(p);
  const auto server_kx = p.server.on_frame(opening[0]);
  REQUIRE(server_kx.size() == 1);
  REQUIRE(p.server.on_frame(opening[1]).empty());
  REQUIRE(p.client.on_frame(server_kx[0]).empty());
  REQUIRE(p.server.current() == state::established);
  REQUIRE(p.client.current() == state::established);
}


// A hello built byte by byte from the protocol text, so the tests do not trust encode_hello.
body raw_hello(std::uint8_t version, std::uint8_t sender_role, const public_key& key,
               std::uint8_t reserved = 0) {
  // Sized once and filled in place: GCC 12 warns (-Warray-bounds, a known false positive in
  // libstdc++'s vector::insert) when an 8-byte vector grows by insert.
  body b(8 + key.size());
  const std::uint8_t head[8] = {'N', 'A', 'T', 'R', version, sender_role, reserved, reserved};
  std::copy(std::begin(head), std::end(head), b.begin());
  std::copy(key.begin(), key.end(), b.begin() + 8);
  return b;
}

}  // namespace

TEST_CASE("encode_hello matches the protocol layout") {
  const auto id = key_pair::generate();
  CHECK(natter::crypto::encode_hello(role::server, id.public_key_bytes) == raw_hello(1, 2, id.public_key_bytes));
  CHECK(natter::crypto::encode_hello(role::client, id.public_key_bytes) == raw_hello(1, 1, id.public_key_bytes));
  CHECK(natter::crypto::hello_size == 40);
  CHECK(natter::crypto::key_exchange_size == 72);
}

TEST_CASE("a full in-memory handshake establishes one shared session") {
  peers p;
  const auto server_hello = p.server.start();
  REQUIRE(server_hello.size() == 1);
  CHECK(server_hello[0] == raw_hello(1, 2, p.server_id.public_key_bytes));
  CHECK(p.server.current() == state::awaiting_hello);

  CHECK(p.client.start().empty());  // the client speaks only after checking the server key
  CHECK(p.client.on_frame(server_hello[0]).empty());
  CHECK(p.client.current() == state::awaiting_verdict);
  CHECK(p.client.peer_key() == p.server_id.public_key_bytes);

  const auto opening = p.client.accept_peer_key();
  REQUIRE(opening.size() == 2);
  CHECK(opening[0] == raw_hello(1, 1, p.client_id.public_key_bytes));
  CHECK(opening[1].size() == 72);
  CHECK(p.client.current() == state::awaiting_key_exchange);

  const auto server_kx = p.server.on_frame(opening[0]);
  REQUIRE(server_kx.size() == 1);
  CHECK(server_kx[0].size() == 72);
  CHECK(p.server.current() == state::awaiting_key_exchange);
  CHECK(p.server.peer_key() == p.client_id.public_key_bytes);

  CHECK(p.server.on_frame(opening[1]).empty());
  CHECK(p.server.current() == state::established);
  CHECK(p.client.on_frame(server_kx[0]).empty());
  CHECK(p.client.current() == state::established);
  CHECK(p.client.error().empty());
  CHECK(p.server.error().empty());

  // The connection id is the nonce of the client's key exchange frame, known to both.
  CHECK(p.client.connection_id() == p.server.connection_id());
  CHECK(std::equal(p.client.connection_id().begin(), p.client.connection_id().end(), opening[1].begin()));

  auto client_cipher = p.client.take_cipher();
  auto server_cipher = p.server.take_cipher();
  REQUIRE(p.server_key.key.has_value());
  CHECK(p.client_key.same_key_as(p.server_key.key->data()));
  CHECK(client_cipher.outgoing() == natter::crypto::direction::client_to_server);
  CHECK(server_cipher.outgoing() == natter::crypto::direction::server_to_client);

  std::vector<std::uint8_t> wire;
  natter::append_sealed_frame(client_cipher, R"({"type":"join","name":"alice","ref":1})", wire);
  auto opened = server_cipher.open(std::span(wire).subspan(4));
  CHECK(opened.status == natter::crypto::open_status::ok);
  CHECK(opened.plaintext == R"({"type":"join","name":"alice","ref":1})");
  wire.clear();
  natter::append_sealed_frame(server_cipher, R"({"type":"pong"})", wire);
  opened = client_cipher.open(std::span(wire).subspan(4));
  CHECK(opened.status == natter::crypto::open_status::ok);
  CHECK(opened.plaintext == R"({"type":"pong"})");
}

TEST_CASE("the session key comes from the ephemeral keys only") {
  peers p;
  complete(p);
  const auto long_term = natter::crypto::shared_key::derive(p.server_id.public_key_bytes, p.client_id.secret);
  REQUIRE(long_term.has_value());
  REQUIRE(p.client_key.key.has_value());
  CHECK_FALSE(p.client_key.same_key_as(long_term->data()));
}

TEST_CASE("two handshakes between the same identities give different keys and connection ids") {
  const auto client_id = key_pair::generate();
  const auto server_id = key_pair::generate();
  const auto run = [&](natter::crypto::nonce& id, natter::testing::key_recorder& key) {
    handshake client(role::client, client_id, nullptr, &key);
    handshake server(role::server, server_id);
    REQUIRE(client.on_frame(server.start().at(0)).empty());
    const auto opening = client.accept_peer_key();
    const auto server_kx = server.on_frame(opening.at(0));
    REQUIRE(server.on_frame(opening.at(1)).empty());
    REQUIRE(client.on_frame(server_kx.at(0)).empty());
    REQUIRE(client.current() == state::established);
    id = client.connection_id();
    return client.take_cipher();
  };
  natter::crypto::nonce id1{}, id2{};
  natter::testing::key_recorder first, second;
  (void)run(id1, first);
  (void)run(id2, second);
  CHECK(id1 != id2);
  REQUIRE(second.key.has_value());
  CHECK_FALSE(first.same_key_as(second.key->data()));
}

TEST_CASE("a wrong protocol version is refused with a refusal the client can show") {
  peers p;
  const auto opening = client_opening(p);
  const auto out = p.server.on_frame(raw_hello(2, 1, p.client_id.public_key_bytes));
  CHECK(p.server.current() == state::failed);
  CHECK(p.server.error().find("version") != std::string::npos);
  REQUIRE(out.size() == 1);

  // The refusal layout: "NATE", the highest version the server speaks, the reason.
  const auto& refusal = out[0];
  REQUIRE(refusal.size() > 5);
  CHECK(std::string(refusal.begin(), refusal.begin() + 4) == "NATE");
  CHECK(refusal[4] == 1);
  const auto reason = natter::crypto::decode_refusal(refusal);
  REQUIRE(reason.has_value());
  CHECK(reason->find("version") != std::string::npos);
  CHECK(*reason == std::string(refusal.begin() + 5, refusal.end()));

  // The client, waiting for the server's key exchange, gets the refusal instead.
  CHECK(p.client.on_frame(refusal).empty());
  CHECK(p.client.current() == state::failed);
  CHECK(p.client.refused_by_peer());
  CHECK(p.client.error().find(*reason) != std::string::npos);
  CHECK_THROWS_AS((void)p.client.take_cipher(), std::logic_error);
  (void)opening;
}

TEST_CASE("a failed handshake stays failed and silent") {
  peers p;
  REQUIRE(p.server.on_frame(raw_hello(9, 1, p.client_id.public_key_bytes)).size() == 1);
  REQUIRE(p.server.current() == state::failed);
  // A proper hello afterwards changes nothing.
  CHECK(p.server.on_frame(raw_hello(1, 1, p.client_id.public_key_bytes)).empty());
  CHECK(p.server.current() == state::failed);
}

TEST_CASE("a hello with the wrong role is refused") {
  SUBCASE("server receives a server hello") {
    peers p;
    const auto out = p.server.on_frame(raw_hello(1, 2, p.client_id.public_key_bytes));
    CHECK(p.server.current() == state::failed);
    REQUIRE(out.size() == 1);
    CHECK(natter::crypto::decode_refusal(out[0]).has_value());
  }
  SUBCASE("server receives an unknown role") {
    peers p;
    (void)p.server.on_frame(raw_hello(1, 7, p.client_id.public_key_bytes));
    CHECK(p.server.current() == state::failed);
  }
  SUBCASE("client receives a client hello, and says nothing") {
    peers p;
    CHECK(p.client.on_frame(raw_hello(1, 1, p.server_id.public_key_bytes)).empty());
    CHECK(p.client.current() == state::failed);
    CHECK_FALSE(p.client.refused_by_peer());
  }
}

TEST_CASE("a hello of the wrong size is refused") {
  for (const std::size_t size : {std::size_t{8}, std::size_t{39}, std::size_t{41}, std::size_t{72}}) {
    CAPTURE(size);
    peers p;
    body hello = raw_hello(1, 1, p.client_id.public_key_bytes);
    hello.resize(size, 0x42);
    const auto out = p.server.on_frame(hello);
    CHECK(p.server.current() == state::failed);
    CHECK(out.size() == 1);
  }
}

TEST_CASE("reserved hello bytes are ignored on receipt") {
  peers p;
  (void)p.server.start();
  const auto out = p.server.on_frame(raw_hello(1, 1, p.client_id.public_key_bytes, 0xff));
  CHECK(p.server.current() == state::awaiting_key_exchange);
  CHECK(out.size() == 1);
}

TEST_CASE("a peer that does not speak natter is refused") {
  const std::string http = "GET / HTTP/1.1\r\nHost: example\r\n\r\n";
  SUBCASE("at the server") {
    peers p;
    const auto out = p.server.on_frame(natter::test::to_bytes(http));
    CHECK(p.server.current() == state::failed);
    REQUIRE(out.size() == 1);
    CHECK(natter::crypto::decode_refusal(out[0]).has_value());
  }
  SUBCASE("at the client, which stays silent") {
    peers p;
    CHECK(p.client.on_frame(natter::test::to_bytes(http)).empty());
    CHECK(p.client.current() == state::failed);
  }
  SUBCASE("one byte") {
    peers p;
    (void)p.server.on_frame(body{0x4e});
    CHECK(p.server.current() == state::failed);
  }
}

TEST_CASE("zero and low-order public keys are refused") {
  for (const auto& bad_key : {public_key{}, order_8_point, small_order_p}) {
    CAPTURE(natter::test::hex_of(bad_key));
    peers p;
    const auto out = p.server.on_frame(raw_hello(1, 1, bad_key));
    CHECK(p.server.current() == state::failed);
    CHECK(out.size() == 1);

    peers q;
    CHECK(q.client.on_frame(raw_hello(1, 2, bad_key)).empty());
    CHECK(q.client.current() == state::failed);  // never reaches awaiting_verdict
  }
}

TEST_CASE("a tampered key exchange fails the handshake") {
  SUBCASE("client key exchange, at the server") {
    peers p;
    auto opening = client_opening(p);
    REQUIRE(p.server.on_frame(opening[0]).size() == 1);
    opening[1][40] ^= 0x01;  // inside the box
    const auto out = p.server.on_frame(opening[1]);
    CHECK(p.server.current() == state::failed);
    CHECK(p.server.error().find("authentication") != std::string::npos);
    // The server's key exchange is already sent: a plaintext refusal cannot follow it (§2).
    CHECK(out.empty());
  }
  SUBCASE("client key exchange nonce, at the server") {
    peers p;
    auto opening = client_opening(p);
    REQUIRE(p.server.on_frame(opening[0]).size() == 1);
    opening[1][0] ^= 0x80;
    (void)p.server.on_frame(opening[1]);
    CHECK(p.server.current() == state::failed);
  }
  SUBCASE("server key exchange, at the client") {
    peers p;
    const auto opening = client_opening(p);
    auto server_kx = p.server.on_frame(opening[0]);
    REQUIRE(server_kx.size() == 1);
    server_kx[0][71] ^= 0x01;
    CHECK(p.client.on_frame(server_kx[0]).empty());
    CHECK(p.client.current() == state::failed);
    CHECK_FALSE(p.client.refused_by_peer());
  }
  SUBCASE("key exchange of the wrong size") {
    peers p;
    auto opening = client_opening(p);
    REQUIRE(p.server.on_frame(opening[0]).size() == 1);
    opening[1].pop_back();
    (void)p.server.on_frame(opening[1]);
    CHECK(p.server.current() == state::failed);
  }
}

TEST_CASE("a key exchange sealed by another identity fails") {
  // Mallory knows the server's public key and sends a key exchange under her own key while
  // claiming the client's identity in the hello.
  peers p;
  const auto mallory = key_pair::generate();
  handshake impostor(role::client, mallory);
  REQUIRE(impostor.on_frame(p.server.start().at(0)).empty());
  const auto mallory_opening = impostor.accept_peer_key();
  REQUIRE(p.server.on_frame(raw_hello(1, 1, p.client_id.public_key_bytes)).size() == 1);
  (void)p.server.on_frame(mallory_opening.at(1));
  CHECK(p.server.current() == state::failed);
}

TEST_CASE("out-of-order calls are refused") {
  peers p;
  CHECK_THROWS_AS((void)p.server.accept_peer_key(), std::logic_error);
  CHECK_THROWS_AS((void)p.client.accept_peer_key(), std::logic_error);  // no hello yet
  CHECK_THROWS_AS((void)p.server.take_cipher(), std::logic_error);

  // A frame while the client is still deciding about the server key ends the handshake.
  peers q;
  REQUIRE(q.client.on_frame(q.server.start().at(0)).empty());
  (void)q.client.on_frame(body(72, 0));
  CHECK(q.client.current() == state::failed);

  // After establishment, the handshake takes no more frames.
  peers r;
  complete(r);
  (void)r.server.on_frame(body(72, 0));
  CHECK(r.server.current() == state::failed);
}

TEST_CASE("refusal frames: encoding, decoding and the length cap") {
  const auto refusal = natter::crypto::encode_refusal("server full");
  CHECK(refusal == body{'N', 'A', 'T', 'E', 1, 's', 'e', 'r', 'v', 'e', 'r', ' ', 'f', 'u', 'l', 'l'});
  CHECK(natter::crypto::decode_refusal(refusal) == "server full");

  const std::string long_reason(600, 'r');
  const auto capped = natter::crypto::encode_refusal(long_reason);
  CHECK(capped.size() == 5 + 512);
  CHECK(natter::crypto::decode_refusal(capped)->size() == 512);

  CHECK_FALSE(natter::crypto::decode_refusal(body{'N', 'A', 'T', 'E'}).has_value());
  CHECK_FALSE(natter::crypto::decode_refusal(body{}).has_value());
  CHECK_FALSE(natter::crypto::decode_refusal(raw_hello(1, 2, public_key{})).has_value());
  CHECK(natter::crypto::decode_refusal(body{'N', 'A', 'T', 'E', 1}) == "");
}
