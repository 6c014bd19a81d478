// The natter v2 handshake (docs/PROTOCOL.md §2) driven in memory: the honest run, its outputs,
// the payload and hello codecs, refusals in both directions, meeting v1 peers, and misuse.
// The attacks are in handshake_v2_attack_test.cpp.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "handshake_v2_test_support.hpp"
#include "natter/crypto/handshake_v2.hpp"
#include "natter/crypto/hello.hpp"

namespace crypto = natter::crypto;
using natter::test::body;
using natter::test::honest_v2_run;
using natter::test::pump;
using natter::test::raw;
using natter::test::to_bytes;
using natter::test::v2_key_recorder;
using natter::test::v2_state;
using natter::test::v2_world;
using crypto::handshake_v2;

TEST_CASE("handshake v2: an honest run agrees on keys, hash and connection id, and tells each observer once") {
  const v2_world world;
  v2_key_recorder client_log, server_log;
  auto client = world.client(0x33, &client_log);
  auto server = world.server(0x44, &server_log);
  const auto t = honest_v2_run(client, server);

  // Frame sizes: hello 40; header 8 + e 32 + tag 16; e 32 + params 6 + tag 16; s 48 + identity 33 + tag 16.
  CHECK(t.at(0).size() == 40);
  CHECK(t.at(1).size() == 8 + 48);
  CHECK(t.at(2).size() == 32 + 6 + 16);
  CHECK(t.at(3).size() == 48 + 33 + 16);
  CHECK(t.at(0) == crypto::encode_hello(crypto::role::server, world.server_static.public_key_bytes, 2));
  CHECK(body(t.at(1).begin(), t.at(1).begin() + 8) == body{'N', 'A', 'T', 'R', 2, 1, 0, 0});

  // The connection id is the client's ephemeral, the first 32 bytes of message 1, on both sides.
  const auto id = natter::test::first_key_of(std::span(t.at(1)).subspan(8));
  CHECK(client.connection_id() == id);
  CHECK(server.connection_id() == id);
  CHECK(id == crypto::key_pair::from_secret(natter::test::secret_filled(0x33)).public_key_bytes);

  REQUIRE(client.handshake_hash().has_value());
  CHECK(client.handshake_hash() == server.handshake_hash());
  CHECK(client.peer_key() == world.server_static.public_key_bytes);
  CHECK(server.client_ed25519_key() == world.client_identity.ed25519_public);
  CHECK(client.peer_parameters() == natter::test::test_parameters);
  CHECK_FALSE(client.client_ed25519_key().has_value());  // each side's own outputs only
  CHECK_FALSE(server.peer_parameters().has_value());

  auto ck = client.take_keys();
  auto sk = server.take_keys();
  REQUIRE(ck.has_value());
  REQUIRE(sk.has_value());
  CHECK(raw(ck->client_to_server) == raw(sk->client_to_server));
  CHECK(raw(ck->server_to_client) == raw(sk->server_to_client));
  CHECK(raw(ck->client_to_server) != raw(ck->server_to_client));  // one key per direction
  CHECK_FALSE(client.take_keys().has_value());  // once
  CHECK_FALSE(server.take_keys().has_value());

  CHECK(client_log.calls == 1);
  CHECK(server_log.calls == 1);
  CHECK(client_log.connection_id == id);
  CHECK(server_log.connection_id == id);
  CHECK(client_log.client_to_server == raw(ck->client_to_server));
  CHECK(server_log.client_to_server == raw(ck->client_to_server));
  CHECK(client_log.server_to_client == raw(ck->server_to_client));
  CHECK(server_log.server_to_client == raw(ck->server_to_client));
  CHECK(client.error().empty());
  CHECK(server.error().empty());
}

