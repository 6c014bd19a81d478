// Noise_XK, _KK and _IK (25519, ChaChaPoly, SHA256) against the cacophony known-answer vectors
// (data/README.md): both sides replayed with their ephemeral keys injected, every handshake
// message compared byte for byte, then the transport messages under the split() keys.
#include <doctest/doctest.h>

#include <fstream>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "natter/crypto/noise_cipher_state.hpp"
#include "natter/crypto/noise_handshake_state.hpp"
#include "noise_test_support.hpp"

using natter::test::from_hex;
using natter::test::hex_of;
using natter::test::secret_from;
using natter::test::view;
namespace noise = natter::crypto::noise;

namespace {

// The handshake hash cacophony.txt publishes for its XK SHA256 vector (dropped from our copy).
constexpr std::string_view cacophony_xk_sha256_handshake_hash =
    "cefffc5d1074126cc980ebfe902587ff36ba61dc77d4447ebe0f96dc22ae59d7";

std::vector<nlohmann::json> vectors_named(std::string_view protocol_name) {
  std::ifstream in(NATTER_NOISE_VECTORS);
  REQUIRE(in.good());
  const auto all = nlohmann::json::parse(in);
  std::vector<nlohmann::json> found;
  for (const auto& v : all.at("vectors")) {
    if (v.at("protocol_name").get<std::string>() == protocol_name) found.push_back(v);
  }
  return found;
}

std::vector<nlohmann::json> xk_sha256_vectors() { return vectors_named(noise::xk_protocol_name); }

std::vector<std::uint8_t> hex_field(const nlohmann::json& j, const char* name) {
  return from_hex(j.at(name).get<std::string>());
}

}  // namespace

TEST_CASE("noise XK: the protocol name is exactly HASHLEN bytes, so h starts as the name itself") {
  CHECK(noise::xk_protocol_name.size() == noise::hash_size);
}

TEST_CASE("noise XK: cacophony vectors replay on both sides, handshake and transport") {
  const auto vectors = xk_sha256_vectors();
  REQUIRE(vectors.size() == 1);  // cacophony has one XK SHA256 vector without a psk

  for (const auto& v : vectors) {
    const auto initiator_static = natter::crypto::key_pair::from_secret(secret_from(hex_field(v, "init_static")));
    const auto responder_static = natter::crypto::key_pair::from_secret(secret_from(hex_field(v, "resp_static")));
    const auto known = natter::crypto::public_key_from_hex(v.at("init_remote_static").get<std::string>());
    REQUIRE(known.has_value());
    REQUIRE(*known == responder_static.public_key_bytes);

    auto initiator = noise::handshake_state::initiator(initiator_static, *known, hex_field(v, "init_prologue"));
    auto responder = noise::handshake_state::responder(responder_static, hex_field(v, "resp_prologue"));
    REQUIRE(initiator.set_ephemeral_for_testing(secret_from(hex_field(v, "init_ephemeral"))));
    REQUIRE(responder.set_ephemeral_for_testing(secret_from(hex_field(v, "resp_ephemeral"))));

    const auto& messages = v.at("messages");
    REQUIRE(messages.size() == 6);

    // Handshake: each sender's output must equal the vector, and each receiver must read the
    // vector's bytes (not merely its peer's output) back to the payload.
    for (std::size_t i = 0; i < noise::xk_message_count; ++i) {
      CAPTURE(i);
      const auto payload = hex_field(messages[i], "payload");
      const auto ciphertext = hex_field(messages[i], "ciphertext");
      auto& sender = i % 2 == 0 ? initiator : responder;
      auto& receiver = i % 2 == 0 ? responder : initiator;
      const auto written = sender.write_message(payload);
      REQUIRE(written.has_value());
      CHECK(hex_of(*written) == hex_of(ciphertext));
      const auto read = receiver.read_message(ciphertext);
      REQUIRE(read.has_value());
      CHECK(hex_of(*read) == hex_of(payload));
    }
    REQUIRE(initiator.current() == noise::handshake_state::status::complete);
    REQUIRE(responder.current() == noise::handshake_state::status::complete);
    REQUIRE(responder.remote_static().has_value());
    CHECK(*responder.remote_static() == initiator_static.public_key_bytes);
    CHECK(initiator.remote_static() == responder_static.public_key_bytes);

    auto initiator_keys = initiator.split();
    auto responder_keys = responder.split();
    REQUIRE(initiator_keys.has_value());
    REQUIRE(responder_keys.has_value());
    CHECK(hex_of(initiator_keys->handshake_hash) == cacophony_xk_sha256_handshake_hash);
    CHECK(initiator_keys->handshake_hash == responder_keys->handshake_hash);
    CHECK(hex_of(view(initiator_keys->initiator_to_responder)) == hex_of(view(responder_keys->initiator_to_responder)));
    CHECK(hex_of(view(initiator_keys->responder_to_initiator)) == hex_of(view(responder_keys->responder_to_initiator)));

    // Transport (cacophony's senders keep alternating: message 3 is the responder's).
    noise::cipher_state initiator_send(initiator_keys->initiator_to_responder);
    noise::cipher_state initiator_receive(initiator_keys->responder_to_initiator);
    noise::cipher_state responder_send(responder_keys->responder_to_initiator);
    noise::cipher_state responder_receive(responder_keys->initiator_to_responder);
    for (std::size_t i = noise::xk_message_count; i < messages.size(); ++i) {
      CAPTURE(i);
      const auto payload = hex_field(messages[i], "payload");
      const auto ciphertext = hex_field(messages[i], "ciphertext");
      const bool from_initiator = i % 2 == 0;
      auto& send = from_initiator ? initiator_send : responder_send;
      auto& receive = from_initiator ? responder_receive : initiator_receive;
      const auto sealed = send.encrypt_with_ad({}, payload);
      REQUIRE(sealed.has_value());
      CHECK(hex_of(*sealed) == hex_of(ciphertext));
      const auto opened = receive.decrypt_with_ad({}, ciphertext);
      REQUIRE(opened.has_value());
      CHECK(hex_of(*opened) == hex_of(payload));
    }
    CHECK(responder_send.nonce() == 2);  // messages 3 and 5: the nonce format is tested at n = 1
    CHECK(initiator_send.nonce() == 1);
  }
}

