// The rate limit per identity (server/…/rate_book.hpp): one bucket per identity key, shared by
// its connections, remembered for the last `capacity` identities to join.
#include "natter/server/rate_book.hpp"

#include <doctest/doctest.h>

using natter::crypto::ed25519_public_key;
using natter::server::rate_book;

namespace {
ed25519_public_key key(std::uint8_t n) {
  ed25519_public_key k{};
  k.bytes.fill(n);
  return k;
}
}  // namespace

TEST_CASE("an identity's connections share one bucket; another identity has its own") {
  rate_book book(1, 2);
  auto first = book.bucket_for(key(1));
  auto second = book.bucket_for(key(1));  // a reconnect, or a second name of the same key
  CHECK(first == second);
  CHECK(first->allow(1000));
  CHECK(second->allow(1000));
  CHECK_FALSE(first->allow(1000));  // burst 2, spent across both
  CHECK(book.bucket_for(key(2))->allow(1000));
  CHECK(second->allow(2000));  // a second later: one token back
}

TEST_CASE("the book is bounded: the least recently joined identity is forgotten first") {
  rate_book book(1, 1, 2);
  auto a = book.bucket_for(key(1));
  CHECK(a->allow(1000));
  (void)book.bucket_for(key(2));
  (void)book.bucket_for(key(1));  // joined again: now the most recent
  (void)book.bucket_for(key(3));  // evicts key 2, not key 1
  CHECK(book.size() == 2);
  CHECK(book.bucket_for(key(1)) == a);
  CHECK_FALSE(book.bucket_for(key(1))->allow(1000));  // still spent
  // A connection keeps its bucket even when the book forgets it.
  (void)book.bucket_for(key(4));
  (void)book.bucket_for(key(5));
  CHECK_FALSE(a->allow(1000));
  CHECK(book.bucket_for(key(1)) != a);  // forgotten: a fresh, full bucket (after `capacity` others)
}

TEST_CASE("rate 0 means no limit") {
  rate_book book(0, 0);
  auto b = book.bucket_for(key(9));
  for (int i = 0; i < 1000; ++i) REQUIRE(b->allow(1000));
}