TEST_CASE("handshake v2: the split keys are Noise's, run over the prologue the design fixes") {
  // An independent Noise run with the same keys, ephemerals and prologue gives the same keys: so
  // the prologue is exactly "natter/2 handshake\n" || server hello || client hello header.
  const v2_world world;
  auto client = world.client();
  auto server = world.server();
  const auto t = honest_v2_run(client, server);
  const auto prologue = natter::test::v2_prologue(t.at(0), std::span(t.at(1)).first(8));
  auto initiator = natter::crypto::noise::handshake_state::initiator(world.client_identity.x25519,
                                                                     world.server_static.public_key_bytes, prologue);
  auto responder = natter::crypto::noise::handshake_state::responder(world.server_static, prologue);
  REQUIRE(initiator.set_ephemeral_for_testing(natter::test::secret_filled(0x33)));
  REQUIRE(responder.set_ephemeral_for_testing(natter::test::secret_filled(0x44)));
  const auto m1 = initiator.write_message({});
  REQUIRE(m1.has_value());
  CHECK(*m1 == body(t.at(1).begin() + 8, t.at(1).end()));
  REQUIRE(responder.read_message(*m1).has_value());
  const auto m2 = responder.write_message(crypto::encode_server_parameters(natter::test::test_parameters));
  CHECK(*m2 == t.at(2));
  REQUIRE(initiator.read_message(*m2).has_value());
  const auto m3 = initiator.write_message(crypto::encode_client_identity(world.client_identity.ed25519_public));
  CHECK(*m3 == t.at(3));
  auto split = initiator.split();
  REQUIRE(split.has_value());
  CHECK(client.handshake_hash() == split->handshake_hash);
  auto keys = client.take_keys();
  CHECK(raw(keys->client_to_server) == raw(split->initiator_to_responder));
  CHECK(raw(keys->server_to_client) == raw(split->responder_to_initiator));
}

TEST_CASE("handshake v2: without injected ephemerals every run differs") {
  const v2_world world;
  const auto run = [&world] {
    auto client = handshake_v2::client(world.client_identity);
    auto server = handshake_v2::server(world.server_static, natter::test::test_parameters);
    (void)honest_v2_run(client, server);
    CHECK(client.connection_id() == server.connection_id());
    return *client.handshake_hash();
  };
  CHECK(run() != run());
}

TEST_CASE("handshake v2: the client waits for the verdict on the server key before it sends anything") {
  const v2_world world;
  auto client = world.client();
  auto server = world.server();
  CHECK(client.current() == v2_state::awaiting_hello);
  CHECK(client.start().empty());
  const auto hello = server.start();
  REQUIRE(hello.size() == 1);
  CHECK(server.current() == v2_state::awaiting_message_1);
  CHECK(client.on_frame(hello[0]).empty());
  CHECK(client.current() == v2_state::awaiting_verdict);
  CHECK(client.peer_key() == world.server_static.public_key_bytes);

  SUBCASE("a frame before the verdict fails the handshake") {
    CHECK(client.on_frame(hello[0]).empty());
    CHECK(client.current() == v2_state::failed);
    CHECK(client.error() == "server sent a frame before the client answered its hello");
    CHECK(client.accept_peer_key().empty());
  }
  SUBCASE("accepted: one frame, the client hello header and message 1") {
    const auto out = client.accept_peer_key();
    REQUIRE(out.size() == 1);
    CHECK(out[0].size() == 56);
    CHECK(client.current() == v2_state::awaiting_message_2);
  }
}

TEST_CASE("handshake v2: payload codecs") {
  SUBCASE("server parameters: u32 BE, u16 BE; trailing bytes ignored, short refused") {
    const auto p = crypto::encode_server_parameters({0x01020304u, 0x0506});
    CHECK(p == body{1, 2, 3, 4, 5, 6});
    CHECK(crypto::decode_server_parameters(p) == crypto::server_parameters{0x01020304u, 0x0506});
    auto longer = p;
    longer.push_back(0xff);
    CHECK(crypto::decode_server_parameters(longer) == crypto::server_parameters{0x01020304u, 0x0506});
    CHECK_FALSE(crypto::decode_server_parameters(body(p.begin(), p.end() - 1)).has_value());
    CHECK_FALSE(crypto::decode_server_parameters({}).has_value());
  }
  SUBCASE("client identity: version 2 and 32 bytes") {
    crypto::ed25519_public_key key{};
    key.bytes.fill(7);
    const auto p = crypto::encode_client_identity(key);
    REQUIRE(p.size() == 33);
    CHECK(p[0] == 2);
    auto d = crypto::decode_client_identity(p);
    CHECK(d.error == crypto::identity_payload_error::none);
    CHECK(d.key == key);
    auto longer = p;
    longer.push_back(1);
    CHECK(crypto::decode_client_identity(longer).error == crypto::identity_payload_error::none);
    CHECK(crypto::decode_client_identity(body(p.begin(), p.end() - 1)).error ==
          crypto::identity_payload_error::too_short);
    CHECK(crypto::decode_client_identity({}).error == crypto::identity_payload_error::too_short);
    auto v3 = p;
    v3[0] = 3;
    d = crypto::decode_client_identity(v3);
    CHECK(d.error == crypto::identity_payload_error::unknown_version);
    CHECK(d.version == 3);
  }
  SUBCASE("hello header") {
    const auto h = crypto::encode_hello_header(crypto::role::client);
    CHECK(h == body{'N', 'A', 'T', 'R', 2, 1, 0, 0});
    auto d = crypto::decode_hello_header(h);
    REQUIRE(d.has_value());
    CHECK(d->version == 2);
    CHECK(d->role_byte == 1);
    CHECK(crypto::decode_hello_header(crypto::encode_hello(crypto::role::client, {}, 1))->version == 1);
    CHECK_FALSE(crypto::decode_hello_header(body(h.begin(), h.end() - 1)).has_value());
    CHECK_FALSE(crypto::decode_hello_header(to_bytes("NATEx\0\0\0")).has_value());
  }
  SUBCASE("a refusal naming version 2 reads as any refusal") {
    const auto r = crypto::encode_refusal("no", 2);
    CHECK(r == body{'N', 'A', 'T', 'E', 2, 'n', 'o'});
    CHECK(crypto::decode_refusal(r) == "no");
    CHECK(crypto::encode_refusal("no")[4] == 2);  // the default names the version natter speaks
  }
}

