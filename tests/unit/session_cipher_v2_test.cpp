// Protocol v2 session frames (docs/PROTOCOL.md §3, docs/PROTOCOL.md §3): one key per
// direction, strict counters, 128-byte padding, counter exhaustion, and every way a frame is refused.
#include <doctest/doctest.h>

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "natter/crypto/session_cipher_v2.hpp"
#include "natter/frame.hpp"
#include "test_support.hpp"

using natter::crypto::direction;
using natter::crypto::secret_key;
using natter::crypto::session_cipher_v2;
using open_status = session_cipher_v2::open_status;
using seal_status = session_cipher_v2::seal_status;

namespace {

using frame_bytes = std::vector<std::uint8_t>;
using raw_key = std::array<std::uint8_t, 32>;
constexpr std::uint64_t max_counter = std::numeric_limits<std::uint64_t>::max();

secret_key key_of(const raw_key& raw) {
  secret_key key;
  std::memcpy(key.data(), raw.data(), raw.size());
  return key;
}

// Two ends of one connection: k_c2s and k_s2c as Split() would give them (random, distinct).
struct cipher_pair {
  raw_key c2s{};
  raw_key s2c{};
  session_cipher_v2 client;
  session_cipher_v2 server;
};

cipher_pair make_ciphers(std::uint64_t client_sent = 0, std::uint64_t server_received = 0) {
  raw_key c2s{};
  raw_key s2c{};
  natter::crypto::random_bytes(c2s);
  natter::crypto::random_bytes(s2c);
  return {c2s, s2c,
          session_cipher_v2::resume(key_of(c2s), key_of(s2c), direction::client_to_server, client_sent, 0),
          session_cipher_v2::resume(key_of(s2c), key_of(c2s), direction::server_to_client, 0, server_received)};
}

// Seals one plaintext through append_sealed_frame and returns the body, after checking the
// length prefix by hand.
frame_bytes seal_body(session_cipher_v2& cipher, std::string_view plaintext) {
  REQUIRE_FALSE(cipher.exhausted());
  frame_bytes wire;
  natter::append_sealed_frame(cipher, plaintext, wire);
  REQUIRE(wire.size() >= 4);
  const std::size_t announced = (std::size_t{wire[0]} << 24) | (std::size_t{wire[1]} << 16) |
                                (std::size_t{wire[2]} << 8) | std::size_t{wire[3]};
  REQUIRE(announced == wire.size() - 4);
  return frame_bytes(wire.begin() + 4, wire.end());
}

// A body sealed with libsodium directly: the v2 nonce, but `plaintext` exactly as given (no
// padding added). For frames that authenticate yet break the padding rules.
frame_bytes raw_body(const raw_key& key, direction dir, std::uint64_t counter, const frame_bytes& plaintext) {
  const auto n = natter::crypto::session_nonce(dir, counter);
  frame_bytes body(n.begin(), n.end());
  body.resize(24 + 16 + plaintext.size());
  REQUIRE(crypto_box_easy_afternm(body.data() + 24, plaintext.data(), plaintext.size(), n.data(), key.data()) == 0);
  return body;
}

void check_refused(const session_cipher_v2::opened_frame& opened, open_status expected) {
  CHECK(opened.status == expected);
  CHECK(opened.plaintext.empty());
}

}  // namespace

TEST_CASE("session v2: frames round-trip in both directions, each under its own key") {
  auto p = make_ciphers();
  for (std::uint64_t i = 1; i <= 5; ++i) {
    const std::string up = "{\"type\":\"say\",\"text\":\"" + std::to_string(i) + "\"}";
    const auto opened_up = p.server.open(seal_body(p.client, up));
    CHECK(opened_up.status == open_status::ok);
    CHECK(opened_up.plaintext == up);
    CHECK(opened_up.counter == i);

    const std::string down(i * 100, 'd');
    const auto opened_down = p.client.open(seal_body(p.server, down));
    CHECK(opened_down.status == open_status::ok);
    CHECK(opened_down.plaintext == down);
  }
  CHECK(p.client.frames_sent() == 5);
  CHECK(p.server.frames_sent() == 5);
  CHECK(p.server.last_received_counter() == 5);
  CHECK(p.client.last_received_counter() == 5);
  CHECK(p.client.outgoing() == direction::client_to_server);
  CHECK(p.server.outgoing() == direction::server_to_client);

  SUBCASE("a c→s frame does not open under k_s2c") {
    // A server that (wrongly) opens with the key of its own direction.
    session_cipher_v2 confused(key_of(p.s2c), key_of(p.s2c), direction::server_to_client);
    const auto up = seal_body(p.client, "hello");
    check_refused(confused.open(up), open_status::bad_mac);
    CHECK(p.server.open(up).status == open_status::ok);
  }
  SUBCASE("an s→c frame does not open under k_c2s") {
    session_cipher_v2 confused(key_of(p.c2s), key_of(p.c2s), direction::client_to_server);
    const auto down = seal_body(p.server, "hello");
    check_refused(confused.open(down), open_status::bad_mac);
    CHECK(p.client.open(down).status == open_status::ok);
  }
}

