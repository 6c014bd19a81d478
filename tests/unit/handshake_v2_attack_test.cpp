// The natter v2 handshake under attack: key-compromise impersonation both ways, reflection,
// replay and cross-connection swaps, every single-bit flip of every handshake frame, forged
// payloads, and an Ed25519 identity that is not the Noise static key.
#include <doctest/doctest.h>

#include <sodium.h>

#include <functional>
#include <string>
#include <vector>

#include "handshake_v2_test_support.hpp"
#include "natter/crypto/handshake_v2.hpp"
#include "natter/crypto/hello.hpp"
#include "natter/crypto/noise_handshake_state.hpp"
#include "natter/crypto/noise_symmetric_state.hpp"

namespace crypto = natter::crypto;
namespace noise = natter::crypto::noise;
using crypto::handshake_v2;
using natter::test::body;
using natter::test::first_key_of;
using natter::test::honest_v2_run;
using natter::test::pair_filled;
using natter::test::pump;
using natter::test::v2_key_recorder;
using natter::test::v2_prologue;
using natter::test::v2_state;
using natter::test::v2_world;
using natter::test::x25519;

namespace {

// A DH value an attacker can compute: one secret it holds, one public key it has seen; or, with
// no secret, 32 zero bytes (what a DH that contributed nothing secret would give).
struct dh_guess {
  std::string name;
  const crypto::secret_key* secret;
  crypto::public_key peer;
  [[nodiscard]] body value() const { return secret ? x25519(*secret, peer) : body(32, 0); }
};

// Attackers know only public keys and what they stole; an all-zero or low-order guess is not a
// real candidate, and crypto_scalarmult would refuse it.
std::vector<dh_guess> guesses(const std::vector<std::pair<std::string, const crypto::secret_key*>>& secrets,
                              const std::vector<std::pair<std::string, crypto::public_key>>& publics) {
  std::vector<dh_guess> out;
  for (const auto& [sn, s] : secrets) {
    for (const auto& [pn, p] : publics) out.push_back({"DH(" + sn + ", " + pn + ")", s, p});
  }
  out.push_back({"no secret at all", nullptr, {}});
  return out;
}

std::span<const std::uint8_t> after_header(const body& opening) { return std::span(opening).subspan(8); }

}  // namespace

