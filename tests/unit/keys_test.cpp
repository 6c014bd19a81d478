// Key types and libsodium known answers (docs/PROTOCOL.md §3: crypto_box with a precomputed key).
#include <doctest/doctest.h>

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <vector>

#include "natter/crypto/keys.hpp"
#include "test_support.hpp"

using natter::crypto::public_key;
using natter::crypto::secret_key;
using natter::crypto::shared_key;

namespace {

// ---- Test vectors copied from libsodium's own test suite (github.com/jedisct1/libsodium) ------
// test/default/box.c and test/default/box2.c: the NaCl/curve25519 key pairs of "Alice" and "Bob"
// (also RFC 7748 §6.1), the nonce, and the 131-byte message.
constexpr std::array<std::uint8_t, 32> alicesk{
    0x77, 0x07, 0x6d, 0x0a, 0x73, 0x18, 0xa5, 0x7d, 0x3c, 0x16, 0xc1, 0x72, 0x51, 0xb2, 0x66, 0x45,
    0xdf, 0x4c, 0x2f, 0x87, 0xeb, 0xc0, 0x99, 0x2a, 0xb1, 0x77, 0xfb, 0xa5, 0x1d, 0xb9, 0x2c, 0x2a};
constexpr public_key alicepk{  // box2.c
    0x85, 0x20, 0xf0, 0x09, 0x89, 0x30, 0xa7, 0x54, 0x74, 0x8b, 0x7d, 0xdc, 0xb4, 0x3e, 0xf7, 0x5a,
    0x0d, 0xbf, 0x3a, 0x0d, 0x26, 0x38, 0x1a, 0xf4, 0xeb, 0xa4, 0xa9, 0x8e, 0xaa, 0x9b, 0x4e, 0x6a};
constexpr std::array<std::uint8_t, 32> bobsk{  // box2.c
    0x5d, 0xab, 0x08, 0x7e, 0x62, 0x4a, 0x8a, 0x4b, 0x79, 0xe1, 0x7f, 0x8b, 0x83, 0x80, 0x0e, 0xe6,
    0x6f, 0x3b, 0xb1, 0x29, 0x26, 0x18, 0xb6, 0xfd, 0x1c, 0x2f, 0x8b, 0x27, 0xff, 0x88, 0xe0, 0xeb};
constexpr public_key bobpk{
    0xde, 0x9e, 0xdb, 0x7d, 0x7b, 0x7d, 0xc1, 0xb4, 0xd3, 0x5b, 0x61, 0xc2, 0xec, 0xe4, 0x35, 0x37,
    0x3f, 0x83, 0x43, 0xc8, 0x5b, 0x78, 0x67, 0x4d, 0xad, 0xfc, 0x7e, 0x14, 0x6f, 0x88, 0x2b, 0x4f};
constexpr natter::crypto::nonce box_nonce{
    0x69, 0x69, 0x6e, 0xe9, 0x55, 0xb6, 0x2b, 0x73, 0xcd, 0x62, 0xbd, 0xa8,
    0x75, 0xfc, 0x73, 0xd6, 0x82, 0x19, 0xe0, 0x03, 0x6b, 0x7a, 0x0b, 0x37};
// box.c's m without the 32 leading zero bytes of the old crypto_box API.
constexpr std::array<std::uint8_t, 131> box_message{
    0xbe, 0x07, 0x5f, 0xc5, 0x3c, 0x81, 0xf2, 0xd5, 0xcf, 0x14, 0x13, 0x16, 0xeb, 0xeb, 0x0c, 0x7b,
    0x52, 0x28, 0xc5, 0x2a, 0x4c, 0x62, 0xcb, 0xd4, 0x4b, 0x66, 0x84, 0x9b, 0x64, 0x24, 0x4f, 0xfc,
    0xe5, 0xec, 0xba, 0xaf, 0x33, 0xbd, 0x75, 0x1a, 0x1a, 0xc7, 0x28, 0xd4, 0x5e, 0x6c, 0x61, 0x29,
    0x6c, 0xdc, 0x3c, 0x01, 0x23, 0x35, 0x61, 0xf4, 0x1d, 0xb6, 0x6c, 0xce, 0x31, 0x4a, 0xdb, 0x31,
    0x0e, 0x3b, 0xe8, 0x25, 0x0c, 0x46, 0xf0, 0x6d, 0xce, 0xea, 0x3a, 0x7f, 0xa1, 0x34, 0x80, 0x57,
    0xe2, 0xf6, 0x55, 0x6a, 0xd6, 0xb1, 0x31, 0x8a, 0x02, 0x4a, 0x83, 0x8f, 0x21, 0xaf, 0x1f, 0xde,
    0x04, 0x89, 0x77, 0xeb, 0x48, 0xf5, 0x9f, 0xfd, 0x49, 0x24, 0xca, 0x1c, 0x60, 0x90, 0x2e, 0x52,
    0xf0, 0xa0, 0x89, 0xbc, 0x76, 0x89, 0x70, 0x40, 0xe0, 0x82, 0xf9, 0x37, 0x76, 0x38, 0x48, 0x64,
    0x5e, 0x07, 0x05};
// test/default/box.exp: bytes 16..162 of box.c's crypto_box output, i.e. the 16-byte Poly1305 MAC
// followed by the 131-byte ciphertext — exactly what crypto_box_easy writes. box2.c opens it.
constexpr std::array<std::uint8_t, 147> box_expected{
    0xf3, 0xff, 0xc7, 0x70, 0x3f, 0x94, 0x00, 0xe5, 0x2a, 0x7d, 0xfb, 0x4b, 0x3d, 0x33, 0x05, 0xd9,
    0x8e, 0x99, 0x3b, 0x9f, 0x48, 0x68, 0x12, 0x73, 0xc2, 0x96, 0x50, 0xba, 0x32, 0xfc, 0x76, 0xce,
    0x48, 0x33, 0x2e, 0xa7, 0x16, 0x4d, 0x96, 0xa4, 0x47, 0x6f, 0xb8, 0xc5, 0x31, 0xa1, 0x18, 0x6a,
    0xc0, 0xdf, 0xc1, 0x7c, 0x98, 0xdc, 0xe8, 0x7b, 0x4d, 0xa7, 0xf0, 0x11, 0xec, 0x48, 0xc9, 0x72,
    0x71, 0xd2, 0xc2, 0x0f, 0x9b, 0x92, 0x8f, 0xe2, 0x27, 0x0d, 0x6f, 0xb8, 0x63, 0xd5, 0x17, 0x38,
    0xb4, 0x8e, 0xee, 0xe3, 0x14, 0xa7, 0xcc, 0x8a, 0xb9, 0x32, 0x16, 0x45, 0x48, 0xe5, 0x26, 0xae,
    0x90, 0x22, 0x43, 0x68, 0x51, 0x7a, 0xcf, 0xea, 0xbd, 0x6b, 0xb3, 0x73, 0x2b, 0xc0, 0xe9, 0xda,
    0x99, 0x83, 0x2b, 0x61, 0xca, 0x01, 0xb6, 0xde, 0x56, 0x24, 0x4a, 0x9e, 0x88, 0xd5, 0xf9, 0xb3,
    0x79, 0x73, 0xf6, 0x22, 0xa4, 0x3d, 0x14, 0xa6, 0x59, 0x9b, 0x1f, 0x65, 0x4c, 0xb4, 0x5a, 0x74,
    0xe3, 0x55, 0xa5};
// test/default/secretbox.c: "firstkey", the crypto_box_beforenm(bobpk, alicesk) precomputed key
// (its secretbox output with the same nonce and message is box.exp again).
constexpr std::array<std::uint8_t, 32> firstkey{
    0x1b, 0x27, 0x55, 0x64, 0x73, 0xe9, 0x85, 0xd4, 0x62, 0xcd, 0x51, 0x19, 0x7a, 0x9a, 0x46, 0xc7,
    0x60, 0x09, 0x54, 0x9e, 0xac, 0x64, 0x74, 0xf2, 0x06, 0xc4, 0xee, 0x08, 0x44, 0xf6, 0x83, 0x89};

// Points of small order on Curve25519 (u-coordinates), which make the X25519 result zero so that
// libsodium refuses them: box.c's small_order_p (order 8), and from the X25519 small-order list
// (libsodium's crypto_scalarmult/curve25519 blocklist, also RFC 7748 implementations): 0, 1, the
// other order-8 point, and p-1 (order 2).
constexpr public_key small_order_p{
    0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
    0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00};
constexpr public_key order_8_point{
    0x5f, 0x9c, 0x95, 0xbc, 0xa3, 0x50, 0x8c, 0x24, 0xb1, 0xd0, 0xb1, 0x55, 0x9c, 0x83, 0xef, 0x5b,
    0x04, 0x44, 0x5c, 0xc4, 0x58, 0x1c, 0x8e, 0x86, 0xd8, 0x22, 0x4e, 0xdd, 0xd0, 0x9f, 0x11, 0x57};

secret_key secret_from(const std::array<std::uint8_t, 32>& raw) {
  secret_key s;
  std::copy(raw.begin(), raw.end(), s.data());
  return s;
}

bool same_bytes(const std::uint8_t* a, const std::uint8_t* b, std::size_t n) { return std::memcmp(a, b, n) == 0; }

}  // namespace