TEST_CASE("session v2: the body is crypto_box_easy_afternm of the sodium_pad'ded plaintext under the v2 nonce") {
  auto p = make_ciphers();
  const std::string plaintext = "{\"type\":\"ping\"}";
  (void)seal_body(p.server, plaintext);              // counter 1
  const auto body = seal_body(p.server, plaintext);  // counter 2
  // Recomputed from the design text: nonce 2 ‖ 15 zeros ‖ u64 BE 2; plaintext ‖ 0x80 ‖ zeros to 128.
  std::array<std::uint8_t, 24> nonce{};
  nonce[0] = 0x02;
  nonce[23] = 0x02;
  frame_bytes padded(plaintext.begin(), plaintext.end());
  padded.push_back(0x80);
  padded.resize(128, 0x00);
  frame_bytes box(16 + padded.size());
  REQUIRE(crypto_box_easy_afternm(box.data(), padded.data(), padded.size(), nonce.data(), p.s2c.data()) == 0);
  REQUIRE(body.size() == 24 + 16 + 128);
  CHECK(std::equal(body.begin(), body.begin() + 24, nonce.begin()));
  CHECK(frame_bytes(body.begin() + 24, body.end()) == box);
}

TEST_CASE("session v2: from_split gives the client k_c2s (Noise's first key) and the server k_s2c") {
  raw_key first{};
  raw_key second{};
  natter::crypto::random_bytes(first);
  natter::crypto::random_bytes(second);
  const auto split = [&] {
    natter::crypto::noise::split_keys keys;
    std::memcpy(keys.initiator_to_responder.data(), first.data(), 32);
    std::memcpy(keys.responder_to_initiator.data(), second.data(), 32);
    return keys;
  };
  auto client = session_cipher_v2::from_split(split(), direction::client_to_server);
  auto server = session_cipher_v2::from_split(split(), direction::server_to_client);
  const auto up = seal_body(client, "up");
  const auto down = seal_body(server, "down");
  // Independently: the client's frame opens under the first key, the server's under the second.
  session_cipher_v2 by_first(key_of(second), key_of(first), direction::server_to_client);
  session_cipher_v2 by_second(key_of(first), key_of(second), direction::client_to_server);
  CHECK(by_first.open(up).plaintext == "up");
  CHECK(by_second.open(down).plaintext == "down");
  CHECK(server.open(up).plaintext == "up");
  CHECK(client.open(down).plaintext == "down");
}

TEST_CASE("session v2: nonces carry the direction, 15 zero bytes and a big-endian counter from 1") {
  auto p = make_ciphers();
  for (std::uint64_t expected = 1; expected <= 3; ++expected) {
    const auto body = seal_body(p.client, "x");
    CHECK(body[0] == 0x01);
    for (std::size_t i = 1; i < 23; ++i) CHECK(body[i] == 0);
    CHECK(body[23] == expected);
  }
  const auto body = seal_body(p.server, "x");
  CHECK(body[0] == 0x02);
  CHECK(body[23] == 1);  // each direction counts on its own
}

TEST_CASE("session v2: a frame reflected to its sender is refused") {
  auto p = make_ciphers();
  const auto up = seal_body(p.client, "up");
  const auto down = seal_body(p.server, "down");
  check_refused(p.client.open(up), open_status::wrong_direction);
  check_refused(p.server.open(down), open_status::wrong_direction);
  CHECK(p.client.last_received_counter() == 0);
  CHECK(p.server.last_received_counter() == 0);
  // The refusal cost nothing: delivered the right way, both frames open.
  CHECK(p.client.open(down).plaintext == "down");
  CHECK(p.server.open(up).plaintext == "up");
}