TEST_CASE("noise XK: after split() the handshake state is spent") {
  const natter::test::xk_parties parties;
  auto initiator = parties.initiator();
  auto responder = parties.responder();
  (void)natter::test::honest_run(initiator, responder);
  CHECK_FALSE(initiator.set_ephemeral_for_testing(natter::test::secret_filled(1)));  // complete
  REQUIRE(initiator.split().has_value());
  CHECK(initiator.current() == noise::handshake_state::status::split_done);
  CHECK_FALSE(initiator.split().has_value());
  CHECK(initiator.error() == noise::handshake_error::out_of_turn);
  CHECK_FALSE(initiator.write_message({}).has_value());
  CHECK_FALSE(initiator.read_message(std::vector<std::uint8_t>(64)).has_value());
  CHECK_FALSE(initiator.set_ephemeral_for_testing(natter::test::secret_filled(1)));
}

namespace {

// One vector of a two-message pattern (KK or IK), both sides, handshake then transport; the
// transport messages keep alternating from the responder (message 2 is the responder's).
void replay_two_message_vector(const nlohmann::json& v, noise::handshake_pattern pattern) {
  const auto initiator_static = natter::crypto::key_pair::from_secret(secret_from(hex_field(v, "init_static")));
  const auto responder_static = natter::crypto::key_pair::from_secret(secret_from(hex_field(v, "resp_static")));
  const auto responder_known = natter::crypto::public_key_from_hex(v.at("init_remote_static").get<std::string>());
  REQUIRE(responder_known == responder_static.public_key_bytes);
  const auto init_prologue = hex_field(v, "init_prologue");
  const auto resp_prologue = hex_field(v, "resp_prologue");

  auto initiator = pattern == noise::handshake_pattern::kk
                       ? noise::handshake_state::initiator_kk(initiator_static, *responder_known, init_prologue)
                       : noise::handshake_state::initiator_ik(initiator_static, *responder_known, init_prologue);
  std::optional<noise::handshake_state> responder;
  if (pattern == noise::handshake_pattern::kk) {
    const auto initiator_known = natter::crypto::public_key_from_hex(v.at("resp_remote_static").get<std::string>());
    REQUIRE(initiator_known == initiator_static.public_key_bytes);
    responder.emplace(noise::handshake_state::responder_kk(responder_static, *initiator_known, resp_prologue));
    CHECK(responder->remote_static() == initiator_static.public_key_bytes);  // known from the start
  } else {
    responder.emplace(noise::handshake_state::responder_ik(responder_static, resp_prologue));
    CHECK_FALSE(responder->remote_static().has_value());  // not until message 1 authenticates
  }
  CHECK(initiator.pattern() == pattern);
  REQUIRE(initiator.set_ephemeral_for_testing(secret_from(hex_field(v, "init_ephemeral"))));
  REQUIRE(responder->set_ephemeral_for_testing(secret_from(hex_field(v, "resp_ephemeral"))));

  const auto& messages = v.at("messages");
  REQUIRE(messages.size() == 6);
  REQUIRE(noise::message_count(pattern) == 2);
  for (std::size_t i = 0; i < 2; ++i) {
    CAPTURE(i);
    const auto payload = hex_field(messages[i], "payload");
    const auto ciphertext = hex_field(messages[i], "ciphertext");
    auto& sender = i == 0 ? initiator : *responder;
    auto& receiver = i == 0 ? *responder : initiator;
    const auto written = sender.write_message(payload);
    REQUIRE(written.has_value());
    CHECK(hex_of(*written) == hex_of(ciphertext));
    const auto read = receiver.read_message(ciphertext);
    REQUIRE(read.has_value());
    CHECK(hex_of(*read) == hex_of(payload));
    if (i == 0) CHECK(responder->remote_static() == initiator_static.public_key_bytes);
  }
  REQUIRE(initiator.current() == noise::handshake_state::status::complete);
  REQUIRE(responder->current() == noise::handshake_state::status::complete);

  auto initiator_keys = initiator.split();
  auto responder_keys = responder->split();
  REQUIRE(initiator_keys.has_value());
  REQUIRE(responder_keys.has_value());
  CHECK(initiator_keys->handshake_hash == responder_keys->handshake_hash);
  noise::cipher_state initiator_send(initiator_keys->initiator_to_responder);
  noise::cipher_state initiator_receive(initiator_keys->responder_to_initiator);
  noise::cipher_state responder_send(responder_keys->responder_to_initiator);
  noise::cipher_state responder_receive(responder_keys->initiator_to_responder);
  for (std::size_t i = 2; i < messages.size(); ++i) {
    CAPTURE(i);
    const auto payload = hex_field(messages[i], "payload");
    const auto ciphertext = hex_field(messages[i], "ciphertext");
    const bool from_initiator = i % 2 == 0;
    auto& send = from_initiator ? initiator_send : responder_send;
    auto& receive = from_initiator ? responder_receive : initiator_receive;
    const auto sealed = send.encrypt_with_ad({}, payload);
    REQUIRE(sealed.has_value());
    CHECK(hex_of(*sealed) == hex_of(ciphertext));
    const auto opened = receive.decrypt_with_ad({}, ciphertext);
    REQUIRE(opened.has_value());
    CHECK(hex_of(*opened) == hex_of(payload));
  }
}

}  // namespace