TEST_CASE("key_pair::from_secret derives the known public keys") {
  CHECK(natter::crypto::key_pair::from_secret(secret_from(alicesk)).public_key_bytes == alicepk);
  CHECK(natter::crypto::key_pair::from_secret(secret_from(bobsk)).public_key_bytes == bobpk);
}

TEST_CASE("shared_key::derive gives libsodium's known precomputed key from either side") {
  const auto from_alice = shared_key::derive(bobpk, secret_from(alicesk));
  const auto from_bob = shared_key::derive(alicepk, secret_from(bobsk));
  REQUIRE(from_alice.has_value());
  REQUIRE(from_bob.has_value());
  CHECK(same_bytes(from_alice->data(), firstkey.data(), 32));
  CHECK(same_bytes(from_bob->data(), firstkey.data(), 32));
}

TEST_CASE("known answer: sealing box.c's message under the derived key reproduces box.exp") {
  const auto key = shared_key::derive(bobpk, secret_from(alicesk));
  REQUIRE(key.has_value());
  std::array<std::uint8_t, box_expected.size()> out{};
  REQUIRE(crypto_box_easy_afternm(out.data(), box_message.data(), box_message.size(), box_nonce.data(),
                                  key->data()) == 0);
  CHECK(out == box_expected);
}

