// Identity v2 (docs/PROTOCOL.md §6): Ed25519 seed → Ed25519 key pair and its X25519 form.
#include <doctest/doctest.h>

#include <sodium.h>

#include <algorithm>
#include <string>
#include <vector>

#include "natter/crypto/identity_v2.hpp"
#include "test_support.hpp"

using natter::crypto::ed25519_public_key;
using natter::crypto::identity_v2;
using natter::crypto::secret_bytes;
using natter::test::hex_of;

namespace {

secret_bytes seed_from_hex(const std::string& hex) {
  secret_bytes seed;
  REQUIRE(hex.size() == 64);
  for (std::size_t i = 0; i < 32; ++i) seed.data()[i] = static_cast<std::uint8_t>(std::stoul(hex.substr(2 * i, 2), nullptr, 16));
  return seed;
}

ed25519_public_key ed_key_from_hex(const std::string& hex) {
  const auto key = natter::crypto::ed25519_public_key_from_hex(hex);
  REQUIRE(key.has_value());
  return *key;
}

// RFC 8032 §7.1, TEST 1 and TEST 2: secret key (the seed), public key, message, signature.
struct rfc8032_case {
  std::string seed, public_key, message, signature;
  // The X25519 form, computed independently (Python: the birational map u = (1+y)/(1-y) of the
  // public key, and the clamped first half of SHA-512(seed) for the secret).
  std::string x25519_public, x25519_secret;
};

const std::vector<rfc8032_case> rfc8032 = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b",
     "d85e07ec22b0ad881537c2f44d662d1a143cf830c57aca4305d85c7a90f6b62e",
     "307c83864f2833cb427a2ef1c00a013cfdff2768d980c0a3a520f006904de94f"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "\x72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
     "25c704c594b88afc00a76b69d1ed2b984d7e22550f3ed0802d04fbcd07d38d47",
     "68bd9ed75882d52815a97585caf4790a7f6c6b3b7f821c5e259a24b02e502e51"},
};

std::string secret_hex(const natter::crypto::key_pair& pair) {
  return hex_of(std::span<const std::uint8_t>(pair.secret.data(), pair.secret.size()));
}

}  // namespace

TEST_CASE("identity v2: RFC 8032 seeds give the published Ed25519 keys, signatures and X25519 forms") {
  for (const auto& c : rfc8032) {
    CAPTURE(c.seed);
    const auto id = identity_v2::from_seed(seed_from_hex(c.seed));
    CHECK(hex_of(id.public_key().bytes) == c.public_key);
    CHECK(natter::crypto::to_hex(id.public_key()) == c.public_key);
    CHECK(hex_of(id.sign(natter::test::to_bytes(c.message))) == c.signature);
    CHECK(hex_of(id.x25519().public_key_bytes) == c.x25519_public);
    CHECK(secret_hex(id.x25519()) == c.x25519_secret);
    CHECK(hex_of(std::span<const std::uint8_t>(id.seed().data(), id.seed().size())) == c.seed);
  }
}

TEST_CASE("identity v2: the same seed gives the same keys every time, another seed others") {
  const auto first = identity_v2::generate();
  secret_bytes copy;
  std::copy_n(first.seed().data(), 32, copy.data());
  const auto again = identity_v2::from_seed(std::move(copy));
  CHECK(again.public_key() == first.public_key());
  CHECK(again.x25519().public_key_bytes == first.x25519().public_key_bytes);
  CHECK(secret_hex(again.x25519()) == secret_hex(first.x25519()));
  CHECK(again.sign(natter::test::to_bytes("hello")) == first.sign(natter::test::to_bytes("hello")));

  const auto other = identity_v2::generate();
  CHECK(other.public_key() != first.public_key());
  CHECK(other.x25519().public_key_bytes != first.x25519().public_key_bytes);
  // The Ed25519 key and its X25519 form are different bytes (a store must not mix them up).
  CHECK(first.public_key().bytes != first.x25519().public_key_bytes);
}

TEST_CASE("identity v2: the derived X25519 pair agrees with x25519_of(public key) and does DH") {
  for (int i = 0; i < 32; ++i) {
    const auto id = identity_v2::generate();
    const auto converted = natter::crypto::x25519_of(id.public_key());
    REQUIRE(converted.has_value());
    CHECK(*converted == id.x25519().public_key_bytes);
  }
  // Two identities' X25519 keys agree on a shared key, as Noise's DH needs.
  const auto alice = identity_v2::generate();
  const auto bob = identity_v2::generate();
  const auto ab = natter::crypto::shared_key::derive(bob.x25519().public_key_bytes, alice.x25519().secret);
  const auto ba = natter::crypto::shared_key::derive(alice.x25519().public_key_bytes, bob.x25519().secret);
  REQUIRE(ab.has_value());
  REQUIRE(ba.has_value());
  CHECK(std::equal(ab->data(), ab->data() + 32, ba->data()));
}

TEST_CASE("identity v2: x25519_of refuses keys libsodium refuses") {
  ed25519_public_key zero{};  // y = 0: a point of order 4
  CHECK_FALSE(natter::crypto::x25519_of(zero).has_value());
  ed25519_public_key neutral{};  // y = 1: the neutral element
  neutral.bytes[0] = 1;
  CHECK_FALSE(natter::crypto::x25519_of(neutral).has_value());
  // y = p - 1 = -1: the point of order 2.
  const auto minus_one = ed_key_from_hex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
  CHECK_FALSE(natter::crypto::x25519_of(minus_one).has_value());
}

TEST_CASE("identity v2: sign and verify round trip, and a flipped message or signature bit or another key fails") {
  const auto id = identity_v2::generate();
  const auto message = natter::test::to_bytes("natter/2 migrate alice");
  const auto sig = id.sign(message);
  REQUIRE(natter::crypto::verify(id.public_key(), message, sig));

  for (std::size_t bit = 0; bit < message.size() * 8; ++bit) {
    auto changed = message;
    changed[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    CHECK_FALSE(natter::crypto::verify(id.public_key(), changed, sig));
  }
  for (std::size_t bit = 0; bit < sig.size() * 8; ++bit) {
    auto changed = sig;
    changed[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    CHECK_FALSE(natter::crypto::verify(id.public_key(), message, changed));
  }
  auto longer = message;
  longer.push_back(0);
  CHECK_FALSE(natter::crypto::verify(id.public_key(), longer, sig));
  CHECK_FALSE(natter::crypto::verify(identity_v2::generate().public_key(), message, sig));
  CHECK_FALSE(natter::crypto::verify(ed25519_public_key{}, message, sig));
}

TEST_CASE("identity v2: an Ed25519 public key's hex round-trips and bad hex is refused") {
  const auto id = identity_v2::generate();
  CHECK(ed_key_from_hex(natter::crypto::to_hex(id.public_key())) == id.public_key());
  CHECK_FALSE(natter::crypto::ed25519_public_key_from_hex("").has_value());
  CHECK_FALSE(natter::crypto::ed25519_public_key_from_hex(std::string(63, 'a')).has_value());
  CHECK_FALSE(natter::crypto::ed25519_public_key_from_hex(std::string(65, 'a')).has_value());
  CHECK_FALSE(natter::crypto::ed25519_public_key_from_hex(std::string(62, 'a') + "zz").has_value());
}
