// frame_decoder, make_frame and append_frame_header (docs/PROTOCOL.md §1).
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "natter/frame.hpp"
#include "natter/limits.hpp"
#include "test_support.hpp"

using natter::bytes;
using natter::decode_status;
using natter::frame_decoder;
using natter::test::to_bytes;

namespace {

// The 4-byte big-endian length prefix, written out by hand from the protocol text.
bytes header(std::uint32_t length) {
  return {static_cast<std::uint8_t>(length >> 24), static_cast<std::uint8_t>(length >> 16),
          static_cast<std::uint8_t>(length >> 8), static_cast<std::uint8_t>(length)};
}

bytes concat(std::initializer_list<bytes> parts) {
  bytes out;
  for (const auto& p : parts) out.insert(out.end(), p.begin(), p.end());
  return out;
}

// A body of `n` bytes whose content depends on position and a seed, so frames are distinguishable.
bytes pattern(std::size_t n, std::uint8_t seed) {
  bytes out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<std::uint8_t>(seed + i * 7);
  return out;
}

// Pulls every complete frame out of the decoder; returns the status that ended the loop.
decode_status drain(frame_decoder& decoder, std::vector<bytes>& frames) {
  for (;;) {
    bytes body;
    const auto status = decoder.next(body);
    if (status != decode_status::frame) return status;
    frames.push_back(std::move(body));
  }
}

void feed(frame_decoder& decoder, const bytes& data, std::size_t from, std::size_t to) {
  decoder.feed(std::span<const std::uint8_t>(data.data() + from, to - from));
}

}  // namespace

TEST_CASE("make_frame prefixes the body with its big-endian length") {
  const bytes body = pattern(300, 1);
  const bytes frame = natter::make_frame(body);
  REQUIRE(frame.size() == 304);
  CHECK(frame[0] == 0x00);
  CHECK(frame[1] == 0x00);
  CHECK(frame[2] == 0x01);
  CHECK(frame[3] == 0x2c);
  CHECK(bytes(frame.begin() + 4, frame.end()) == body);
}

TEST_CASE("append_frame_header appends all four length bytes in network order") {
  bytes out{0xaa};  // existing content must be kept
  natter::append_frame_header(out, 0x01020304);
  CHECK(out == bytes{0xaa, 0x01, 0x02, 0x03, 0x04});
  natter::append_frame_header(out, 1);
  CHECK(out == bytes{0xaa, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x01});
}

TEST_CASE("frame headers are never written for an empty body") {
  bytes out;
  CHECK_THROWS(natter::append_frame_header(out, 0));
  CHECK_THROWS(natter::make_frame(bytes{}));
}

TEST_CASE("make_frame output decodes back to the same body") {
  for (const std::size_t size : {std::size_t{1}, std::size_t{255}, std::size_t{256}, std::size_t{65536}}) {
    CAPTURE(size);
    const bytes body = pattern(size, 3);
    frame_decoder decoder(natter::limits::default_max_frame);
    decoder.feed(natter::make_frame(body));
    bytes out;
    REQUIRE(decoder.next(out) == decode_status::frame);
    CHECK(out == body);
    CHECK(decoder.buffered() == 0);
  }
}

TEST_CASE("a whole frame fed at once comes out whole, then the decoder needs more") {
  frame_decoder decoder(1024);
  decoder.feed(concat({header(5), to_bytes("hello")}));
  bytes body;
  REQUIRE(decoder.next(body) == decode_status::frame);
  CHECK(natter::test::to_text(body) == "hello");
  CHECK(decoder.next(body) == decode_status::need_more);
  CHECK(decoder.buffered() == 0);
}

TEST_CASE("a stream split at every possible byte boundary yields the same frames") {
  const std::vector<bytes> bodies{pattern(1, 10), pattern(5, 20), pattern(300, 30), pattern(2, 40)};
  bytes stream;
  for (const auto& b : bodies) {
    const bytes f = natter::make_frame(b);
    stream.insert(stream.end(), f.begin(), f.end());
  }
  for (std::size_t split = 0; split <= stream.size(); ++split) {
    CAPTURE(split);
    frame_decoder decoder(1024);
    std::vector<bytes> frames;
    feed(decoder, stream, 0, split);
    REQUIRE(drain(decoder, frames) == decode_status::need_more);
    // Whatever was not returned as a frame is still buffered.
    std::size_t returned = 0;
    for (const auto& f : frames) returned += 4 + f.size();
    CHECK(decoder.buffered() == split - returned);
    feed(decoder, stream, split, stream.size());
    REQUIRE(drain(decoder, frames) == decode_status::need_more);
    CHECK(frames == bodies);
    CHECK(decoder.buffered() == 0);
  }
}

TEST_CASE("several frames coalesced in one feed all come out in order") {
  std::vector<bytes> bodies;
  bytes stream;
  for (std::uint8_t i = 0; i < 10; ++i) {
    bodies.push_back(pattern(1 + i * 13u, i));
    const bytes f = natter::make_frame(bodies.back());
    stream.insert(stream.end(), f.begin(), f.end());
  }
  frame_decoder decoder(1024);
  decoder.feed(stream);
  std::vector<bytes> frames;
  CHECK(drain(decoder, frames) == decode_status::need_more);
  CHECK(frames == bodies);
}

