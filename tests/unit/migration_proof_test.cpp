// The v1 -> v2 migration proof (docs/PROTOCOL.md §6): nonce ‖ crypto_box_easy(h) under the v1
// secret and the server's static key.
#include <doctest/doctest.h>

#include <sodium.h>

#include <array>
#include <vector>

#include "natter/crypto/migration_proof.hpp"
#include "test_support.hpp"

using natter::crypto::check_migration_proof;
using natter::crypto::key_pair;
using natter::crypto::make_migration_proof;
using natter::crypto::migration_proof_size;

namespace {

using hash = std::array<std::uint8_t, 32>;

hash random_hash() {
  hash h{};
  natter::crypto::random_bytes(h);
  return h;
}

// A proof the way a v1 client makes it for this server and handshake.
struct setup {
  key_pair v1 = key_pair::generate();
  key_pair server = key_pair::generate();
  hash h = random_hash();
  std::vector<std::uint8_t> proof;

  setup() {
    const auto made = make_migration_proof(v1, server.public_key_bytes, h);
    REQUIRE(made.has_value());
    proof.assign(made->begin(), made->end());
  }
};

}  // namespace

TEST_CASE("migration proof v2: a valid proof is accepted, and it is nonce ‖ crypto_box_easy(h)") {
  const setup s;
  REQUIRE(s.proof.size() == 72);
  CHECK(check_migration_proof(s.proof, s.v1.public_key_bytes, s.server, s.h));

  // The layout, opened with libsodium directly: the first 24 bytes are the nonce, the rest the
  // box of h from the v1 key to the server's key.
  std::array<std::uint8_t, 32> opened{};
  REQUIRE(crypto_box_open_easy(opened.data(), s.proof.data() + 24, 48, s.proof.data(), s.v1.public_key_bytes.data(),
                               s.server.secret.data()) == 0);
  CHECK(opened == s.h);
}

TEST_CASE("migration proof v2: each proof has a fresh nonce") {
  const setup s;
  const auto other = make_migration_proof(s.v1, s.server.public_key_bytes, s.h);
  REQUIRE(other.has_value());
  CHECK(std::vector<std::uint8_t>(other->begin(), other->end()) != s.proof);
  CHECK_FALSE(std::equal(other->begin(), other->begin() + 24, s.proof.begin()));
  CHECK(check_migration_proof(*other, s.v1.public_key_bytes, s.server, s.h));
}

TEST_CASE("migration proof v2: refused for another handshake hash, server key or v1 key") {
  const setup s;
  SUBCASE("another handshake") {
    CHECK_FALSE(check_migration_proof(s.proof, s.v1.public_key_bytes, s.server, random_hash()));
    hash close = s.h;
    close[31] ^= 1;
    CHECK_FALSE(check_migration_proof(s.proof, s.v1.public_key_bytes, s.server, close));
  }
  SUBCASE("another server") {
    const auto other_server = key_pair::generate();
    CHECK_FALSE(check_migration_proof(s.proof, s.v1.public_key_bytes, other_server, s.h));
  }
  SUBCASE("another v1 key") {
    const auto other_v1 = key_pair::generate();
    CHECK_FALSE(check_migration_proof(s.proof, other_v1.public_key_bytes, s.server, s.h));
    // A proof the other key made for this very handshake does not speak for the first key.
    const auto theirs = make_migration_proof(other_v1, s.server.public_key_bytes, s.h);
    REQUIRE(theirs.has_value());
    CHECK_FALSE(check_migration_proof(*theirs, s.v1.public_key_bytes, s.server, s.h));
    CHECK(check_migration_proof(*theirs, other_v1.public_key_bytes, s.server, s.h));
  }
}

TEST_CASE("migration proof v2: any flipped bit is refused") {
  const setup s;
  for (std::size_t bit = 0; bit < s.proof.size() * 8; ++bit) {
    auto changed = s.proof;
    changed[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    CAPTURE(bit);
    CHECK_FALSE(check_migration_proof(changed, s.v1.public_key_bytes, s.server, s.h));
  }
}

TEST_CASE("migration proof v2: wrong lengths and refused keys are false, not accepted") {
  const setup s;
  CHECK_FALSE(check_migration_proof({}, s.v1.public_key_bytes, s.server, s.h));
  CHECK_FALSE(check_migration_proof(std::span(s.proof).first(71), s.v1.public_key_bytes, s.server, s.h));
  auto longer = s.proof;
  longer.push_back(0);
  CHECK_FALSE(check_migration_proof(longer, s.v1.public_key_bytes, s.server, s.h));
  // An all-zero v1 key (no shared key) can neither make nor pass a proof.
  CHECK_FALSE(check_migration_proof(s.proof, natter::crypto::public_key{}, s.server, s.h));
  CHECK_FALSE(make_migration_proof(s.v1, natter::crypto::public_key{}, s.h).has_value());
  CHECK(migration_proof_size == 72);
}
