// The end-to-end chains (e2e_chain), the padded AEAD (e2e_aead) and the byte formats (e2e_wire).
#include <doctest/doctest.h>

#include <cstring>
#include <map>

#include "natter/crypto/e2e_aead.hpp"
#include "natter/crypto/e2e_chain.hpp"
#include "natter/crypto/e2e_wire.hpp"
#include "noise_test_support.hpp"

using natter::test::secret_filled;
namespace e2e = natter::crypto::e2e;

namespace {

bool same(const natter::crypto::secret_key& a, const natter::crypto::secret_key& b) {
  return std::memcmp(a.data(), b.data(), a.size()) == 0;
}

// The sender's message keys 0..count-1, for a receiver to be checked against.
std::map<std::uint32_t, natter::crypto::secret_key> sender_keys(std::uint32_t count, std::uint8_t fill = 0x42) {
  e2e::chain_key chain(secret_filled(fill), 0, e2e::chain_kind::pairwise);
  std::map<std::uint32_t, natter::crypto::secret_key> keys;
  for (std::uint32_t i = 0; i < count; ++i) {
    auto mk = chain.step();
    REQUIRE(mk.has_value());
    keys.emplace(mk->n, std::move(mk->key));
  }
  return keys;
}

// A receiver's `open`: accepts exactly the sender's key for message n.
auto opener(const std::map<std::uint32_t, natter::crypto::secret_key>& keys, std::uint32_t n) {
  return [&keys, n](const natter::crypto::secret_key& candidate) { return same(candidate, keys.at(n)); };
}

const e2e::clock::time_point t0{};

}  // namespace

TEST_CASE("e2e chain: each step gives a fresh message key and a new chain key, the old one gone") {
  e2e::chain_key chain(secret_filled(0x42), 0, e2e::chain_kind::pairwise);
  const auto ck0 = e2e::copy_of(chain.key());
  auto mk0 = chain.step();
  REQUIRE(mk0.has_value());
  CHECK(mk0->n == 0);
  CHECK(chain.index() == 1);
  CHECK_FALSE(same(mk0->key, ck0));
  CHECK_FALSE(same(chain.key(), ck0));
  CHECK_FALSE(same(chain.key(), mk0->key));
  auto mk1 = chain.step();
  CHECK_FALSE(same(mk1->key, mk0->key));

  // The two uses are domain-separated: the same chain key gives other keys as a sender key.
  e2e::chain_key other(secret_filled(0x42), 0, e2e::chain_kind::sender_key);
  CHECK_FALSE(same(other.step()->key, mk0->key));
  CHECK(e2e::kdf_context(e2e::chain_kind::pairwise).size() == e2e::kdf_context_size);
  CHECK(e2e::kdf_context(e2e::chain_kind::sender_key).size() == e2e::kdf_context_size);
}

TEST_CASE("e2e chain: a chain at the last index refuses to step") {
  e2e::chain_key chain(secret_filled(1), e2e::last_chain_index, e2e::chain_kind::pairwise);
  CHECK(chain.step().has_value());
  CHECK_FALSE(chain.step().has_value());
  CHECK(chain.index() == e2e::last_chain_index + 1);
}