TEST_CASE("known answer: box2.c opens box.exp back to the message with Bob's derived key") {
  const auto key = shared_key::derive(alicepk, secret_from(bobsk));
  REQUIRE(key.has_value());
  std::array<std::uint8_t, box_message.size()> plain{};
  REQUIRE(crypto_box_open_easy_afternm(plain.data(), box_expected.data(), box_expected.size(),
                                       box_nonce.data(), key->data()) == 0);
  CHECK(plain == box_message);

  auto forged = box_expected;
  forged[0] ^= 0x01;  // one MAC bit
  CHECK(crypto_box_open_easy_afternm(plain.data(), forged.data(), forged.size(), box_nonce.data(),
                                     key->data()) == -1);
}

TEST_CASE("shared_key::derive refuses zero and low-order points") {
  const secret_key own = secret_from(alicesk);
  public_key one{};
  one[0] = 1;
  CHECK_FALSE(shared_key::derive(public_key{}, own).has_value());
  CHECK_FALSE(shared_key::derive(one, own).has_value());
  CHECK_FALSE(shared_key::derive(small_order_p, own).has_value());
  CHECK_FALSE(shared_key::derive(order_8_point, own).has_value());
  public_key p_minus_1{};
  p_minus_1.fill(0xff);
  p_minus_1[0] = 0xec;
  p_minus_1[31] = 0x7f;
  CHECK_FALSE(shared_key::derive(p_minus_1, own).has_value());
  CHECK(shared_key::derive(bobpk, own).has_value());
}

