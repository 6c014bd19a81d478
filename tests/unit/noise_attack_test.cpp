// Noise XK handshake_state under attack and misuse: tampering, truncation, replay across
// handshakes, wrong and missing static keys, low-order keys, out-of-turn calls, size limits.
#include <doctest/doctest.h>

#include <sodium.h>

#include <algorithm>
#include <string>
#include <vector>

#include "natter/crypto/noise_handshake_state.hpp"
#include "noise_test_support.hpp"

using natter::test::honest_run;
using natter::test::payload_of;
using natter::test::secret_filled;
using natter::test::test_prologue;
using natter::test::to_bytes;
using natter::test::xk_parties;
namespace noise = natter::crypto::noise;
using status = noise::handshake_state::status;
using noise::handshake_error;

namespace {

using message_bytes = std::vector<std::uint8_t>;

// Runs an honest handshake up to (not including) message `index`, then hands `message` to the
// receiver of message `index`. Returns that receiver's state afterwards.
noise::handshake_state deliver_at(const xk_parties& parties, std::size_t index, const message_bytes& message,
                                  std::optional<message_bytes>* payload = nullptr) {
  auto initiator = parties.initiator();
  auto responder = parties.responder();
  for (std::size_t i = 0; i < index; ++i) {
    auto& sender = i % 2 == 0 ? initiator : responder;
    auto& receiver = i % 2 == 0 ? responder : initiator;
    const auto written = sender.write_message(payload_of[i]);
    REQUIRE(written.has_value());
    REQUIRE(receiver.read_message(*written).has_value());
  }
  auto& receiver = index % 2 == 0 ? responder : initiator;
  auto read = receiver.read_message(message);
  if (payload) *payload = read;
  return std::move(receiver);
}

// A failed state is final: every call refused, the first reason kept.
void check_dead(noise::handshake_state& state, handshake_error why) {
  CHECK(state.current() == status::failed);
  CHECK(state.error() == why);
  CHECK_FALSE(state.write_message({}).has_value());
  CHECK_FALSE(state.read_message(message_bytes(100)).has_value());
  CHECK_FALSE(state.split().has_value());
  CHECK(state.error() == why);
  if (state.own_role() == noise::role::responder) CHECK_FALSE(state.remote_static().has_value());
}

}  // namespace

TEST_CASE("noise XK: an honest handshake without injected ephemerals agrees, and differs each run") {
  const xk_parties parties;
  auto run = [&parties] {
    auto initiator = noise::handshake_state::initiator(parties.initiator_static,
                                                       parties.responder_static.public_key_bytes, test_prologue);
    auto responder = noise::handshake_state::responder(parties.responder_static, test_prologue);
    (void)honest_run(initiator, responder);
    CHECK(responder.remote_static() == parties.initiator_static.public_key_bytes);
    auto a = initiator.split();
    auto b = responder.split();
    REQUIRE(a.has_value());
    REQUIRE(b.has_value());
    CHECK(a->handshake_hash == b->handshake_hash);
    return a->handshake_hash;
  };
  CHECK(run() != run());  // fresh ephemerals every time
}

TEST_CASE("noise XK: message sizes are the pattern's keys and tags plus the payload") {
  const xk_parties parties;
  auto initiator = parties.initiator();
  auto responder = parties.responder();
  const auto t = honest_run(initiator, responder);
  CHECK(t.message[0].size() == 32 + 16 + payload_of[0].size());
  CHECK(t.message[1].size() == 32 + 16 + payload_of[1].size());
  CHECK(t.message[2].size() == 48 + 16 + payload_of[2].size());
}

TEST_CASE("noise XK: any single bit flipped in any handshake message fails that message") {
  const xk_parties parties;
  auto initiator = parties.initiator();
  auto responder = parties.responder();
  const auto t = honest_run(initiator, responder);  // deterministic: the same injected ephemerals
  for (std::size_t m = 0; m < 3; ++m) {
    for (std::size_t byte = 0; byte < t.message[m].size(); ++byte) {
      for (int bit = 0; bit < 8; ++bit) {
        auto flipped = t.message[m];
        flipped[byte] ^= static_cast<std::uint8_t>(1u << bit);
        std::optional<message_bytes> payload;
        auto receiver = deliver_at(parties, m, flipped, &payload);
        if (payload.has_value() || receiver.current() != status::failed) {
          FAIL("message ", m, " accepted with byte ", byte, " bit ", bit, " flipped");
        }
      }
    }
    // The unflipped message still goes through, so the loop above tested tampering, not setup.
    std::optional<message_bytes> payload;
    (void)deliver_at(parties, m, t.message[m], &payload);
    CHECK(payload == payload_of[m]);
  }
}