TEST_CASE("handshake v2: a v1 client hello gets a plaintext refusal naming version 2") {
  const v2_world world;
  auto server = world.server();
  (void)server.start();
  const auto v1_hello = crypto::encode_hello(crypto::role::client, world.client_identity.x25519.public_key_bytes, 1);
  REQUIRE(v1_hello.size() == 40);
  const auto out = server.on_frame(v1_hello);
  REQUIRE(out.size() == 1);
  const auto text = crypto::decode_refusal(out[0]);
  REQUIRE(text.has_value());
  CHECK(*text == "unsupported protocol version 1: this server speaks version 2 (upgrade natter)");
  CHECK(out[0][4] == 2);
  CHECK(server.current() == v2_state::failed);
  CHECK(server.error() == "client speaks protocol version 1; this server speaks version 2");
  CHECK(server.on_frame(v1_hello).empty());  // failed is final
}

TEST_CASE("handshake v2: a v2 client meeting a v1 server fails at its hello, naming both versions") {
  const v2_world world;
  auto client = world.client();
  CHECK(client.on_frame(crypto::encode_hello(crypto::role::server, world.server_static.public_key_bytes, 1)).empty());
  CHECK(client.current() == v2_state::failed);
  CHECK(client.error() == "the server speaks protocol version 1; this client speaks version 2");
  CHECK_FALSE(client.refused_unauthenticated());
}

TEST_CASE("handshake v2: the server refuses bad client hellos in plaintext, before message 2 only") {
  const v2_world world;
  auto server = world.server();
  (void)server.start();
  std::string expected_error, expected_refusal;
  body hello;
  SUBCASE("no magic") {
    hello = to_bytes("hello there, I am a natter client!");
    expected_error = "not a natter client (no hello)";
    expected_refusal = "expected a natter hello";
  }
  SUBCASE("shorter than the header") {
    hello = {'N', 'A', 'T', 'R', 2, 1, 0};
    expected_error = "malformed client hello (shorter than its header)";
    expected_refusal = "malformed hello";
  }
  SUBCASE("a future version") {
    hello = crypto::encode_hello_header(crypto::role::client, 3);
    expected_error = "client speaks protocol version 3; this server speaks version 2";
    expected_refusal = "unsupported protocol version 3: this server speaks version 2";
  }
  SUBCASE("a server's hello") {
    hello = crypto::encode_hello_header(crypto::role::server);
    expected_error = "hello from a server, expected a client";
    expected_refusal = "wrong role in hello";
  }
  SUBCASE("a header without message 1") {
    hello = crypto::encode_hello_header(crypto::role::client);
    expected_error = "handshake message 1 refused: handshake message has the wrong size";
    expected_refusal = "handshake failed";
  }
  SUBCASE("message 1 over Noise's 65535 bytes") {
    hello = crypto::encode_hello_header(crypto::role::client);
    hello.resize(8 + 65536, 0x42);
    expected_error = "handshake message 1 refused: handshake message has the wrong size";
    expected_refusal = "handshake failed";
  }
  SUBCASE("a zero ephemeral key in message 1") {
    hello = crypto::encode_hello_header(crypto::role::client);
    hello.resize(8 + 48, 0);
    expected_error = "handshake message 1 refused: peer public key gives an all-zero DH result";
    expected_refusal = "handshake failed";
  }
  const auto out = server.on_frame(hello);
  REQUIRE(out.size() == 1);
  CHECK(crypto::decode_refusal(out[0]) == expected_refusal);
  CHECK(server.current() == v2_state::failed);
  CHECK(server.error() == expected_error);
}