TEST_CASE("generated key pairs are distinct and consistent") {
  const auto a = natter::crypto::key_pair::generate();
  const auto b = natter::crypto::key_pair::generate();
  CHECK(a.public_key_bytes != b.public_key_bytes);
  CHECK(a.public_key_bytes != public_key{});
  // The public half is the one the secret implies.
  secret_key copy;
  std::memcpy(copy.data(), a.secret.data(), secret_key::size());
  CHECK(natter::crypto::key_pair::from_secret(std::move(copy)).public_key_bytes == a.public_key_bytes);
  // Diffie-Hellman agreement: both sides derive the same key.
  const auto ab = shared_key::derive(b.public_key_bytes, a.secret);
  const auto ba = shared_key::derive(a.public_key_bytes, b.secret);
  REQUIRE(ab.has_value());
  REQUIRE(ba.has_value());
  CHECK(same_bytes(ab->data(), ba->data(), 32));
}

TEST_CASE("secret bytes are wiped when moved from or wiped") {
  secret_key a = secret_from(alicesk);
  secret_key b = std::move(a);
  CHECK(same_bytes(b.data(), alicesk.data(), 32));
  const std::array<std::uint8_t, 32> zeros{};
  CHECK(same_bytes(a.data(), zeros.data(), 32));  // NOLINT(bugprone-use-after-move): that is the point
  secret_key c;
  c = std::move(b);
  CHECK(same_bytes(c.data(), alicesk.data(), 32));
  CHECK(same_bytes(b.data(), zeros.data(), 32));  // NOLINT(bugprone-use-after-move)
  c.wipe();
  CHECK(same_bytes(c.data(), zeros.data(), 32));
}

TEST_CASE("shared_key::from_bytes wraps raw bytes") {
  const auto key = shared_key::from_bytes(std::span<const std::uint8_t, 32>(firstkey));
  CHECK(same_bytes(key.data(), firstkey.data(), 32));
}

TEST_CASE("random_bytes fills its output") {
  std::array<std::uint8_t, 32> a{}, b{};
  natter::crypto::random_bytes(a);
  natter::crypto::random_bytes(b);
  CHECK(a != b);
  CHECK(a != std::array<std::uint8_t, 32>{});
}

TEST_CASE("to_hex writes lowercase hex") {
  const std::vector<std::uint8_t> data{0x00, 0x0f, 0xa0, 0xff, 0x5c};
  CHECK(natter::crypto::to_hex(data) == "000fa0ff5c");
  CHECK(natter::crypto::to_hex(std::span<const std::uint8_t>{}) == "");
  CHECK(natter::crypto::to_hex(alicepk) == natter::test::hex_of(alicepk));
}

TEST_CASE("public_key_from_hex reads exactly 64 hex digits") {
  const std::string hex = natter::test::hex_of(bobpk);
  CHECK(hex == "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
  const auto parsed = natter::crypto::public_key_from_hex(hex);
  REQUIRE(parsed.has_value());
  CHECK(*parsed == bobpk);
  CHECK(natter::crypto::public_key_from_hex(natter::crypto::to_hex(alicepk)) == alicepk);

  CHECK_FALSE(natter::crypto::public_key_from_hex(hex.substr(0, 63)).has_value());
  CHECK_FALSE(natter::crypto::public_key_from_hex(hex + "0").has_value());
  CHECK_FALSE(natter::crypto::public_key_from_hex(hex + "00").has_value());
  CHECK_FALSE(natter::crypto::public_key_from_hex("").has_value());
  std::string bad = hex;
  bad[10] = 'g';
  CHECK_FALSE(natter::crypto::public_key_from_hex(bad).has_value());
  bad = hex;
  bad[10] = ' ';
  CHECK_FALSE(natter::crypto::public_key_from_hex(bad).has_value());
}