TEST_CASE("handshake v2 KCI 1: the client's stolen secrets do not let an attacker pose as the pinned server") {
  // The attacker holds the client's whole identity (its X25519 secret; its Ed25519 secret would
  // give nothing more) and the server's public key, and sits between client and server. It shows
  // the genuine server hello, so the pin check passes. For message 2 it needs es, which is
  // DH(client ephemeral, server static): neither secret is one it has. It tries every DH value it
  // can compute in place of es. (v1 fell here: its key exchange was sealed under the
  // static-static key, which the client's secret alone gives.)
  const v2_world world;
  const auto server_hello = crypto::encode_hello(crypto::role::server, world.server_static.public_key_bytes, 2);
  const auto attacker_e = pair_filled(0x77);
  const auto attacker_static = pair_filled(0x66);

  const auto forge_message_2 = [&](const body& opening, const body& es) {
    const auto client_e = first_key_of(after_header(opening));
    noise::symmetric_state forged(noise::xk_protocol_name);
    forged.mix_hash(v2_prologue(server_hello, std::span(opening).first(8)));
    forged.mix_hash(world.server_static.public_key_bytes);  // the pre-message: the pinned key
    forged.mix_hash(client_e);
    forged.mix_key(es);
    const auto m1_rest = after_header(opening).subspan(32);
    if (!forged.decrypt_and_hash(m1_rest)) forged.mix_hash(m1_rest);  // as the real responder would
    body m2(attacker_e.public_key_bytes.begin(), attacker_e.public_key_bytes.end());
    forged.mix_hash(attacker_e.public_key_bytes);
    forged.mix_key(x25519(attacker_e.secret, client_e));  // ee: this one it can compute
    const auto sealed = forged.encrypt_and_hash(crypto::encode_server_parameters({1u << 20, 100}));
    m2.insert(m2.end(), sealed->begin(), sealed->end());
    return m2;
  };
  // One fresh client per attempt, with the same ephemeral, so every attempt sees the same message 1.
  const auto attempt = [&](const body& es) {
    auto client = world.client(0x33);
    REQUIRE(client.on_frame(server_hello).empty());
    REQUIRE(client.peer_key() == world.server_static.public_key_bytes);  // the pin check passes
    const auto opening = client.accept_peer_key();
    REQUIRE(opening.size() == 1);
    const auto out = client.on_frame(forge_message_2(opening[0], es));
    return std::make_pair(std::move(client), out);
  };

  const auto client_e = crypto::key_pair::from_secret(natter::test::secret_filled(0x33)).public_key_bytes;
  SUBCASE("control: with the server's static secret the same forger is accepted") {
    auto [client, out] = attempt(x25519(world.server_static.secret, client_e));
    CHECK(client.current() == v2_state::established);
    CHECK(out.size() == 1);
    CHECK(client.peer_parameters() == crypto::server_parameters{1u << 20, 100});
  }
  SUBCASE("without it, every DH value the attacker can compute fails message 2") {
    const auto all = guesses({{"client static", &world.client_identity.x25519.secret},
                              {"attacker ephemeral", &attacker_e.secret},
                              {"attacker static", &attacker_static.secret}},
                             {{"server static", world.server_static.public_key_bytes},
                              {"client ephemeral", client_e},
                              {"client static", world.client_identity.x25519.public_key_bytes},
                              {"attacker ephemeral", attacker_e.public_key_bytes}});
    for (const auto& g : all) {
      CAPTURE(g.name);
      auto [client, out] = attempt(g.value());
      CHECK(out.empty());  // message 3 (the client's identity) never goes out
      CHECK(client.current() == v2_state::failed);
      CHECK(client.error() == "handshake message 2 refused: handshake message failed authentication");
      CHECK_FALSE(client.take_keys().has_value());
    }
  }
  SUBCASE("a real v2 server with the attacker's own static key is caught by the pin") {
    auto impostor = handshake_v2::server(attacker_static, natter::test::test_parameters);
    auto client = world.client();
    REQUIRE(client.on_frame(impostor.start()[0]).empty());
    CHECK(client.peer_key() != world.server_static.public_key_bytes);  // the caller refuses here
    // And with the genuine hello spliced in, the impostor cannot read message 1.
    auto client2 = world.client();
    REQUIRE(client2.on_frame(server_hello).empty());
    const auto out = impostor.on_frame(client2.accept_peer_key()[0]);
    CHECK(impostor.current() == v2_state::failed);
    REQUIRE(out.size() == 1);
    (void)client2.on_frame(out[0]);
    CHECK(client2.current() == v2_state::failed);
    CHECK(client2.refused_unauthenticated());  // an unauthenticated refusal, not a session
  }
}

