// Known-answer vectors of the end-to-end layer, published in docs/E2E.md §8: fixed inputs, and
// the outputs every implementation must reproduce byte for byte. The KDF, safety number, room
// code and key id values were also computed independently (Python hashlib), and the KDF is
// checked here against libsodium's BLAKE2b with salt and personalisation directly.
#include <doctest/doctest.h>

#include <sodium.h>

#include "e2e_test_support.hpp"
#include "natter/crypto/e2e_safety_number.hpp"
#include "natter/crypto/e2e_sender_key.hpp"

using natter::test::hex_of;
using natter::test::secret_filled;
using natter::test::to_bytes;
using natter::test::view;
namespace e2e = natter::crypto::e2e;

namespace {

e2e::aead_nonce nonce_filled(std::uint8_t fill) {
  e2e::aead_nonce n{};
  n.fill(fill);
  return n;
}

// crypto_kdf_derive_from_key spelled out: BLAKE2b-256, key ck, empty message, salt = id as u64
// little endian then 8 zero bytes, personalisation = the 8-byte context then 8 zero bytes.
std::string kdf_by_hand(std::uint8_t ck_fill, std::uint64_t id, std::string_view context) {
  std::array<std::uint8_t, 32> ck{};
  ck.fill(ck_fill);
  std::array<std::uint8_t, 16> salt{};
  for (int i = 0; i < 8; ++i) salt[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(id >> (8 * i));
  std::array<std::uint8_t, 16> personal{};
  std::copy(context.begin(), context.end(), personal.begin());
  std::array<std::uint8_t, 32> out{};
  crypto_generichash_blake2b_salt_personal(out.data(), out.size(), nullptr, 0, ck.data(), ck.size(), salt.data(),
                                           personal.data());
  return hex_of(out);
}

constexpr std::string_view pairwise_mk0 = "58fbbfbde900d192c883a85a03c523c70a14206222e7e7f8a8ba1adda04a8e36";
constexpr std::string_view pairwise_ck1 = "9e573bd63b36adf304eb426d0c7a69ce816c83774bfa3fdc8d860c63026253a5";
constexpr std::string_view sender_mk0 = "f1f1d9ec822781da98dc7bd92433d7375d6933858493cb7044dae0ea955591ff";
constexpr std::string_view sender_ck1 = "6882efaaa2f4a9171895bf24a673a9d9d68c3416630a1390238f8b438c89ff12";

constexpr std::string_view alice_key = "bc7cbcb5636375fa1d82434d466724d92377f53b980695dd49d26d0ce12205a5";
constexpr std::string_view bob_key = "705fbac01f5519899f437bc42e40255ae9ab54bff00de3433af7d687d9e71ad5";
constexpr std::string_view kk_init =
    "014c2817a9d668ed844d2f95b93b69ecb8485095783a015a424164b0d09702894fc3c9c8b73aa8c2f862ed934a041845c2";
constexpr std::string_view kk_response =
    "0219d80204bf85f3e1118e1b23410c88f0d0eeced5156f4c5bdf347b14ed7ec63f4600cf20b2ba500e86bc7f9b07e689a2";
constexpr std::string_view first_body =
    "01fc3aea4d3e532621000000004e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e4e478a18cb02abde170e06b91de042c1d7"
    "c32971d0fac691004ffbbcfbbe8659d81e5f7f47f2264dccc92f07c83a775ab73c5b72000ab797dd7e2308808381a206a4f15424a8"
    "121fd65c5cfe7f9427732a";
constexpr std::string_view distribution =
    "01056c6f62627900000007020202020202020202020202020202020202020202020202020202020202020200000000ed4928c628d1"
    "c2c6eae90338905995612959273a5c63f93636c14614ac8737d1";
constexpr std::string_view room_message =
    "01056c6f6262790000000772fe8b48051d5d4f000000004f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4f4fb3fd7cc02b79"
    "02d3951cbe3b51cdc9a4d8f459c4d2aa8eb5ff984195a7345cd6d9e418ff218e3ede5a8e877a3e1b459ea904c161f3855bc8999419"
    "999a10e0f9bb764689f30544ba003643504546304df1c36c15e29218485334c388ac175ff4ca8e5e47eb400fc66e4a9998c716385c"
    "dbd7a99e474680596460ed06c2cba7e722e9b0366b0332c50fb27766417ef903";
constexpr std::string_view safety = "60009 11303 58493 06759 53776 67034 60442 28127 54913 06387 32614 52814";
constexpr std::string_view code = "bx4w-t3ms-l3ad-bwrv";

}  // namespace

TEST_CASE("e2e vectors: chain steps, both contexts, equal to crypto_kdf spelled out") {
  e2e::chain_key pairwise(secret_filled(0x01), 0, e2e::chain_kind::pairwise);
  const auto mk = pairwise.step();
  CHECK(hex_of(view(mk->key)) == pairwise_mk0);
  CHECK(hex_of(view(pairwise.key())) == pairwise_ck1);
  CHECK(kdf_by_hand(0x01, 1, "natpairw") == pairwise_mk0);
  CHECK(kdf_by_hand(0x01, 2, "natpairw") == pairwise_ck1);

  e2e::chain_key sender(secret_filled(0x01), 0, e2e::chain_kind::sender_key);
  CHECK(hex_of(view(sender.step()->key)) == sender_mk0);
  CHECK(hex_of(view(sender.key())) == sender_ck1);
  CHECK(kdf_by_hand(0x01, 1, "natsendk") == sender_mk0);
}

TEST_CASE("e2e vectors: a KK setup and the first pairwise body, alice (seed a1..) to bob (seed b0..)") {
  const natter::test::e2e_pair pair;
  CHECK(natter::crypto::to_hex(pair.alice.public_key()) == alice_key);
  CHECK(natter::crypto::to_hex(pair.bob.public_key()) == bob_key);
  auto alice = pair.alice_setup();
  auto bob = pair.bob_setup();
  alice.set_ephemeral_for_testing(secret_filled(0xe1));
  bob.set_ephemeral_for_testing(secret_filled(0xe2));
  const auto init = alice.start();
  REQUIRE(init.has_value());
  CHECK(hex_of(*init) == kk_init);
  const auto reply = bob.receive(*init);
  REQUIRE(reply.reply.has_value());
  CHECK(hex_of(*reply.reply) == kk_response);
  REQUIRE(alice.receive(*reply.reply).status == e2e::pairwise_setup::setup_status::established);
  auto session = alice.take_session();
  const auto body = session->seal_with_nonce_for_testing(to_bytes("hello bob"), nonce_filled(0x4e));
  REQUIRE(body.has_value());
  CHECK(hex_of(*body) == first_body);
  CHECK(bob.take_session()->open(natter::test::from_hex(first_body), natter::test::t0).plaintext ==
        to_bytes("hello bob"));
}

TEST_CASE("e2e vectors: a sender key distribution and its first room message") {
  auto sender = e2e::sender_key_sender::create_for_testing("lobby", 7, secret_filled(0x02), secret_filled(0x03));
  REQUIRE(sender.has_value());
  CHECK(hex_of(sender->distribution()) == distribution);
  const auto message = sender->seal_with_nonce_for_testing(to_bytes("hello room"), nonce_filled(0x4f));
  REQUIRE(message.has_value());
  CHECK(hex_of(*message) == room_message);
  auto receiver = e2e::sender_key_receiver::from_distribution(natter::test::from_hex(distribution));
  REQUIRE(receiver.has_value());
  CHECK(receiver->open(natter::test::from_hex(room_message), natter::test::t0).plaintext == to_bytes("hello room"));
}

TEST_CASE("e2e vectors: the safety number and room code of alice and bob") {
  const natter::test::e2e_pair pair;
  const auto alice = natter::test::party_of(pair.alice, "alice");
  const auto bob = natter::test::party_of(pair.bob, "bob");
  CHECK(e2e::safety_number(alice, bob) == std::string(safety));
  const std::vector<e2e::party> members = {alice, bob};
  CHECK(e2e::room_code("lobby", members) == std::string(code));
}