TEST_CASE("noise XK: truncated, extended and oversized messages fail") {
  const xk_parties parties;
  auto initiator = parties.initiator();
  auto responder = parties.responder();
  const auto t = honest_run(initiator, responder);
  for (std::size_t m = 0; m < 3; ++m) {
    CAPTURE(m);
    for (std::size_t length = 0; length < t.message[m].size(); ++length) {
      const message_bytes cut(t.message[m].begin(), t.message[m].begin() + static_cast<std::ptrdiff_t>(length));
      auto receiver = deliver_at(parties, m, cut);
      CHECK(receiver.current() == status::failed);
    }
    auto longer = t.message[m];
    longer.push_back(0);
    auto receiver = deliver_at(parties, m, longer);
    check_dead(receiver, handshake_error::decrypt_failed);
  }
  auto empty = deliver_at(parties, 0, {});
  check_dead(empty, handshake_error::bad_message_size);
  auto huge = deliver_at(parties, 0, message_bytes(noise::max_message_size + 1));
  check_dead(huge, handshake_error::bad_message_size);
}

TEST_CASE("noise XK: messages replayed into another handshake fail") {
  const xk_parties parties;
  auto initiator_a = parties.initiator(0x33);
  auto responder_a = parties.responder(0x44);
  const auto a = honest_run(initiator_a, responder_a);

  SUBCASE("message 2 of another run, to an initiator") {
    auto initiator_b = parties.initiator(0x35);
    REQUIRE(initiator_b.write_message(payload_of[0]).has_value());
    CHECK_FALSE(initiator_b.read_message(a.message[1]).has_value());
    check_dead(initiator_b, handshake_error::decrypt_failed);
  }
  SUBCASE("message 3 of another run, to a responder that read its own message 1") {
    auto initiator_b = parties.initiator(0x35);
    auto responder_b = parties.responder(0x46);
    const auto m1 = initiator_b.write_message(payload_of[0]);
    REQUIRE(responder_b.read_message(*m1).has_value());
    REQUIRE(responder_b.write_message(payload_of[1]).has_value());
    CHECK_FALSE(responder_b.read_message(a.message[2]).has_value());
    check_dead(responder_b, handshake_error::decrypt_failed);
  }
  SUBCASE("a whole recorded initiator side, replayed to a fresh responder") {
    // Message 1 carries no responder contribution, so XK cannot refuse a replayed message 1
    // (§7.7: its payload has no replay protection). The replay dies at message 3, which
    // needs the recorded initiator's ephemeral secret for ee: nothing after message 1 is accepted.
    auto responder_b = parties.responder(0x46);
    const auto replayed_payload = responder_b.read_message(a.message[0]);
    CHECK(replayed_payload == payload_of[0]);
    REQUIRE(responder_b.write_message(payload_of[1]).has_value());
    CHECK_FALSE(responder_b.read_message(a.message[2]).has_value());
    check_dead(responder_b, handshake_error::decrypt_failed);
  }
}

TEST_CASE("noise XK: a responder with the wrong static key, or another prologue, fails at message 1") {
  const xk_parties parties;
  auto initiator = parties.initiator();
  const auto m1 = initiator.write_message(payload_of[0]);
  REQUIRE(m1.has_value());

  SUBCASE("wrong static key") {
    const auto other = natter::test::pair_filled(0x23);
    auto impostor = noise::handshake_state::responder(other, test_prologue);
    CHECK_FALSE(impostor.read_message(*m1).has_value());
    check_dead(impostor, handshake_error::decrypt_failed);
  }
  SUBCASE("another prologue") {
    auto responder = noise::handshake_state::responder(parties.responder_static, to_bytes("natter v3"));
    CHECK_FALSE(responder.read_message(*m1).has_value());
    check_dead(responder, handshake_error::decrypt_failed);
  }
}