TEST_CASE("handshake v2 KCI 2: the server's stolen secret does not let an attacker log in as a client") {
  // The attacker holds the server's static secret and the client's public keys (Ed25519 and
  // X25519) and connects to the real server. Messages 1 and 2 it can do honestly with its own
  // ephemeral; message 3 needs se = DH(client static, server ephemeral): neither secret is one it
  // has. It tries every DH value it can compute in place of se.
  const v2_world world;
  const auto attacker_e = pair_filled(0x55);
  const auto attacker_static = pair_filled(0x66);
  const auto server_e = crypto::key_pair::from_secret(natter::test::secret_filled(0x44)).public_key_bytes;

  struct result {
    handshake_v2 server;
    int observer_calls;
  };
  const auto attempt = [&](const body& se) {
    v2_key_recorder log;
    auto server = world.server(0x44, &log);
    const auto hello = server.start()[0];
    const auto header = crypto::encode_hello_header(crypto::role::client);
    noise::symmetric_state forged(noise::xk_protocol_name);
    forged.mix_hash(v2_prologue(hello, header));
    forged.mix_hash(world.server_static.public_key_bytes);
    body opening = header;
    opening.insert(opening.end(), attacker_e.public_key_bytes.begin(), attacker_e.public_key_bytes.end());
    forged.mix_hash(attacker_e.public_key_bytes);
    forged.mix_key(x25519(attacker_e.secret, world.server_static.public_key_bytes));  // es, honestly
    const auto p1 = forged.encrypt_and_hash({});
    opening.insert(opening.end(), p1->begin(), p1->end());
    const auto m2 = server.on_frame(opening);
    REQUIRE(m2.size() == 1);
    REQUIRE(server.current() == v2_state::awaiting_message_3);
    const auto re = first_key_of(m2[0]);
    forged.mix_hash(re);
    forged.mix_key(x25519(attacker_e.secret, re));  // ee, honestly
    REQUIRE(forged.decrypt_and_hash(std::span(m2[0]).subspan(32)).has_value());  // it reads message 2
    auto m3 = *forged.encrypt_and_hash(world.client_identity.x25519.public_key_bytes);  // s: the victim's
    forged.mix_key(se);
    const auto p3 = forged.encrypt_and_hash(crypto::encode_client_identity(world.client_identity.ed25519_public));
    m3.insert(m3.end(), p3->begin(), p3->end());
    CHECK(server.on_frame(m3).empty());
    return result{std::move(server), log.calls};
  };

  SUBCASE("control: with the client's static secret the same forger logs in") {
    auto r = attempt(x25519(world.client_identity.x25519.secret, server_e));
    CHECK(r.server.current() == v2_state::established);
    CHECK(r.server.client_ed25519_key() == world.client_identity.ed25519_public);
    CHECK(r.observer_calls == 1);
  }
  SUBCASE("without it, every DH value the attacker can compute fails message 3") {
    const auto all = guesses({{"server static", &world.server_static.secret},
                              {"attacker ephemeral", &attacker_e.secret},
                              {"attacker static", &attacker_static.secret}},
                             {{"server ephemeral", server_e},
                              {"server static", world.server_static.public_key_bytes},
                              {"client static", world.client_identity.x25519.public_key_bytes}});
    for (const auto& g : all) {
      CAPTURE(g.name);
      auto r = attempt(g.value());
      CHECK(r.server.current() == v2_state::failed);
      CHECK(r.server.error() == "handshake message 3 refused: handshake message failed authentication");
      CHECK_FALSE(r.server.client_ed25519_key().has_value());
      CHECK(r.observer_calls == 0);
    }
  }
}

TEST_CASE("handshake v2: reflected frames are refused") {
  const v2_world world;
  auto client = world.client();
  auto server = world.server();
  const auto t = honest_v2_run(client, server);

  SUBCASE("message 2 back to the server that sent it") {
    auto s = world.server();
    auto c = world.client();
    REQUIRE(c.on_frame(s.start()[0]).empty());
    const auto m2 = s.on_frame(c.accept_peer_key()[0]);
    REQUIRE(m2.size() == 1);
    CHECK(s.on_frame(m2[0]).empty());
    CHECK(s.current() == v2_state::failed);
  }
  SUBCASE("the server hello back to the server") {
    auto s = world.server();
    const auto hello = s.start()[0];
    const auto out = s.on_frame(hello);
    CHECK(s.current() == v2_state::failed);
    CHECK(s.error() == "hello from a server, expected a client");
    REQUIRE(out.size() == 1);
    CHECK(crypto::decode_refusal(out[0]).has_value());
  }
  SUBCASE("a client's hello and message 1 to another client, as its server hello") {
    auto other = world.client(0x35);
    CHECK(other.on_frame(t.at(1)).empty());
    CHECK(other.current() == v2_state::failed);
    CHECK(other.error() == "malformed server hello (56 bytes, expected 40)");
  }
  SUBCASE("a client's hello and message 1, or message 1 alone, back to it as message 2") {
    for (const bool whole : {true, false}) {
      auto c = world.client();
      REQUIRE(c.on_frame(t.at(0)).empty());
      const auto opening = c.accept_peer_key()[0];
      const body reflected = whole ? opening : body(opening.begin() + 8, opening.end());
      CHECK(c.on_frame(reflected).empty());
      CHECK(c.current() == v2_state::failed);
    }
  }
  SUBCASE("message 3 to another client waiting for message 2") {
    auto c = world.client(0x35);
    REQUIRE(c.on_frame(t.at(0)).empty());
    (void)c.accept_peer_key();
    CHECK(c.on_frame(t.at(3)).empty());
    CHECK(c.current() == v2_state::failed);
  }
  SUBCASE("message 2 to the server as a client hello") {
    auto s = world.server();
    (void)s.on_frame(t.at(2));
    CHECK(s.current() == v2_state::failed);
  }
}