TEST_CASE("e2e receive chain: in order, reordered, duplicates, gaps, forgeries") {
  const auto keys = sender_keys(2100);
  e2e::receive_chain chain(e2e::chain_key(secret_filled(0x42), 0, e2e::chain_kind::pairwise));

  SUBCASE("in order, then every replay refused") {
    for (std::uint32_t n = 0; n < 5; ++n) CHECK(chain.receive(n, t0, opener(keys, n)) == e2e::receive_status::ok);
    for (std::uint32_t n = 0; n < 5; ++n) CHECK(chain.receive(n, t0, opener(keys, n)) == e2e::receive_status::duplicate);
    CHECK(chain.outstanding().empty());
  }
  SUBCASE("reordered within the window; the gap is reported until filled") {
    CHECK(chain.receive(3, t0, opener(keys, 3)) == e2e::receive_status::ok);
    CHECK(chain.outstanding() == std::vector<std::uint32_t>{0, 1, 2});
    CHECK(chain.receive(1, t0, opener(keys, 1)) == e2e::receive_status::ok);
    CHECK(chain.receive(1, t0, opener(keys, 1)) == e2e::receive_status::duplicate);
    CHECK(chain.outstanding() == std::vector<std::uint32_t>{0, 2});
    CHECK(chain.receive(0, t0, opener(keys, 0)) == e2e::receive_status::ok);
    CHECK(chain.receive(2, t0, opener(keys, 2)) == e2e::receive_status::ok);
    CHECK(chain.outstanding().empty());
    CHECK(chain.take_lost().empty());
  }
  SUBCASE("a forged message changes nothing: no skip, no key burnt") {
    CHECK(chain.receive(5, t0, [](const auto&) { return false; }) == e2e::receive_status::auth_failed);
    CHECK(chain.next_index() == 0);
    CHECK(chain.outstanding().empty());
    CHECK(chain.receive(7, t0, opener(keys, 7)) == e2e::receive_status::ok);
    CHECK(chain.receive(4, t0, [](const auto&) { return false; }) == e2e::receive_status::auth_failed);
    CHECK(chain.receive(4, t0, opener(keys, 4)) == e2e::receive_status::ok);  // the real one still opens
  }
  SUBCASE("no further than max_skip_ahead") {
    CHECK(chain.receive(e2e::max_skip_ahead + 1, t0, opener(keys, e2e::max_skip_ahead + 1)) ==
          e2e::receive_status::too_far_ahead);
    CHECK(chain.next_index() == 0);
    CHECK(chain.receive(e2e::max_skip_ahead, t0, opener(keys, e2e::max_skip_ahead)) == e2e::receive_status::ok);
    CHECK(chain.outstanding().size() == e2e::max_skip_ahead);
  }
  SUBCASE("the store is bounded: the oldest skipped keys are given up and reported lost") {
    CHECK(chain.receive(1000, t0, opener(keys, 1000)) == e2e::receive_status::ok);  // skips 0..999
    CHECK(chain.receive(1010, t0, opener(keys, 1010)) == e2e::receive_status::ok);  // 9 more: 1009 > 1000
    CHECK(chain.outstanding().size() == e2e::max_skipped_keys);
    const auto lost = chain.take_lost();
    CHECK(lost == std::vector<std::uint32_t>{0, 1, 2, 3, 4, 5, 6, 7, 8});
    CHECK(chain.take_lost().empty());
    CHECK(chain.receive(0, t0, opener(keys, 0)) == e2e::receive_status::duplicate);  // its key is gone
    CHECK(chain.receive(9, t0, opener(keys, 9)) == e2e::receive_status::ok);
  }
  SUBCASE("expiry turns a gap into 'did not arrive'") {
    using namespace std::chrono_literals;
    CHECK(chain.receive(2, t0, opener(keys, 2)) == e2e::receive_status::ok);       // 0, 1 skipped at t0
    CHECK(chain.receive(4, t0 + 50s, opener(keys, 4)) == e2e::receive_status::ok);  // 3 skipped at t0+50s
    chain.expire(t0 + 60s, 60s);
    CHECK(chain.take_lost() == std::vector<std::uint32_t>{0, 1});
    CHECK(chain.outstanding() == std::vector<std::uint32_t>{3});
    CHECK(chain.receive(1, t0 + 61s, opener(keys, 1)) == e2e::receive_status::duplicate);
    CHECK(chain.receive(3, t0 + 61s, opener(keys, 3)) == e2e::receive_status::ok);
  }
}

TEST_CASE("e2e aead: padded to 64-byte blocks, authenticated with its header, tamper-evident") {
  const auto mk = secret_filled(7);
  const auto nonce = e2e::random_nonce();
  const auto ad = natter::test::to_bytes("header");
  const std::vector<std::uint8_t> text(200, 'x');
  const auto sealed = e2e::seal(mk, nonce, ad, text);
  REQUIRE(sealed.has_value());
  CHECK(sealed->size() == 256 + 16);
  CHECK(e2e::sealed_size(0) == 64 + 16);
  CHECK(e2e::sealed_size(63) == 64 + 16);
  CHECK(e2e::sealed_size(64) == 128 + 16);
  CHECK(e2e::open(mk, nonce, ad, *sealed) == text);

  auto flipped = *sealed;
  flipped.back() ^= 1;
  CHECK_FALSE(e2e::open(mk, nonce, ad, flipped).has_value());
  CHECK_FALSE(e2e::open(mk, nonce, natter::test::to_bytes("headeR"), *sealed).has_value());
  CHECK_FALSE(e2e::open(secret_filled(8), nonce, ad, *sealed).has_value());
  CHECK_FALSE(e2e::seal(mk, nonce, ad, std::vector<std::uint8_t>(e2e::max_plaintext_size + 1)).has_value());
  CHECK(e2e::seal(mk, nonce, ad, std::vector<std::uint8_t>(e2e::max_plaintext_size)).has_value());
}

