// Session frames (docs/PROTOCOL.md §4): layout, nonces and every way a frame is refused.
#include <doctest/doctest.h>

#include <sodium.h>

#include <algorithm>
#include <array>
#include <string>
#include <vector>

#include "natter/crypto/session_cipher.hpp"
#include "natter/frame.hpp"
#include "test_support.hpp"

using natter::crypto::direction;
using natter::crypto::open_status;
using natter::crypto::session_cipher;
using natter::crypto::shared_key;

namespace {

using frame_bytes = std::vector<std::uint8_t>;

struct cipher_pair {
  std::array<std::uint8_t, 32> raw{};
  session_cipher client;
  session_cipher server;
};

// Two ends of one connection: the same session key, opposite directions.
cipher_pair make_ciphers() {
  std::array<std::uint8_t, 32> raw{};
  natter::crypto::random_bytes(raw);
  return {raw, session_cipher(shared_key::from_bytes(raw), direction::client_to_server),
          session_cipher(shared_key::from_bytes(raw), direction::server_to_client)};
}

// Seals one plaintext and returns the frame body, after checking the length prefix by hand.
frame_bytes seal_body(session_cipher& cipher, std::string_view plaintext) {
  frame_bytes wire;
  natter::append_sealed_frame(cipher, plaintext, wire);
  REQUIRE(wire.size() >= 4);
  const std::size_t announced = (std::size_t{wire[0]} << 24) | (std::size_t{wire[1]} << 16) |
                                (std::size_t{wire[2]} << 8) | std::size_t{wire[3]};
  REQUIRE(announced == wire.size() - 4);
  return frame_bytes(wire.begin() + 4, wire.end());
}

void check_refused(const natter::crypto::opened_frame& opened, open_status expected) {
  CHECK(opened.status == expected);
  CHECK(opened.plaintext.empty());
}

}  // namespace

