// Long-lived secrets in libsodium's guarded heap (crypto/guarded.hpp).
#include "natter/crypto/guarded.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdint>

#include "natter/crypto/identity_v2.hpp"
#include "natter/crypto/keys.hpp"

namespace {
struct counted {
  static inline int alive = 0;
  std::uint8_t bytes[40] = {};
  explicit counted(std::uint8_t fill) {
    for (auto& b : bytes) b = fill;
    ++alive;
  }
  ~counted() { --alive; }
};
}  // namespace

TEST_CASE("a guarded object is built in sodium_malloc'd pages, ending at a guard page, and destroyed once") {
  natter::crypto::init_sodium();
  {
    const natter::crypto::guarded<counted> g(std::uint8_t{7});
    CHECK(counted::alive == 1);
    CHECK(g->bytes[39] == 7);
    // sodium_malloc places the object so that it ends where the guard page begins.
    const auto end = reinterpret_cast<std::uintptr_t>(&*g) + sizeof(counted);
    CHECK(end % static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE)) == 0);
  }
  CHECK(counted::alive == 0);
}

TEST_CASE("an identity moved into guarded memory keeps its keys") {
  natter::crypto::init_sodium();
  auto fresh = natter::crypto::identity_v2::generate();
  const auto public_key = fresh.public_key();
  const natter::crypto::guarded<natter::crypto::identity_v2> g(std::move(fresh));
  CHECK(g->public_key() == public_key);
  CHECK(natter::crypto::x25519_of(g->public_key()) == g->x25519().public_key_bytes);
}
