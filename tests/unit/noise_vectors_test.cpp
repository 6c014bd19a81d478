// Noise_XK_25519_ChaChaPoly_SHA256 against the cacophony known-answer vectors (data/README.md):
// both sides replayed with their ephemeral keys injected, every handshake message compared byte
// for byte, then the transport messages under the split() keys.
#include <doctest/doctest.h>

#include <fstream>
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

std::vector<nlohmann::json> xk_sha256_vectors() {
  std::ifstream in(NATTER_NOISE_VECTORS);
  REQUIRE(in.good());
  const auto all = nlohmann::json::parse(in);
  std::vector<nlohmann::json> found;
  for (const auto& v : all.at("vectors")) {
    if (v.at("protocol_name").get<std::string>() == noise::xk_protocol_name) found.push_back(v);
  }
  return found;
}

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