TEST_CASE("session v2: a relay that drops one frame is caught as a gap: frame 2 missing, got 3") {
  auto p = make_ciphers();
  const auto one = seal_body(p.client, "one");
  const auto two = seal_body(p.client, "two");
  const auto three = seal_body(p.client, "three");
  REQUIRE(p.server.open(one).status == open_status::ok);
  const auto late = p.server.open(three);
  check_refused(late, open_status::gap);
  CHECK(late.expected == 2);
  CHECK(late.counter == 3);
  CHECK(p.server.last_received_counter() == 1);  // the gap did not move the counter
  // (A caller closes here; the cipher itself is intact: the missing frame is still the one due.)
  CHECK(p.server.open(two).plaintext == "two");
  CHECK(p.server.open(three).plaintext == "three");
}

TEST_CASE("session v2: the first frame must be counter 1") {
  auto p = make_ciphers();
  (void)seal_body(p.client, "lost");
  const auto second = p.server.open(seal_body(p.client, "second"));
  check_refused(second, open_status::gap);
  CHECK(second.expected == 1);
  CHECK(second.counter == 2);
}

TEST_CASE("session v2: replayed and reordered frames are refused") {
  auto p = make_ciphers();
  const auto one = seal_body(p.client, "one");
  const auto two = seal_body(p.client, "two");
  REQUIRE(p.server.open(one).status == open_status::ok);
  const auto again = p.server.open(one);
  check_refused(again, open_status::replayed);
  CHECK(again.counter == 1);
  CHECK(again.expected == 2);
  REQUIRE(p.server.open(two).status == open_status::ok);
  check_refused(p.server.open(one), open_status::replayed);
  check_refused(p.server.open(two), open_status::replayed);
  CHECK(p.server.last_received_counter() == 2);
}