TEST_CASE("a stream fed one byte at a time yields each frame exactly when its last byte arrives") {
  const std::vector<bytes> bodies{pattern(3, 1), pattern(1, 2), pattern(70, 3)};
  bytes stream;
  std::vector<std::size_t> frame_ends;  // stream offsets just after each frame
  for (const auto& b : bodies) {
    const bytes f = natter::make_frame(b);
    stream.insert(stream.end(), f.begin(), f.end());
    frame_ends.push_back(stream.size());
  }
  frame_decoder decoder(1024);
  std::vector<bytes> frames;
  for (std::size_t i = 0; i < stream.size(); ++i) {
    CAPTURE(i);
    feed(decoder, stream, i, i + 1);
    const std::size_t before = frames.size();
    REQUIRE(drain(decoder, frames) == decode_status::need_more);
    const bool completes_frame = frames.size() > before;
    const bool at_frame_end =
        std::find(frame_ends.begin(), frame_ends.end(), i + 1) != frame_ends.end();
    CHECK(completes_frame == at_frame_end);
  }
  CHECK(frames == bodies);
}

TEST_CASE("buffered() counts the bytes of a partial frame") {
  frame_decoder decoder(1024);
  decoder.feed(header(10));
  bytes body;
  CHECK(decoder.next(body) == decode_status::need_more);
  CHECK(decoder.buffered() == 4);
  decoder.feed(to_bytes("abc"));
  CHECK(decoder.next(body) == decode_status::need_more);
  CHECK(decoder.buffered() == 7);
  decoder.feed(to_bytes("defghij"));
  REQUIRE(decoder.next(body) == decode_status::frame);
  CHECK(natter::test::to_text(body) == "abcdefghij");
  CHECK(decoder.buffered() == 0);
}

TEST_CASE("an over-long length is refused as soon as the header is in, and the stream stays failed") {
  frame_decoder decoder(100);
  bytes body;
  const bytes h = header(101);
  decoder.feed(std::span(h).first(3));
  CHECK(decoder.next(body) == decode_status::need_more);
  decoder.feed(std::span(h).subspan(3));
  // No body byte has arrived: the length alone condemns the stream.
  CHECK(decoder.next(body) == decode_status::too_large);
  CHECK(decoder.buffered() == 0);  // nothing kept for a stream that is never read again

  decoder.feed(natter::make_frame(to_bytes("valid")));
  CHECK(decoder.next(body) == decode_status::too_large);
  CHECK(decoder.next(body) == decode_status::too_large);
  CHECK(body.empty());
}

TEST_CASE("a length of 2^32-1 is refused without waiting for the body") {
  frame_decoder decoder(natter::limits::max_max_frame);
  decoder.feed(header(0xffffffffu));
  bytes body;
  CHECK(decoder.next(body) == decode_status::too_large);
}

TEST_CASE("frames before an over-long header are still delivered") {
  frame_decoder decoder(100);
  decoder.feed(concat({natter::make_frame(to_bytes("ok")), header(1000), pattern(50, 0)}));
  bytes body;
  REQUIRE(decoder.next(body) == decode_status::frame);
  CHECK(natter::test::to_text(body) == "ok");
  CHECK(decoder.next(body) == decode_status::too_large);
}

TEST_CASE("a zero-length frame is fatal and stays so") {
  frame_decoder decoder(100);
  decoder.feed(header(0));
  bytes body;
  CHECK(decoder.next(body) == decode_status::empty);
  decoder.feed(natter::make_frame(to_bytes("later")));
  CHECK(decoder.next(body) == decode_status::empty);
}

TEST_CASE("a body of exactly the maximum is accepted, one more byte is not") {
  SUBCASE("small maximum") {
    frame_decoder decoder(1000);
    decoder.feed(natter::make_frame(pattern(1000, 9)));
    bytes body;
    REQUIRE(decoder.next(body) == decode_status::frame);
    CHECK(body == pattern(1000, 9));

    frame_decoder over(1000);
    over.feed(header(1001));
    CHECK(over.next(body) == decode_status::too_large);
  }
  SUBCASE("the protocol default of 65536") {
    frame_decoder decoder(natter::limits::default_max_frame);
    decoder.feed(natter::make_frame(pattern(65536, 5)));
    bytes body;
    REQUIRE(decoder.next(body) == decode_status::frame);
    CHECK(body.size() == 65536);

    frame_decoder over(natter::limits::default_max_frame);
    over.feed(header(65537));
    CHECK(over.next(body) == decode_status::too_large);
  }
}

TEST_CASE("the decoder keeps working after a large frame and after many small ones") {
  frame_decoder decoder(natter::limits::default_max_frame);
  bytes body;
  decoder.feed(natter::make_frame(pattern(60000, 1)));
  REQUIRE(decoder.next(body) == decode_status::frame);
  CHECK(body == pattern(60000, 1));
  // Many small frames, each followed by half of the next, exercise the lazy compaction.
  bytes stream;
  std::vector<bytes> bodies;
  for (std::uint8_t i = 0; i < 200; ++i) {
    bodies.push_back(pattern(1 + i % 17, i));
    const bytes f = natter::make_frame(bodies.back());
    stream.insert(stream.end(), f.begin(), f.end());
  }
  std::vector<bytes> frames;
  for (std::size_t at = 0; at < stream.size(); at += 11) {
    feed(decoder, stream, at, std::min(stream.size(), at + 11));
    REQUIRE(drain(decoder, frames) == decode_status::need_more);
  }
  CHECK(frames == bodies);
  CHECK(decoder.buffered() == 0);
}

TEST_CASE("decode statuses have distinct descriptions") {
  CHECK(natter::to_string(decode_status::too_large) != natter::to_string(decode_status::empty));
  CHECK(natter::to_string(decode_status::frame) != natter::to_string(decode_status::need_more));
  CHECK_FALSE(natter::to_string(decode_status::too_large).empty());
}