TEST_CASE("handshake v2: refuse() answers with a plaintext refusal only in place of message 2") {
  const v2_world world;
  auto client = world.client();
  auto server = world.server();
  SUBCASE("admission, before message 1: the client shows it as unauthenticated") {
    REQUIRE(client.on_frame(server.start()[0]).empty());
    const auto opening = client.accept_peer_key();
    const auto out = server.refuse("server is full");
    REQUIRE(out.size() == 1);
    CHECK(server.current() == v2_state::failed);
    CHECK(server.error() == "refused: server is full");
    CHECK(client.on_frame(out[0]).empty());
    CHECK(client.current() == v2_state::failed);
    CHECK(client.refused_unauthenticated());
    CHECK(client.refusal_text() == "server is full");
    CHECK(client.error() == "the server said, unverified: server is full");
  }
  SUBCASE("after message 2: nothing to send") {
    auto again = world.server(0x45);
    auto client2 = world.client(0x34);
    REQUIRE(client2.on_frame(again.start()[0]).empty());
    REQUIRE(again.on_frame(client2.accept_peer_key()[0]).size() == 1);
    CHECK(again.current() == v2_state::awaiting_message_3);
    CHECK(again.refuse("too late").empty());
    CHECK(again.current() == v2_state::failed);
  }
  SUBCASE("on a client: a failure, nothing sent") {
    CHECK(client.refuse("no").empty());
    CHECK(client.current() == v2_state::failed);
    CHECK(client.error() == "refuse() called on a client");
  }
}

TEST_CASE("handshake v2: a NATE is accepted only while the client waits for message 2") {
  const v2_world world;
  const auto refusal = crypto::encode_refusal("go away", 2);
  auto client = world.client();
  auto server = world.server();
  SUBCASE("waiting for message 2: an unauthenticated refusal") {
    REQUIRE(client.on_frame(server.start()[0]).empty());
    (void)client.accept_peer_key();
    CHECK(client.on_frame(refusal).empty());
    CHECK(client.current() == v2_state::failed);
    CHECK(client.refused_unauthenticated());
    CHECK(client.refusal_text() == "go away");
  }
  SUBCASE("in place of the server hello: failed, not a refusal") {
    CHECK(client.on_frame(refusal).empty());
    CHECK(client.current() == v2_state::failed);
    CHECK_FALSE(client.refused_unauthenticated());
    CHECK(client.refusal_text().empty());
    CHECK(client.error() == "unexpected refusal frame from the server (awaiting the server hello)");
  }
  SUBCASE("while the verdict is pending: failed, not a refusal") {
    REQUIRE(client.on_frame(server.start()[0]).empty());
    CHECK(client.on_frame(refusal).empty());
    CHECK(client.current() == v2_state::failed);
    CHECK_FALSE(client.refused_unauthenticated());
  }
  SUBCASE("after the handshake: failed, not a refusal, keys gone") {
    (void)honest_v2_run(client, server);
    CHECK(client.on_frame(refusal).empty());
    CHECK(client.current() == v2_state::failed);
    CHECK_FALSE(client.refused_unauthenticated());
    CHECK_FALSE(client.take_keys().has_value());
    CHECK_FALSE(client.handshake_hash().has_value());
  }
  SUBCASE("a NATE to the server is not a hello") {
    (void)server.start();
    const auto out = server.on_frame(refusal);
    CHECK(server.current() == v2_state::failed);
    CHECK(out.size() == 1);
  }
}

TEST_CASE("handshake v2: calls out of place fail the handshake and change nothing else") {
  const v2_world world;
  auto server = world.server();
  auto client = world.client();
  SUBCASE("accept_peer_key() on a server") {
    CHECK(server.accept_peer_key().empty());
    CHECK(server.current() == v2_state::failed);
    CHECK(server.error() == "accept_peer_key() called awaiting the client hello on a server");
  }
  SUBCASE("accept_peer_key() before the server hello, and twice") {
    CHECK(client.accept_peer_key().empty());
    CHECK(client.current() == v2_state::failed);
    auto other = world.client();
    REQUIRE(other.on_frame(server.start()[0]).empty());
    CHECK(other.accept_peer_key().size() == 1);
    CHECK(other.accept_peer_key().empty());
    CHECK(other.current() == v2_state::failed);
  }
  SUBCASE("the ephemeral seam only before the Noise state exists") {
    REQUIRE(client.on_frame(server.start()[0]).empty());
    CHECK(client.set_ephemeral_for_testing(natter::test::secret_filled(0x35)));  // still before
    (void)client.accept_peer_key();
    CHECK_FALSE(client.set_ephemeral_for_testing(natter::test::secret_filled(0x36)));
    CHECK(client.connection_id() == crypto::key_pair::from_secret(natter::test::secret_filled(0x35)).public_key_bytes);
  }
  SUBCASE("frames after the handshake") {
    const auto t = honest_v2_run(client, server);
    CHECK(server.on_frame(t.at(3)).empty());
    CHECK(server.current() == v2_state::failed);
    CHECK(server.error() == "frame after the handshake was complete");
    CHECK_FALSE(server.client_ed25519_key().has_value());
  }
}