TEST_CASE("frames round-trip client to server and server to client") {
  auto p = make_ciphers();
  for (int i = 1; i <= 5; ++i) {
    const std::string up = "{\"type\":\"say\",\"text\":\"" + std::to_string(i) + "\"}";
    const auto opened_up = p.server.open(seal_body(p.client, up));
    CHECK(opened_up.status == open_status::ok);
    CHECK(opened_up.plaintext == up);
    CHECK(opened_up.counter == static_cast<std::uint64_t>(i));

    const std::string down = std::string(static_cast<std::size_t>(i) * 100, 'd');
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
}

TEST_CASE("the wire frame is length, nonce, MAC, ciphertext") {
  auto p = make_ciphers();
  const std::string plaintext(300, 'x');
  frame_bytes wire;
  natter::append_sealed_frame(p.client, plaintext, wire);
  const std::size_t body = 24 + 16 + 300;  // 340 = 0x154
  REQUIRE(wire.size() == 4 + body);
  CHECK(wire[0] == 0x00);
  CHECK(wire[1] == 0x00);
  CHECK(wire[2] == 0x01);
  CHECK(wire[3] == 0x54);
  CHECK(natter::crypto::session_overhead == 40);
}

TEST_CASE("nonces carry the direction, 15 zero bytes and a big-endian counter from 1") {
  auto p = make_ciphers();
  for (std::uint64_t expected = 1; expected <= 3; ++expected) {
    const auto body = seal_body(p.client, "x");
    CHECK(body[0] == 0x01);
    for (std::size_t i = 1; i < 16; ++i) CHECK(body[i] == 0);
    for (std::size_t i = 16; i < 23; ++i) CHECK(body[i] == 0);
    CHECK(body[23] == expected);
  }
  const auto body = seal_body(p.server, "x");
  CHECK(body[0] == 0x02);
  CHECK(body[23] == 1);  // each direction counts on its own

  const auto n = natter::crypto::session_nonce(direction::server_to_client, 0x0102030405060708u);
  const natter::crypto::nonce expected{2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                       1, 2, 3, 4, 5, 6, 7, 8};
  CHECK(n == expected);
}

TEST_CASE("the sealed box is libsodium's crypto_box_easy_afternm under the session nonce") {
  auto p = make_ciphers();
  const std::string plaintext = "{\"type\":\"ping\"}";
  seal_body(p.client, plaintext);  // counter 1
  const auto body = seal_body(p.client, plaintext);  // counter 2
  // Recompute independently: nonce from the protocol text, box from libsodium.
  std::array<std::uint8_t, 24> nonce{};
  nonce[0] = 0x01;
  nonce[23] = 0x02;
  std::vector<std::uint8_t> box(16 + plaintext.size());
  REQUIRE(crypto_box_easy_afternm(box.data(), reinterpret_cast<const unsigned char*>(plaintext.data()),
                                  plaintext.size(), nonce.data(), p.raw.data()) == 0);
  CHECK(std::equal(body.begin(), body.begin() + 24, nonce.begin()));
  CHECK(frame_bytes(body.begin() + 24, body.end()) == box);
}

TEST_CASE("append_sealed_frame appends, and appended frames go through the frame decoder") {
  auto p = make_ciphers();
  frame_bytes wire{0xee, 0xff};
  natter::append_sealed_frame(p.server, "first", wire);
  natter::append_sealed_frame(p.server, "second", wire);
  REQUIRE(wire.size() > 2);
  CHECK(wire[0] == 0xee);
  CHECK(wire[1] == 0xff);
  natter::frame_decoder decoder(65536);
  decoder.feed(std::span(wire).subspan(2));
  frame_bytes body;
  REQUIRE(decoder.next(body) == natter::decode_status::frame);
  CHECK(p.client.open(body).plaintext == "first");
  REQUIRE(decoder.next(body) == natter::decode_status::frame);
  CHECK(p.client.open(body).plaintext == "second");
  CHECK(decoder.next(body) == natter::decode_status::need_more);
}

TEST_CASE("begin_body/end_body inside begin_frame/end_frame seal in place exactly as append_sealed_frame does") {
  // Two server ciphers with the same key and counter: one seals normally, one in place.
  auto p = make_ciphers();
  session_cipher in_place(shared_key::from_bytes(p.raw), direction::server_to_client);
  const std::string plaintext = "[{\"type\":\"pong\"},{\"type\":\"pong\",\"ref\":7}]";
  frame_bytes expected{0x01};
  natter::append_sealed_frame(p.server, plaintext, expected);
  frame_bytes wire{0x01};
  const std::size_t start = natter::begin_frame(wire);
  CHECK(start == 1);
  const std::size_t body_start = session_cipher::begin_body(wire);
  CHECK(body_start == 5);
  wire.insert(wire.end(), plaintext.begin(), plaintext.end());
  in_place.end_body(wire, body_start);
  natter::end_frame(wire, start);
  CHECK(wire == expected);
  CHECK(in_place.frames_sent() == 1);
  natter::frame_decoder decoder(65536);
  decoder.feed(std::span(wire).subspan(1));
  frame_bytes body;
  REQUIRE(decoder.next(body) == natter::decode_status::frame);
  CHECK(p.client.open(body).plaintext == plaintext);
}

TEST_CASE("tampered frames are refused with the right status and no plaintext") {
  auto p = make_ciphers();
  const auto good = seal_body(p.client, "{\"type\":\"say\",\"text\":\"pay bob 10\"}");

  SUBCASE("a MAC byte") {
    auto bad = good;
    bad[24] ^= 0x01;
    check_refused(p.server.open(bad), open_status::bad_mac);
  }
  SUBCASE("a ciphertext byte") {
    auto bad = good;
    bad.back() ^= 0x20;
    check_refused(p.server.open(bad), open_status::bad_mac);
  }
  SUBCASE("a padding byte of the nonce") {
    for (std::size_t i = 1; i < 16; ++i) {
      CAPTURE(i);
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
  SUBCASE("a counter byte (the nonce is authenticated)") {
    auto bad = good;
    bad[23] = 0x07;
    check_refused(p.server.open(bad), open_status::bad_mac);
  }
  SUBCASE("a truncated frame") {
    auto bad = good;
    bad.pop_back();
    check_refused(p.server.open(bad), open_status::bad_mac);
  }
  SUBCASE("the wrong key") {
    auto other = make_ciphers();
    check_refused(other.server.open(good), open_status::bad_mac);
  }
  // Whatever was tried, the genuine frame still opens afterwards.
  const auto opened = p.server.open(good);
  CHECK(opened.status == open_status::ok);
  CHECK(opened.counter == 1);
}

TEST_CASE("a forged frame does not advance the receive counter") {
  auto p = make_ciphers();
  const auto first = seal_body(p.client, "one");
  // A forgery claiming a huge counter: if it moved the window, every genuine frame would be refused.
  auto forged = first;
  for (std::size_t i = 16; i < 24; ++i) forged[i] = 0xff;
  check_refused(p.server.open(forged), open_status::bad_mac);
  CHECK(p.server.last_received_counter() == 0);
  const auto opened = p.server.open(first);
  CHECK(opened.status == open_status::ok);
  CHECK(opened.plaintext == "one");
  CHECK(p.server.last_received_counter() == 1);
}

TEST_CASE("a replayed frame is refused") {
  auto p = make_ciphers();
  const auto frame = seal_body(p.client, "once only");
  REQUIRE(p.server.open(frame).status == open_status::ok);
  check_refused(p.server.open(frame), open_status::replayed);
  // ... and again later, after newer frames.
  REQUIRE(p.server.open(seal_body(p.client, "two")).status == open_status::ok);
  check_refused(p.server.open(frame), open_status::replayed);
}

TEST_CASE("reordered frames are refused") {
  auto p = make_ciphers();
  const auto one = seal_body(p.client, "one");
  const auto two = seal_body(p.client, "two");
  REQUIRE(p.server.open(two).status == open_status::ok);
  const auto late = p.server.open(one);
  check_refused(late, open_status::replayed);
  CHECK(late.counter == 1);
}

TEST_CASE("counters must increase but need not be consecutive") {
  auto p = make_ciphers();
  const auto one = seal_body(p.client, "one");
  seal_body(p.client, "lost");
  const auto three = seal_body(p.client, "three");
  CHECK(p.server.open(one).status == open_status::ok);
  const auto opened = p.server.open(three);
  CHECK(opened.status == open_status::ok);
  CHECK(opened.counter == 3);
}

TEST_CASE("a frame reflected back to its sender is refused") {
  auto p = make_ciphers();
  check_refused(p.client.open(seal_body(p.client, "mine")), open_status::wrong_direction);
  check_refused(p.server.open(seal_body(p.server, "mine")), open_status::wrong_direction);
  // The refusal cost nothing: the peer's frames still open.
  CHECK(p.client.open(seal_body(p.server, "theirs")).plaintext == "theirs");
}

TEST_CASE("frames shorter than nonce + MAC + 1 byte are too short") {
  auto p = make_ciphers();
  check_refused(p.server.open(frame_bytes{}), open_status::too_short);
  check_refused(p.server.open(frame_bytes(23, 0)), open_status::too_short);
  auto body = seal_body(p.client, "x");
  REQUIRE(body.size() == 41);
  body.pop_back();
  check_refused(p.server.open(body), open_status::too_short);
}

TEST_CASE("open statuses have distinct descriptions") {
  const std::vector<open_status> all{open_status::ok,       open_status::too_short, open_status::wrong_direction,
                                     open_status::bad_nonce, open_status::replayed,  open_status::bad_mac};
  for (std::size_t i = 0; i < all.size(); ++i) {
    CHECK_FALSE(natter::crypto::to_string(all[i]).empty());
    for (std::size_t j = i + 1; j < all.size(); ++j) {
      CHECK(natter::crypto::to_string(all[i]) != natter::crypto::to_string(all[j]));
    }
  }
}

TEST_CASE("open_into reuses the caller's buffer and refuses exactly as open does") {
  auto c = make_ciphers();
  std::string text;
  text.reserve(4096);
  const auto* storage = text.data();
  std::uint64_t counter = 0;
  CHECK(c.server.open_into(seal_body(c.client, "first"), text, &counter) == open_status::ok);
  CHECK(text == "first");
  CHECK(counter == 1);
  CHECK(c.server.open_into(seal_body(c.client, "second"), text) == open_status::ok);
  CHECK(text == "second");
  CHECK(text.data() == storage);  // no reallocation for frames that fit

  auto forged = seal_body(c.client, "third");
  forged.back() ^= 0x01;
  CHECK(c.server.open_into(forged, text) == open_status::bad_mac);
  CHECK(text.empty());  // never partial plaintext
  const auto replay = seal_body(c.client, "fourth");
  CHECK(c.server.open_into(replay, text) == open_status::ok);
  CHECK(c.server.open_into(replay, text) == open_status::replayed);
  CHECK(text.empty());
}

TEST_CASE("resume continues both counters of an established cipher") {
  auto c = make_ciphers();
  for (int i = 0; i < 3; ++i) REQUIRE(c.server.open(seal_body(c.client, "x")).status == open_status::ok);
  REQUIRE(c.client.open(seal_body(c.server, "y")).status == open_status::ok);

  auto resumed = session_cipher::resume(shared_key::from_bytes(c.raw), direction::client_to_server,
                                        c.client.frames_sent(), c.client.last_received_counter());
  CHECK(resumed.frames_sent() == 3);
  CHECK(resumed.last_received_counter() == 1);
  const auto next = c.server.open(seal_body(resumed, "from the resumed cipher"));
  CHECK(next.status == open_status::ok);
  CHECK(next.counter == 4);  // not 1: a nonce already used under this key
  const auto old_frame = seal_body(c.client, "z");  // counter 4 again, from the original
  CHECK(resumed.open(seal_body(c.server, "w")).status == open_status::ok);
  CHECK(c.server.open(old_frame).status == open_status::replayed);
}