TEST_CASE("handshake v2: a recorded client side replayed to a new server fails at message 3") {
  // XK cannot refuse a replayed message 1 (it has no contribution from this responder yet, §7.7),
  // which is why its payload is empty. The replay dies at message 3: ee and se now involve the new
  // server's fresh ephemeral, and the recording was made for another. The new server draws its
  // ephemeral at random, as in production.
  const v2_world world;
  auto client = world.client();
  auto server_a = world.server();
  const auto a = honest_v2_run(client, server_a);

  v2_key_recorder log;
  auto server_b = handshake_v2::server(world.server_static, natter::test::test_parameters, &log);
  REQUIRE(server_b.start()[0] == a.at(0));  // same server, same hello: the prologue matches
  CHECK(server_b.on_frame(a.at(1)).size() == 1);  // message 1 is accepted, message 2 goes out
  CHECK(server_b.current() == v2_state::awaiting_message_3);
  CHECK(server_b.on_frame(a.at(3)).empty());
  CHECK(server_b.current() == v2_state::failed);
  CHECK(server_b.error() == "handshake message 3 refused: handshake message failed authentication");
  CHECK_FALSE(server_b.client_ed25519_key().has_value());
  CHECK_FALSE(server_b.take_keys().has_value());
  CHECK(log.calls == 0);
}

TEST_CASE("handshake v2: frames of one connection delivered in another are refused") {
  // Two connections of the same client to the same server, in flight at once.
  const v2_world world;
  auto client_a = world.client(0x33);
  auto server_a = world.server(0x44);
  auto client_b = world.client(0x35);
  auto server_b = world.server(0x46);
  std::vector<body> m3;
  for (auto* pair : {&client_a, &client_b}) {
    auto& c = *pair;
    auto& s = pair == &client_a ? server_a : server_b;
    REQUIRE(c.on_frame(s.start()[0]).empty());
    const auto m2 = s.on_frame(c.accept_peer_key()[0]);
    REQUIRE(m2.size() == 1);
    const auto out = c.on_frame(m2[0]);
    REQUIRE(out.size() == 1);
    m3.push_back(out[0]);
  }
  CHECK(server_a.on_frame(m3[1]).empty());
  CHECK(server_b.on_frame(m3[0]).empty());
  CHECK(server_a.current() == v2_state::failed);
  CHECK(server_b.current() == v2_state::failed);
  CHECK(server_a.error() == "handshake message 3 refused: handshake message failed authentication");
}

TEST_CASE("handshake v2: message 2 of one connection delivered in another is refused") {
  const v2_world world;
  auto client_a = world.client(0x33);
  auto server_a = world.server(0x44);
  auto client_b = world.client(0x35);
  auto server_b = world.server(0x46);
  REQUIRE(client_a.on_frame(server_a.start()[0]).empty());
  REQUIRE(client_b.on_frame(server_b.start()[0]).empty());
  const auto m2_a = server_a.on_frame(client_a.accept_peer_key()[0]);
  const auto m2_b = server_b.on_frame(client_b.accept_peer_key()[0]);
  REQUIRE(m2_a.size() == 1);
  REQUIRE(m2_b.size() == 1);
  CHECK(client_a.on_frame(m2_b[0]).empty());
  CHECK(client_b.on_frame(m2_a[0]).empty());
  CHECK(client_a.current() == v2_state::failed);
  CHECK(client_b.current() == v2_state::failed);
}