TEST_CASE("session v2: every bit flip of a body is refused and moves nothing") {
  auto p = make_ciphers();
  const auto good = seal_body(p.client, "{\"type\":\"say\",\"text\":\"pay bob 10\"}");
  REQUIRE(good.size() == 168);
  std::string text;
  for (std::size_t bit = 0; bit < good.size() * 8; ++bit) {
    auto bad = good;
    bad[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
    const auto opened = p.server.open_into(bad, text);
    if (opened.status == open_status::ok) FAIL_CHECK("bit " << bit << " flipped and the frame opened");
    CHECK(text.empty());
  }
  CHECK(p.server.last_received_counter() == 0);
  const auto opened = p.server.open(good);
  CHECK(opened.status == open_status::ok);
  CHECK(opened.counter == 1);
}

TEST_CASE("session v2: malformed frames get the status that names the fault") {
  auto p = make_ciphers();
  const auto good = seal_body(p.client, "hello");
  SUBCASE("a nonce padding byte") {
    for (std::size_t i = 1; i < 16; ++i) {
      auto bad = good;
      bad[i] = 0x01;
      check_refused(p.server.open(bad), open_status::bad_nonce);
    }
  }
  SUBCASE("an unknown direction byte") {
    for (const std::uint8_t dir : {std::uint8_t{0x00}, std::uint8_t{0x03}, std::uint8_t{0xff}}) {
      auto bad = good;
      bad[0] = dir;
      check_refused(p.server.open(bad), open_status::bad_nonce);
    }
  }
  SUBCASE("a forged counter is a bad MAC, not a gap: the counter is authenticated") {
    auto bad = good;
    for (std::size_t i = 16; i < 24; ++i) bad[i] = 0xff;
    const auto opened = p.server.open(bad);
    check_refused(opened, open_status::bad_mac);
    CHECK(opened.counter == max_counter);
  }
  SUBCASE("a MAC byte, a ciphertext byte, a truncated or extended body") {
    auto mac = good;
    mac[24] ^= 0x01;
    check_refused(p.server.open(mac), open_status::bad_mac);
    auto ciphertext = good;
    ciphertext.back() ^= 0x20;
    check_refused(p.server.open(ciphertext), open_status::bad_mac);
    auto longer = good;
    longer.push_back(0);
    check_refused(p.server.open(longer), open_status::bad_mac);
  }
  SUBCASE("shorter than nonce + MAC + one block") {
    check_refused(p.server.open(frame_bytes{}), open_status::too_short);
    check_refused(p.server.open(frame_bytes(167, 0)), open_status::too_short);
    auto cut = good;
    cut.pop_back();
    check_refused(p.server.open(cut), open_status::too_short);
    // A v1-sized frame (1-byte plaintext, no padding) is too short for v2.
    check_refused(p.server.open(raw_body(p.c2s, direction::client_to_server, 1, {'x'})), open_status::too_short);
  }
  CHECK(p.server.last_received_counter() == 0);
  CHECK(p.server.open(good).plaintext == "hello");
}

TEST_CASE("session v2: sealed bodies are 40 + k*128 bytes and the plaintext comes back exact") {
  struct size_case {
    std::size_t plaintext;
    std::size_t blocks;
  };
  auto p = make_ciphers();
  for (const auto c : {size_case{0, 1}, size_case{1, 1}, size_case{127, 1}, size_case{128, 2}, size_case{129, 2},
                       size_case{1000, 8}}) {
    CAPTURE(c.plaintext);
    std::string plaintext(c.plaintext, '\0');
    for (std::size_t i = 0; i < plaintext.size(); ++i) plaintext[i] = static_cast<char>(i * 7 + 1);
    const auto body = seal_body(p.client, plaintext);
    CHECK(body.size() == 40 + c.blocks * 128);
    CHECK(session_cipher_v2::sealed_size(c.plaintext) == body.size());
    const auto opened = p.server.open(body);
    CHECK(opened.status == open_status::ok);
    CHECK(opened.plaintext == plaintext);  // an empty plaintext opens as empty (the caller: bad_json)
  }
}

TEST_CASE("session v2: an authentic frame with bad padding is refused as bad_padding") {
  auto p = make_ciphers();
  const auto refuse = [&](const frame_bytes& padded) {
    CAPTURE(padded.size());
    const auto opened = p.server.open(raw_body(p.c2s, direction::client_to_server, 1, padded));
    check_refused(opened, open_status::bad_padding);
    CHECK(p.server.last_received_counter() == 0);
  };
  SUBCASE("no 0x80 marker: a whole block of data") { refuse(frame_bytes(128, 'x')); }
  SUBCASE("all zeros") { refuse(frame_bytes(256, 0x00)); }
  SUBCASE("a nonzero byte after the marker") {
    frame_bytes padded{'h', 'i', 0x80};
    padded.resize(128, 0x00);
    padded[100] = 0x01;
    refuse(padded);
  }
  SUBCASE("padding longer than one block") {
    frame_bytes padded{'h', 'i', 0x80};
    padded.resize(256, 0x00);
    refuse(padded);
  }
  SUBCASE("valid padding in the last block, but not a whole number of blocks") {
    frame_bytes padded(200, 'x');
    padded[150] = 0x80;
    std::fill(padded.begin() + 151, padded.end(), 0x00);
    refuse(padded);
  }
  // The genuine frame 1 still opens: a refusal moved nothing.
  CHECK(p.server.open(seal_body(p.client, "fine")).plaintext == "fine");
}

TEST_CASE("session v2: in-place batch sealing equals seal byte for byte") {
  for (const std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{127}, std::size_t{128}, std::size_t{300}}) {
    CAPTURE(size);
    // Two server ciphers with the same key and counter: one seals normally, one in place.
    auto p = make_ciphers();
    auto in_place = session_cipher_v2::resume(key_of(p.s2c), key_of(p.c2s), direction::server_to_client, 0, 0);
    const std::string plaintext(size, 'q');
    frame_bytes expected{0x01};
    natter::append_sealed_frame(p.server, plaintext, expected);

    frame_bytes wire{0x01};
    const std::size_t start = natter::begin_frame(wire);
    const std::size_t body_start = session_cipher_v2::begin_body(wire);
    CHECK(body_start == 5);
    wire.insert(wire.end(), plaintext.begin(), plaintext.end());
    REQUIRE(in_place.end_body(wire, body_start) == seal_status::ok);
    natter::end_frame(wire, start);
    CHECK(wire == expected);
    CHECK(in_place.frames_sent() == 1);
    CHECK(p.client.open(frame_bytes(wire.begin() + 5, wire.end())).plaintext == plaintext);
  }
}