TEST_CASE("noise XK: an initiator learns nothing from, and reveals nothing to, a responder without its key") {
  // The impostor sees message 1 and knows everything public (prologue, the real responder's
  // static public key) but not its secret, so it cannot compute es. It answers with its own
  // best guess at a message 2, built from the spec's own SymmetricState.
  const xk_parties parties;
  auto initiator = parties.initiator();
  const auto m1 = initiator.write_message(payload_of[0]);
  REQUIRE(m1.has_value());

  const auto impostor_static = natter::test::pair_filled(0x66);
  const auto impostor_e = natter::test::pair_filled(0x77);
  const natter::crypto::public_key initiator_e = [&] {
    natter::crypto::public_key k{};
    std::copy_n(m1->begin(), k.size(), k.begin());
    return k;
  }();
  const auto dh = [](const natter::crypto::key_pair& own, const natter::crypto::public_key& peer) {
    std::vector<std::uint8_t> shared(32);  // X25519, exactly as a real responder computes it
    REQUIRE(crypto_scalarmult(shared.data(), own.secret.data(), peer.data()) == 0);
    return shared;
  };
  noise::symmetric_state forged(noise::xk_protocol_name);
  forged.mix_hash(test_prologue);
  forged.mix_hash(parties.responder_static.public_key_bytes);
  forged.mix_hash(initiator_e);
  forged.mix_key(dh(impostor_static, initiator_e));  // in place of es, which it cannot compute
  REQUIRE(forged.decrypt_and_hash(std::span(*m1).subspan(32)) == std::nullopt);  // can't read it
  forged.mix_hash(std::span(*m1).subspan(32));  // mix it anyway, as the real responder would
  message_bytes m2(impostor_e.public_key_bytes.begin(), impostor_e.public_key_bytes.end());
  forged.mix_hash(impostor_e.public_key_bytes);
  forged.mix_key(dh(impostor_e, initiator_e));  // ee it can compute
  const auto sealed = forged.encrypt_and_hash(to_bytes("trust me"));
  m2.insert(m2.end(), sealed->begin(), sealed->end());

  CHECK_FALSE(initiator.read_message(m2).has_value());
  check_dead(initiator, handshake_error::decrypt_failed);  // and so message 3 (its s) never goes out
}

TEST_CASE("noise XK: low-order and zero public keys are refused") {
  const xk_parties parties;
  // u = 0 and u = 1 both give an all-zero X25519 result with any clamped scalar.
  for (const std::uint8_t u : {std::uint8_t{0}, std::uint8_t{1}}) {
    CAPTURE(int{u});
    natter::crypto::public_key bad{};
    bad[0] = u;
    SUBCASE("as the responder static key the initiator was given") {
      auto initiator = noise::handshake_state::initiator(parties.initiator_static, bad, test_prologue);
      CHECK_FALSE(initiator.write_message({}).has_value());
      check_dead(initiator, handshake_error::bad_public_key);
    }
    SUBCASE("as the initiator's ephemeral in message 1") {
      message_bytes m1(bad.begin(), bad.end());
      m1.resize(32 + 16);
      auto responder = deliver_at(parties, 0, m1);
      check_dead(responder, handshake_error::bad_public_key);
    }
    SUBCASE("as the responder's ephemeral in message 2") {
      message_bytes m2(bad.begin(), bad.end());
      m2.resize(32 + 16);
      auto initiator = deliver_at(parties, 1, m2);
      check_dead(initiator, handshake_error::bad_public_key);
    }
  }
}

