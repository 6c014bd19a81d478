// Fuzzes frame_decoder (docs/PROTOCOL.md §1) with arbitrary byte streams fed in arbitrary chunks.
//
// Input: byte 0 picks the maximum body size, bytes 1..8 the chunk sizes (used in turn), the rest
// is the stream. The decoder's answers are checked against a plain model of the format, so the
// fuzzer finds wrong answers as well as crashes: each frame returned must be exactly the next
// frame of the stream, an error must be the right error, and errors must be sticky.
#include <cstdint>
#include <cstdlib>
#include <span>

#include "fuzz_support.hpp"
#include "natter/frame.hpp"
#include "natter/limits.hpp"

namespace {

using natter::fuzz::check;

// The model: knows the whole stream and how much of it has been fed.
struct model {
  std::span<const std::uint8_t> stream;
  std::size_t max_body;
  std::size_t offset = 0;  // start of the next frame

  natter::decode_status next(std::span<const std::uint8_t>& body, std::size_t fed) {
    if (fed - offset < natter::frame_header_size) return natter::decode_status::need_more;
    const std::uint8_t* p = stream.data() + offset;
    const std::size_t length = (std::size_t{p[0]} << 24) | (std::size_t{p[1]} << 16) |
                               (std::size_t{p[2]} << 8) | p[3];
    if (length == 0) return natter::decode_status::empty;
    if (length > max_body) return natter::decode_status::too_large;
    if (fed - offset - natter::frame_header_size < length) return natter::decode_status::need_more;
    body = stream.subspan(offset + natter::frame_header_size, length);
    offset += natter::frame_header_size + length;
    return natter::decode_status::frame;
  }
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 9) return 0;
  // Small limits make "too large" easy to reach; the real default and the largest configurable
  // value check that big limits allocate nothing up front.
  static constexpr std::size_t max_bodies[] = {natter::limits::default_max_frame,
                                               natter::limits::max_max_frame, 1, 2, 5, 40, 72, 300};
  const std::size_t max_body = max_bodies[data[0] % std::size(max_bodies)];
  const std::span<const std::uint8_t> chunk_sizes(data + 1, 8);
  const std::span<const std::uint8_t> stream(data + 9, size - 9);

  natter::frame_decoder decoder(max_body);
  model expected{stream, max_body};
  std::size_t fed = 0;
  natter::decode_status failure = natter::decode_status::need_more;
  natter::bytes body;
  for (std::size_t turn = 0; fed < stream.size(); ++turn) {
    // A chunk size of 0 means "the rest": one large read, as from a fast peer.
    std::size_t n = chunk_sizes[turn % chunk_sizes.size()];
    if (n == 0 || n > stream.size() - fed) n = stream.size() - fed;
    decoder.feed(stream.subspan(fed, n));
    fed += n;
    for (;;) {
      const natter::decode_status got = decoder.next(body);
      if (failure != natter::decode_status::need_more) {
        check(got == failure);  // a condemned stream stays condemned
        break;
      }
      std::span<const std::uint8_t> want_body;
      const natter::decode_status want = expected.next(want_body, fed);
      check(got == want);
      if (got == natter::decode_status::frame) {
        check(body.size() == want_body.size() && std::equal(body.begin(), body.end(), want_body.begin()));
        check(!body.empty() && body.size() <= max_body);
        continue;
      }
      if (got != natter::decode_status::need_more) failure = got;
      else check(decoder.buffered() == fed - expected.offset);
      break;
    }
  }
  // The codec's other half: make_frame of every body the decoder returned is that body's frame.
  if (failure == natter::decode_status::need_more && !body.empty()) {
    const natter::bytes again = natter::make_frame(body);
    natter::frame_decoder redo(max_body);
    redo.feed(again);
    natter::bytes out;
    check(redo.next(out) == natter::decode_status::frame && out == body);
    check(redo.buffered() == 0);
  }
  return 0;
}
