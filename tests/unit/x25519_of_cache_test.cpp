// Remembered X25519 forms of identity keys (crypto/x25519_of_cache.hpp): the same answers as
// x25519_of, refusals included, within a bounded memory.
#include "natter/crypto/x25519_of_cache.hpp"

#include <doctest/doctest.h>

#include <vector>

using natter::crypto::ed25519_public_key;
using natter::crypto::identity_v2;
using natter::crypto::x25519_of;
using natter::crypto::x25519_of_cache;

TEST_CASE("x25519_of_cache answers as x25519_of does, from memory the second time") {
  natter::crypto::init_sodium();
  x25519_of_cache cache(8);
  const auto id = identity_v2::generate();
  CHECK(cache.convert(id.public_key()) == id.x25519().public_key_bytes);
  CHECK(cache.hits() == 0);
  CHECK(cache.convert(id.public_key()) == id.x25519().public_key_bytes);
  CHECK(cache.hits() == 1);
  const ed25519_public_key not_a_point{};  // all zero: of small order, refused by libsodium
  CHECK_FALSE(x25519_of(not_a_point).has_value());
  CHECK_FALSE(cache.convert(not_a_point).has_value());
  CHECK_FALSE(cache.convert(not_a_point).has_value());  // a refusal is remembered as a refusal
  CHECK(cache.hits() == 2);
}

TEST_CASE("x25519_of_cache keeps at most its capacity, dropping the least recently used") {
  natter::crypto::init_sodium();
  x25519_of_cache cache(3);
  std::vector<identity_v2> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(identity_v2::generate());
  for (const auto& id : ids) (void)cache.convert(id.public_key());
  CHECK(cache.size() == 3);
  (void)cache.convert(ids[4].public_key());  // still there
  CHECK(cache.hits() == 1);
  (void)cache.convert(ids[0].public_key());  // dropped long ago: converted again, correctly
  CHECK(cache.hits() == 1);
  CHECK(cache.convert(ids[0].public_key()) == ids[0].x25519().public_key_bytes);
}