TEST_CASE("noise XK: calls out of turn are refused and change nothing") {
  const xk_parties parties;
  auto initiator = parties.initiator();
  auto responder = parties.responder();

  CHECK_FALSE(initiator.read_message(message_bytes(48)).has_value());  // initiator writes first
  CHECK(initiator.error() == handshake_error::out_of_turn);
  CHECK(noise::to_string(initiator.error()) == "handshake call out of turn");
  CHECK(initiator.current() == status::write_next);
  CHECK_FALSE(responder.write_message({}).has_value());  // responder reads first
  CHECK(responder.current() == status::read_next);
  CHECK_FALSE(initiator.split().has_value());  // not complete
  CHECK_FALSE(responder.remote_static().has_value());

  const auto m1 = initiator.write_message(payload_of[0]);
  REQUIRE(m1.has_value());
  CHECK_FALSE(initiator.write_message(payload_of[0]).has_value());  // twice in a row
  CHECK(initiator.current() == status::read_next);
  CHECK_FALSE(initiator.set_ephemeral_for_testing(secret_filled(9)));  // e already in use
  REQUIRE(responder.read_message(*m1).has_value());
  CHECK_FALSE(responder.read_message(*m1).has_value());  // twice in a row
  CHECK(responder.current() == status::write_next);

  // None of the refusals harmed either side: the handshake completes.
  const auto m2 = responder.write_message(payload_of[1]);
  REQUIRE(m2.has_value());
  REQUIRE(initiator.read_message(*m2).has_value());
  const auto m3 = initiator.write_message(payload_of[2]);
  REQUIRE(m3.has_value());
  REQUIRE(responder.read_message(*m3).has_value());
  CHECK(initiator.current() == status::complete);
  CHECK_FALSE(initiator.write_message({}).has_value());  // a fourth message
  CHECK_FALSE(responder.read_message(*m3).has_value());
  CHECK(initiator.split().has_value());
  CHECK(responder.split().has_value());
}

TEST_CASE("noise XK: a moved-from handshake state refuses everything") {
  const xk_parties parties;
  auto initiator = parties.initiator();
  auto moved = std::move(initiator);
  CHECK(initiator.current() == status::failed);  // NOLINT(bugprone-use-after-move): the point
  CHECK_FALSE(initiator.write_message({}).has_value());
  CHECK_FALSE(initiator.remote_static().has_value());
  CHECK(moved.current() == status::write_next);
  auto responder = parties.responder();
  const auto m1 = moved.write_message(payload_of[0]);
  REQUIRE(m1.has_value());
  CHECK(responder.read_message(*m1) == payload_of[0]);  // the new owner carries on

  auto other = parties.initiator(0x55);
  other = std::move(moved);  // assignment: the same
  CHECK(moved.current() == status::failed);  // NOLINT(bugprone-use-after-move)
  CHECK(other.current() == status::read_next);
}

TEST_CASE("noise XK: the 65535-byte message limit, both ways") {
  const xk_parties parties;
  auto initiator = parties.initiator();
  auto responder = parties.responder();
  const std::size_t largest = noise::max_message_size - 32 - 16;
  CHECK_FALSE(initiator.write_message(message_bytes(largest + 1, 'x')).has_value());
  CHECK(initiator.error() == handshake_error::payload_too_large);
  CHECK(initiator.current() == status::write_next);
  const auto m1 = initiator.write_message(message_bytes(largest, 'x'));
  REQUIRE(m1.has_value());
  CHECK(m1->size() == noise::max_message_size);
  const auto payload = responder.read_message(*m1);
  REQUIRE(payload.has_value());
  CHECK(payload->size() == largest);
}

TEST_CASE("noise XK: split() gives both sides the same keys, one per direction") {
  const xk_parties parties;
  auto initiator = parties.initiator();
  auto responder = parties.responder();
  (void)honest_run(initiator, responder);
  auto i = initiator.split();
  auto r = responder.split();
  REQUIRE(i.has_value());
  REQUIRE(r.has_value());
  using natter::test::hex_of;
  using natter::test::view;
  CHECK(hex_of(view(i->initiator_to_responder)) == hex_of(view(r->initiator_to_responder)));
  CHECK(hex_of(view(i->responder_to_initiator)) == hex_of(view(r->responder_to_initiator)));
  CHECK(hex_of(view(i->initiator_to_responder)) != hex_of(view(i->responder_to_initiator)));
  CHECK(i->handshake_hash == r->handshake_hash);
  CHECK(responder.remote_static() == parties.initiator_static.public_key_bytes);  // still known
}