TEST_CASE("e2e wire: every format round-trips and refuses truncation, trailing bytes, bad versions") {
  SUBCASE("pairwise body") {
    const e2e::pairwise_header header{{1, 2, 3, 4, 5, 6, 7, 8}, 0x01020304};
    auto body = e2e::write_pairwise_header(header);
    CHECK(body.size() == e2e::pairwise_header_size);
    body.resize(body.size() + e2e::aead_nonce_size + 64 + 16, 0xee);
    const auto view = e2e::parse_pairwise_body(body);
    REQUIRE(view.has_value());
    CHECK(view->header.id == header.id);
    CHECK(view->header.n == header.n);
    CHECK(view->header_bytes.size() == e2e::pairwise_header_size);
    CHECK(view->ciphertext.size() == 80);
    body.push_back(0);  // not whole blocks any more
    CHECK_FALSE(e2e::parse_pairwise_body(body).has_value());
    body.resize(body.size() - 2);
    CHECK_FALSE(e2e::parse_pairwise_body(body).has_value());
    body.push_back(0xee);
    body[0] = 2;
    CHECK_FALSE(e2e::parse_pairwise_body(body).has_value());
  }
  SUBCASE("room message") {
    const e2e::room_header header{"lobby", 3, {9, 9, 9, 9, 9, 9, 9, 9}, 17};
    auto message = *e2e::write_room_header(header);
    CHECK(message.size() == 1 + 1 + 5 + 4 + 8 + 4);
    message.resize(message.size() + e2e::aead_nonce_size + 80 + 64, 0xcc);
    const auto view = e2e::parse_room_message(message);
    REQUIRE(view.has_value());
    CHECK(view->header.room == "lobby");
    CHECK(view->header.epoch == 3);
    CHECK(view->header.n == 17);
    CHECK(view->signed_bytes.size() == message.size() - 64);
    message.pop_back();
    CHECK_FALSE(e2e::parse_room_message(message).has_value());
    CHECK_FALSE(e2e::write_room_header({"", 0, {}, 0}).has_value());
    CHECK_FALSE(e2e::write_room_header({std::string(65, 'r'), 0, {}, 0}).has_value());
  }
  SUBCASE("distribution") {
    e2e::distribution d;
    d.room = "lobby";
    d.epoch = 2;
    d.chain_key = secret_filled(0x33);
    d.iteration = 5;
    d.signing_key.bytes.fill(0x44);
    auto wire = *e2e::write_distribution(d);
    CHECK(wire.size() == 1 + 1 + 5 + 4 + 32 + 4 + 32);
    const auto back = e2e::parse_distribution(wire);
    REQUIRE(back.has_value());
    CHECK(back->room == "lobby");
    CHECK(back->epoch == 2);
    CHECK(same(back->chain_key, d.chain_key));
    CHECK(back->iteration == 5);
    CHECK(back->signing_key == d.signing_key);
    wire.push_back(0);
    CHECK_FALSE(e2e::parse_distribution(wire).has_value());
    wire.resize(wire.size() - 2);
    CHECK_FALSE(e2e::parse_distribution(wire).has_value());
  }
  SUBCASE("handshake message") {
    CHECK_FALSE(e2e::parse_handshake_message({}).has_value());
    const std::vector<std::uint8_t> bad = {3, 1, 2};
    CHECK_FALSE(e2e::parse_handshake_message(bad).has_value());
    const auto init = e2e::write_handshake_message(e2e::handshake_kind::init, bad);
    const auto view = e2e::parse_handshake_message(init);
    REQUIRE(view.has_value());
    CHECK(view->kind == e2e::handshake_kind::init);
    CHECK(view->noise_message.size() == 3);
  }
}