TEST_CASE("handshake v2: every single-bit flip of every handshake frame fails the handshake") {
  const v2_world world;
  std::vector<std::size_t> frame_sizes;
  {
    auto client = world.client();
    auto server = world.server();
    for (const auto& f : honest_v2_run(client, server).frames) frame_sizes.push_back(f.size());
  }
  const auto real_key = world.server_static.public_key_bytes;
  for (std::size_t frame = 0; frame < frame_sizes.size(); ++frame) {
    for (std::size_t byte = 0; byte < frame_sizes[frame]; ++byte) {
      for (int bit = 0; bit < 8; ++bit) {
        auto client = world.client();
        auto server = world.server();
        const auto t = pump(client, server, [&](std::size_t index, body& f) {
          if (index == frame) f[byte] ^= static_cast<std::uint8_t>(1u << bit);
        });
        if (frame == 0 && byte < 6 && t.frames.size() != 1) {
          // Magic, version and role of the server hello are judged at once: nothing is sent.
          FAIL("server hello byte ", byte, " bit ", bit, " flipped, and the client answered");
        }
        if (frame == 1 && byte < 6 && server.error().starts_with("handshake message 1")) {
          FAIL("client hello byte ", byte, " bit ", bit, " flipped, and the server parsed the header");
        }
        const bool established = client.current() == v2_state::established && server.current() == v2_state::established;
        const bool server_established = server.current() == v2_state::established;
        if (frame == 0 && byte >= 8) {
          // A flip in the server's key: the pin check sees another key (the caller refuses). The
          // driver accepted it anyway, and the real server cannot read a message 1 made for it.
          if (client.peer_key() == real_key) FAIL("flipped server key not seen by the pin check");
        }
        if (established || server_established) {
          FAIL("frame ", frame, " accepted with byte ", byte, " bit ", bit, " flipped");
        }
        // The receiver of the flipped frame refuses it (for the server hello's reserved bytes and
        // key, the server notices at message 1 instead: the prologue / es).
        const bool receiver_failed = (frame % 2 == 0 ? client : server).current() == v2_state::failed;
        const bool noticed_at_message_1 = frame == 0 && (byte == 6 || byte == 7 || byte >= 8);
        if (!receiver_failed && !(noticed_at_message_1 && server.current() == v2_state::failed)) {
          FAIL("frame ", frame, " byte ", byte, " bit ", bit, ": the flip went unnoticed by its receiver");
        }
      }
    }
  }
}

TEST_CASE("handshake v2: a reserved hello byte changed in transit fails message 1, through the prologue") {
  // The reserved bytes are not judged by either parser; only the prologue makes a change count.
  const v2_world world;
  for (const std::size_t frame : {std::size_t{0}, std::size_t{1}}) {
    for (const std::size_t byte : {std::size_t{6}, std::size_t{7}}) {
      CAPTURE(frame);
      CAPTURE(byte);
      auto client = world.client();
      auto server = world.server();
      (void)pump(client, server, [&](std::size_t index, body& f) {
        if (index == frame) f[byte] = 0x80;
      });
      CHECK(server.current() == v2_state::failed);
      CHECK(server.error() == "handshake message 1 refused: handshake message failed authentication");
      CHECK(client.current() == v2_state::failed);
      CHECK(client.refused_unauthenticated());
      CHECK(client.refusal_text() == "handshake failed");
    }
  }
}

namespace {

// A client built from the bare Noise layer, to send message 3 payloads handshake_v2 never would:
// its own static key `noise_static`, and `payload` as its claimed identity.
struct forged_client_result {
  handshake_v2 server;
  int observer_calls;
};
forged_client_result forged_identity_run(const v2_world& world, const crypto::key_pair& noise_static,
                                         const body& payload) {
  v2_key_recorder log;
  auto server = world.server(0x44, &log);
  const auto hello = server.start()[0];
  const auto header = crypto::encode_hello_header(crypto::role::client);
  auto initiator = noise::handshake_state::initiator(noise_static, world.server_static.public_key_bytes,
                                                     v2_prologue(hello, header));
  auto opening = header;
  const auto m1 = initiator.write_message({});
  opening.insert(opening.end(), m1->begin(), m1->end());
  const auto m2 = server.on_frame(opening);
  REQUIRE(m2.size() == 1);
  REQUIRE(initiator.read_message(m2[0]).has_value());
  const auto m3 = initiator.write_message(payload);
  REQUIRE(m3.has_value());
  CHECK(server.on_frame(*m3).empty());
  return {std::move(server), log.calls};
}

}  // namespace