TEST_CASE("handshake v2: a server key that is a low-order point fails before anything is sent") {
  const v2_world world;
  auto client = world.client();
  crypto::public_key zero{};
  REQUIRE(client.on_frame(crypto::encode_hello(crypto::role::server, zero, 2)).empty());
  REQUIRE(client.current() == v2_state::awaiting_verdict);
  CHECK(client.accept_peer_key().empty());
  CHECK(client.current() == v2_state::failed);
  CHECK(client.error() == "server key refused at message 1: peer public key gives an all-zero DH result");
}

TEST_CASE("handshake v2: the client refuses bad server hellos without sending anything") {
  const v2_world world;
  const auto key = world.server_static.public_key_bytes;
  body hello;
  std::string expected;
  SUBCASE("no magic") {
    hello = to_bytes("SSH-2.0-OpenSSH_9.6 and some more bytes....");
    expected = "not a natter server (no hello)";
  }
  SUBCASE("wrong size") {
    hello = crypto::encode_hello(crypto::role::server, key, 2);
    hello.push_back(0);
    expected = "malformed server hello (41 bytes, expected 40)";
  }
  SUBCASE("a client's hello") {
    hello = crypto::encode_hello(crypto::role::client, key, 2);
    expected = "hello from a client, expected a server";
  }
  SUBCASE("an unknown role") {
    hello = crypto::encode_hello(static_cast<crypto::role>(7), key, 2);
    expected = "hello from a peer of unknown role 7, expected a server";
  }
  SUBCASE("a future version") {
    hello = crypto::encode_hello(crypto::role::server, key, 3);
    expected = "the server speaks protocol version 3; this client speaks version 2";
  }
  auto client = world.client();
  CHECK(client.on_frame(hello).empty());
  CHECK(client.current() == v2_state::failed);
  CHECK(client.error() == expected);
  CHECK(client.accept_peer_key().empty());
}

TEST_CASE("handshake v2: a moved-from handshake refuses everything, the new owner carries on") {
  const v2_world world;
  auto client = world.client();
  auto server = world.server();
  REQUIRE(client.on_frame(server.start()[0]).empty());
  auto moved = std::move(client);
  CHECK(client.current() == v2_state::failed);  // NOLINT(bugprone-use-after-move): the point
  CHECK(client.accept_peer_key().empty());
  CHECK(moved.current() == v2_state::awaiting_verdict);
  const auto opening = moved.accept_peer_key();
  REQUIRE(opening.size() == 1);
  auto other = world.server(0x46);
  other = std::move(server);  // assignment: the same
  CHECK(server.current() == v2_state::failed);  // NOLINT(bugprone-use-after-move)
  CHECK(server.refuse("x").empty());
  const auto m2 = other.on_frame(opening[0]);
  REQUIRE(m2.size() == 1);
  const auto m3 = moved.on_frame(m2[0]);
  REQUIRE(m3.size() == 1);
  CHECK(other.on_frame(m3[0]).empty());
  CHECK(other.current() == v2_state::established);
  auto taken = std::move(other);
  CHECK_FALSE(other.take_keys().has_value());  // NOLINT(bugprone-use-after-move)
  CHECK_FALSE(other.handshake_hash().has_value());
  CHECK(taken.take_keys().has_value());
}

TEST_CASE("handshake v2: a client whose X25519 key is not its Ed25519 key's sends nothing") {
  const v2_world world;
  auto server = world.server();
  crypto::client_identity_v2 broken;
  broken.ed25519_public = world.client_identity.ed25519_public;
  broken.x25519 = natter::test::pair_filled(0x12);
  auto client = handshake_v2::client(broken);
  REQUIRE(client.on_frame(server.start()[0]).empty());
  CHECK(client.accept_peer_key().empty());
  CHECK(client.current() == v2_state::failed);
  CHECK(client.error() == "own identity is inconsistent: its X25519 key is not its Ed25519 key's");
}
