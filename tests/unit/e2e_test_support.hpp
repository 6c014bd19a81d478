#pragma once
// Helpers shared by the end-to-end tests: identities from fixed seeds, a fixed server key, a
// fixed clock, and a pairwise session pair set up honestly between alice and bob.
#include <doctest/doctest.h>

#include <chrono>
#include <utility>

#include "natter/crypto/e2e_pairwise_session.hpp"
#include "noise_test_support.hpp"

namespace natter::test {

namespace e2e = natter::crypto::e2e;

inline crypto::identity_v2 identity_filled(std::uint8_t fill) { return crypto::identity_v2::from_seed(secret_filled(fill)); }

inline e2e::party party_of(const crypto::identity_v2& id, std::string name) { return {std::move(name), id.public_key()}; }

inline const crypto::public_key server_key = pair_filled(0x5e).public_key_bytes;

inline const e2e::clock::time_point t0{};

struct e2e_pair {
  crypto::identity_v2 alice = identity_filled(0xa1);
  crypto::identity_v2 bob = identity_filled(0xb0);

  [[nodiscard]] e2e::pairwise_setup setup_of(const crypto::identity_v2& own, std::string own_name,
                                             const crypto::identity_v2& peer, std::string peer_name) const {
    auto setup = e2e::pairwise_setup::create(own, std::move(own_name), party_of(peer, std::move(peer_name)), server_key);
    REQUIRE(setup.has_value());
    return std::move(*setup);
  }
  [[nodiscard]] e2e::pairwise_setup alice_setup() const { return setup_of(alice, "alice", bob, "bob"); }
  [[nodiscard]] e2e::pairwise_setup bob_setup() const { return setup_of(bob, "bob", alice, "alice"); }

  // alice initiates, bob responds: (alice's session, bob's session).
  [[nodiscard]] std::pair<e2e::pairwise_session, e2e::pairwise_session> sessions() const {
    auto a = alice_setup();
    auto b = bob_setup();
    const auto init = a.start();
    REQUIRE(init.has_value());
    auto reply = b.receive(*init);
    REQUIRE(reply.status == e2e::pairwise_setup::setup_status::reply);
    REQUIRE(a.receive(*reply.reply).status == e2e::pairwise_setup::setup_status::established);
    auto sa = a.take_session();
    auto sb = b.take_session();
    REQUIRE(sa.has_value());
    REQUIRE(sb.has_value());
    return {std::move(*sa), std::move(*sb)};
  }
};

}  // namespace natter::test
