// The server's cache of long-term shared keys (crypto/shared_key_cache.hpp), alone and inside
// the handshake.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "natter/crypto/handshake.hpp"
#include "natter/crypto/keys.hpp"
#include "natter/crypto/shared_key_cache.hpp"
#include "test_support.hpp"
#include "../key_recorder.hpp"

using natter::crypto::handshake;
using natter::crypto::key_pair;
using natter::crypto::public_key;
using natter::crypto::role;
using natter::crypto::shared_key;
using natter::crypto::shared_key_cache;
using state = natter::crypto::handshake::state;

namespace {

bool same_key(const shared_key& a, const shared_key& b) {
  return std::memcmp(a.data(), b.data(), natter::crypto::key_size) == 0;
}

// What libsodium itself derives, without the cache.
shared_key expected(const key_pair& server, const key_pair& client) {
  auto key = shared_key::derive(client.public_key_bytes, server.secret);
  REQUIRE(key);
  return std::move(*key);
}

// Runs a whole handshake of `client` with a server using `cache`; returns the server's state.
state connect(const key_pair& server_id, shared_key_cache& cache, const key_pair& client_id,
              bool tamper_key_exchange = false) {
  natter::testing::key_recorder server_key, client_key;
  handshake server{role::server, server_id, &cache, &server_key};
  handshake client{role::client, client_id, nullptr, &client_key};
  const auto hello = server.start();
  REQUIRE(client.on_frame(hello.at(0)).empty());
  auto opening = client.accept_peer_key();
  const auto server_kx = server.on_frame(opening.at(0));
  REQUIRE(server_kx.size() == 1);
  if (tamper_key_exchange) opening.at(1).back() ^= 0x01;
  CHECK(server.on_frame(opening.at(1)).empty());
  if (server.current() != state::established) return server.current();
  CHECK(client.on_frame(server_kx[0]).empty());
  REQUIRE(client.current() == state::established);
  REQUIRE(server_key.key.has_value());
  CHECK(client_key.same_key_as(server_key.key->data()));
  return server.current();
}

}  // namespace

TEST_CASE("shared key cache: a miss derives, a remembered key is a hit with the same bytes") {
  const auto server = key_pair::generate();
  const auto client = key_pair::generate();
  shared_key_cache cache(server, 8);

  auto first = cache.derive(client.public_key_bytes);
  REQUIRE(first);
  CHECK(same_key(*first, expected(server, client)));
  CHECK(cache.stats().misses == 1);
  CHECK(cache.stats().entries == 0);  // derive() alone does not remember

  cache.remember(client.public_key_bytes, *first);
  auto second = cache.derive(client.public_key_bytes);
  REQUIRE(second);
  CHECK(same_key(*second, expected(server, client)));
  CHECK(cache.stats().hits == 1);
  CHECK(cache.stats().entries == 1);
  cache.remember(client.public_key_bytes, *second);  // remembering twice keeps one entry
  CHECK(cache.stats().entries == 1);
}

TEST_CASE("shared key cache: bounded, least recently used entry goes first") {
  const auto server = key_pair::generate();
  std::vector<key_pair> clients;
  for (int i = 0; i < 3; ++i) clients.push_back(key_pair::generate());
  shared_key_cache cache(server, 2);
  cache.remember(clients[0].public_key_bytes, expected(server, clients[0]));
  cache.remember(clients[1].public_key_bytes, expected(server, clients[1]));
  REQUIRE(cache.derive(clients[0].public_key_bytes));  // 0 is now more recent than 1
  CHECK(cache.stats().hits == 1);
  cache.remember(clients[2].public_key_bytes, expected(server, clients[2]));  // evicts 1
  CHECK(cache.stats().entries == 2);

  const auto before = cache.stats();
  auto k1 = cache.derive(clients[1].public_key_bytes);
  CHECK(cache.stats().misses == before.misses + 1);
  auto k0 = cache.derive(clients[0].public_key_bytes);
  auto k2 = cache.derive(clients[2].public_key_bytes);
  CHECK(cache.stats().hits == before.hits + 2);
  REQUIRE(k0);
  REQUIRE(k1);
  REQUIRE(k2);
  CHECK(same_key(*k0, expected(server, clients[0])));
  CHECK(same_key(*k1, expected(server, clients[1])));  // a miss still gives the right key
  CHECK(same_key(*k2, expected(server, clients[2])));
}

TEST_CASE("shared key cache: capacity 0 never remembers; refused points are refused") {
  const auto server = key_pair::generate();
  const auto client = key_pair::generate();
  shared_key_cache off(server, 0);
  off.remember(client.public_key_bytes, expected(server, client));
  CHECK(off.derive(client.public_key_bytes));
  CHECK(off.stats().entries == 0);
  CHECK(off.stats().hits == 0);

  shared_key_cache cache(server, 4);
  const public_key zero{};
  CHECK_FALSE(cache.derive(zero));  // libsodium refuses the all-zero point
  CHECK(cache.stats().entries == 0);
}

TEST_CASE("handshake with a cache: returning clients hit, failed key exchanges are not remembered") {
  const auto server = key_pair::generate();
  const auto alice = key_pair::generate();
  const auto mallory = key_pair::generate();
  shared_key_cache cache(server, 16);

  CHECK(connect(server, cache, alice) == state::established);
  CHECK(cache.stats().misses == 1);
  CHECK(cache.stats().entries == 1);
  CHECK(connect(server, cache, alice) == state::established);  // the same key, from the cache
  CHECK(cache.stats().hits == 1);

  // A key exchange whose MAC fails proves nothing about the sender: not remembered.
  CHECK(connect(server, cache, mallory, true) == state::failed);
  CHECK(cache.stats().entries == 1);
  CHECK(connect(server, cache, mallory) == state::established);
  CHECK(cache.stats().entries == 2);
}

TEST_CASE("handshake refuses a cache made for another identity") {
  const auto server = key_pair::generate();
  const auto other = key_pair::generate();
  shared_key_cache cache(other, 4);
  CHECK_THROWS_AS(handshake(role::server, server, &cache), std::logic_error);
}