TEST_CASE("handshake v2: the Ed25519 key in message 3 must be the Noise static key's") {
  const v2_world world;
  const auto attacker = natter::test::identity_from_seed(0x99);
  SUBCASE("control: an identity whose keys belong together is accepted") {
    auto r = forged_identity_run(world, attacker.x25519, crypto::encode_client_identity(attacker.ed25519_public));
    CHECK(r.server.current() == v2_state::established);
    CHECK(r.server.client_ed25519_key() == attacker.ed25519_public);
  }
  SUBCASE("the attacker's own static key, the victim's Ed25519 key: refused") {
    auto r = forged_identity_run(world, attacker.x25519,
                                 crypto::encode_client_identity(world.client_identity.ed25519_public));
    CHECK(r.server.current() == v2_state::failed);
    CHECK(r.server.error() == "client's Ed25519 key does not match the static key its handshake proved");
    CHECK_FALSE(r.server.client_ed25519_key().has_value());
    CHECK_FALSE(r.server.take_keys().has_value());
    CHECK(r.observer_calls == 0);
  }
  SUBCASE("not an Ed25519 point (the identity, of small order)") {
    crypto::ed25519_public_key identity_point{};
    identity_point.bytes[0] = 1;
    auto r = forged_identity_run(world, attacker.x25519, crypto::encode_client_identity(identity_point));
    CHECK(r.server.current() == v2_state::failed);
    CHECK(r.server.error() == "client identity is not a valid Ed25519 public key");
  }
  SUBCASE("an unknown identity version") {
    auto payload = crypto::encode_client_identity(attacker.ed25519_public);
    payload[0] = 1;
    auto r = forged_identity_run(world, attacker.x25519, payload);
    CHECK(r.server.current() == v2_state::failed);
    CHECK(r.server.error() == "client identity of unknown version 1");
  }
  SUBCASE("too short, or empty") {
    for (const std::size_t length : {std::size_t{32}, std::size_t{0}}) {
      auto payload = crypto::encode_client_identity(attacker.ed25519_public);
      payload.resize(length);
      auto r = forged_identity_run(world, attacker.x25519, payload);
      CHECK(r.server.current() == v2_state::failed);
      CHECK(r.server.error() == "malformed client identity in message 3 (" + std::to_string(length) + " bytes)");
      CHECK(r.observer_calls == 0);
    }
  }
  SUBCASE("trailing bytes after a version 2 identity are ignored") {
    auto payload = crypto::encode_client_identity(attacker.ed25519_public);
    payload.push_back(0xaa);
    auto r = forged_identity_run(world, attacker.x25519, payload);
    CHECK(r.server.current() == v2_state::established);
  }
}

namespace {

// A server built from the bare Noise layer, with the real server's static key, to send message 2
// payloads handshake_v2 never would.
handshake_v2 forged_parameters_run(const v2_world& world, const body& payload) {
  auto client = world.client();
  const auto hello = crypto::encode_hello(crypto::role::server, world.server_static.public_key_bytes, 2);
  REQUIRE(client.on_frame(hello).empty());
  const auto opening = client.accept_peer_key()[0];
  auto responder = noise::handshake_state::responder(world.server_static, v2_prologue(hello, std::span(opening).first(8)));
  REQUIRE(responder.read_message(after_header(opening)).has_value());
  const auto m2 = responder.write_message(payload);
  REQUIRE(m2.has_value());
  (void)client.on_frame(*m2);
  return client;
}

}  // namespace

TEST_CASE("handshake v2: server parameters in message 2, short and long") {
  const v2_world world;
  SUBCASE("short: refused, and the identity is never sent") {
    auto client = forged_parameters_run(world, {0, 1, 0, 0, 1});
    CHECK(client.current() == v2_state::failed);
    CHECK(client.error() == "malformed server parameters in message 2 (5 bytes, expected at least 6)");
  }
  SUBCASE("longer: the fields it knows, the rest ignored") {
    auto client = forged_parameters_run(world, {0, 1, 0, 0, 0x10, 0, 9, 9, 9});
    CHECK(client.current() == v2_state::established);
    CHECK(client.peer_parameters() == crypto::server_parameters{65536, 4096});
  }
}