TEST_CASE("session v2: append_sealed_frame appends whole frames the frame decoder returns") {
  auto p = make_ciphers();
  frame_bytes wire{0xee, 0xff};
  natter::append_sealed_frame(p.server, "first", wire);
  natter::append_sealed_frame(p.server, "", wire);
  natter::append_sealed_frame(p.server, std::string(200, 's'), wire);
  CHECK(wire.size() == 2 + 3 * 4 + 168 + 168 + 296);
  CHECK(wire[0] == 0xee);
  CHECK(wire[1] == 0xff);
  natter::frame_decoder decoder(65536);
  decoder.feed(std::span(wire).subspan(2));
  frame_bytes body;
  REQUIRE(decoder.next(body) == natter::decode_status::frame);
  CHECK(p.client.open(body).plaintext == "first");
  REQUIRE(decoder.next(body) == natter::decode_status::frame);
  const auto empty = p.client.open(body);
  CHECK(empty.status == open_status::ok);
  CHECK(empty.plaintext.empty());
  REQUIRE(decoder.next(body) == natter::decode_status::frame);
  CHECK(p.client.open(body).plaintext == std::string(200, 's'));
  CHECK(decoder.next(body) == natter::decode_status::need_more);
}

TEST_CASE("session v2: counter exhaustion at 2^64-1 is refused, never wrapped, and the counter stays") {
  auto p = make_ciphers(max_counter - 1, max_counter - 1);
  CHECK_FALSE(p.client.exhausted());
  // The last counter there is: sealed and opened normally.
  const auto last = p.server.open(seal_body(p.client, "last"));
  CHECK(last.status == open_status::ok);
  CHECK(last.counter == max_counter);
  CHECK(p.client.frames_sent() == max_counter);
  CHECK(p.client.exhausted());

  SUBCASE("seal refuses and appends nothing") {
    frame_bytes out{0x42};
    CHECK(p.client.seal("one more", out) == seal_status::exhausted);
    CHECK(out == frame_bytes{0x42});
    CHECK(p.client.seal("", out) == seal_status::exhausted);
    CHECK(out == frame_bytes{0x42});
  }
  SUBCASE("end_body refuses and removes the unsealed plaintext") {
    frame_bytes out{0x42};
    const std::size_t body_start = session_cipher_v2::begin_body(out);
    out.insert(out.end(), {'s', 'e', 'c', 'r', 'e', 't'});
    CHECK(p.client.end_body(out, body_start) == seal_status::exhausted);
    CHECK(out == frame_bytes{0x42});
  }
  SUBCASE("append_sealed_frame cannot see the status: its empty frame throws in end_frame") {
    // Why a caller of append_sealed_frame checks exhausted() first (docs/PROTOCOL.md §3).
    frame_bytes out;
    CHECK_THROWS_AS(natter::append_sealed_frame(p.client, "one more", out), std::length_error);
  }
  CHECK(p.client.frames_sent() == max_counter);
  // The receiver that accepted 2^64-1 has nothing left to accept.
  auto replay = p.server.open(raw_body(p.c2s, direction::client_to_server, 1, frame_bytes(128, 0x80)));
  check_refused(replay, open_status::replayed);
  CHECK(replay.expected == 0);
}

TEST_CASE("session v2: open_into reuses its buffer and refuses exactly as open does") {
  auto p = make_ciphers();
  std::string text;
  text.reserve(4096);
  const auto* storage = text.data();
  const auto first = p.server.open_into(seal_body(p.client, "first"), text);
  CHECK(first.status == open_status::ok);
  CHECK(first.counter == 1);
  CHECK(text == "first");
  CHECK(p.server.open_into(seal_body(p.client, std::string(1000, 'b')), text).status == open_status::ok);
  CHECK(text == std::string(1000, 'b'));
  CHECK(text.data() == storage);  // no reallocation for frames that fit

  auto forged = seal_body(p.client, "third");
  forged.back() ^= 0x01;
  CHECK(p.server.open_into(forged, text).status == open_status::bad_mac);
  CHECK(text.empty());
  const auto fourth = seal_body(p.client, "fourth");  // counter 4; 3 was never delivered intact
  CHECK(p.server.open_into(fourth, text).status == open_status::gap);
  CHECK(text.empty());
  CHECK(text.data() == storage);
}

TEST_CASE("session v2: statuses have distinct descriptions") {
  const std::vector<open_status> all{open_status::ok,       open_status::too_short, open_status::wrong_direction,
                                     open_status::bad_nonce, open_status::bad_mac,   open_status::replayed,
                                     open_status::gap,       open_status::bad_padding};
  for (std::size_t i = 0; i < all.size(); ++i) {
    CHECK_FALSE(natter::crypto::to_string(all[i]).empty());
    for (std::size_t j = i + 1; j < all.size(); ++j) {
      CHECK(natter::crypto::to_string(all[i]) != natter::crypto::to_string(all[j]));
    }
  }
  CHECK(natter::crypto::to_string(seal_status::ok) != natter::crypto::to_string(seal_status::exhausted));
}