TEST_CASE("noise KK and IK: the protocol names are the vectors' and exactly HASHLEN bytes") {
  CHECK(noise::protocol_name(noise::handshake_pattern::kk) == "Noise_KK_25519_ChaChaPoly_SHA256");
  CHECK(noise::protocol_name(noise::handshake_pattern::ik) == "Noise_IK_25519_ChaChaPoly_SHA256");
  CHECK(noise::protocol_name(noise::handshake_pattern::xk) == noise::xk_protocol_name);
  CHECK(noise::kk_protocol_name.size() == noise::hash_size);
  CHECK(noise::ik_protocol_name.size() == noise::hash_size);
}

TEST_CASE("noise KK: cacophony vectors replay on both sides, handshake and transport") {
  const auto vectors = vectors_named(noise::kk_protocol_name);
  REQUIRE(vectors.size() == 1);
  replay_two_message_vector(vectors[0], noise::handshake_pattern::kk);
}

TEST_CASE("noise IK: cacophony vectors replay on both sides, handshake and transport") {
  const auto vectors = vectors_named(noise::ik_protocol_name);
  REQUIRE(vectors.size() == 1);
  replay_two_message_vector(vectors[0], noise::handshake_pattern::ik);
}

TEST_CASE("noise KK: a responder expecting another initiator key fails message 1, and stays failed") {
  const auto a = natter::test::pair_filled(0x11);
  const auto b = natter::test::pair_filled(0x22);
  const auto mallory = natter::test::pair_filled(0x55);
  auto initiator = noise::handshake_state::initiator_kk(mallory, b.public_key_bytes, natter::test::test_prologue);
  auto responder = noise::handshake_state::responder_kk(b, a.public_key_bytes, natter::test::test_prologue);
  const auto m1 = initiator.write_message({});
  REQUIRE(m1.has_value());
  CHECK(m1->size() == 32 + 16);
  CHECK_FALSE(responder.read_message(*m1).has_value());
  CHECK(responder.error() == noise::handshake_error::decrypt_failed);
  CHECK(responder.remote_static() == a.public_key_bytes);  // given beforehand: kept
  CHECK_FALSE(responder.write_message({}).has_value());
}

TEST_CASE("noise IK: a failed message 1 reveals no remote static") {
  const auto a = natter::test::pair_filled(0x11);
  const auto b = natter::test::pair_filled(0x22);
  auto initiator = noise::handshake_state::initiator_ik(a, b.public_key_bytes, natter::test::test_prologue);
  auto responder = noise::handshake_state::responder_ik(b, natter::test::test_prologue);
  auto m1 = initiator.write_message({});
  REQUIRE(m1.has_value());
  CHECK(m1->size() == 32 + 48 + 16);
  m1->back() ^= 1;
  CHECK_FALSE(responder.read_message(*m1).has_value());
  CHECK_FALSE(responder.remote_static().has_value());
}
