#pragma once
// Length-prefixed framing (docs/PROTOCOL.md §1): u32 big-endian body length, then the body.
// Pure: no sockets. Bytes go in with feed(), whole frames come out of next().
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

namespace natter {

using bytes = std::vector<std::uint8_t>;

inline constexpr std::size_t frame_header_size = 4;

enum class decode_status {
  frame,      // `body` holds the next frame's body
  need_more,  // no whole frame buffered yet
  too_large,  // a header announced more than the maximum; the stream is unusable
  empty,      // a header announced a zero-length body; the stream is unusable
};

std::string_view to_string(decode_status status);

// Reassembles frames from arbitrary chunks of a byte stream. A header is checked against the
// maximum as soon as its 4 bytes are in, before any room for the body is taken, so a peer cannot
// make the decoder allocate more than max_body + a read's worth of bytes.
class frame_decoder {
 public:
  explicit frame_decoder(std::size_t max_body);

  // Appends bytes read from the stream.
  void feed(std::span<const std::uint8_t> chunk);

  // Extracts the next frame if one is complete. Once an error is returned, every later call
  // returns the same error: a stream with a bad header cannot be resynchronised.
  [[nodiscard]] decode_status next(bytes& body);

  // Bytes buffered but not yet returned as frames (a partial frame at end of stream).
  [[nodiscard]] std::size_t buffered() const { return buffer_.size() - consumed_; }
  [[nodiscard]] std::size_t max_body() const { return max_body_; }

 private:
  std::size_t max_body_;
  bytes buffer_;
  std::size_t consumed_ = 0;  // prefix of buffer_ already returned; compacted lazily
  decode_status failure_ = decode_status::need_more;
};

// Appends the 4-byte length prefix for a body of `body_size` bytes.
void append_frame_header(bytes& out, std::size_t body_size);

// A whole frame (prefix + body) for `body`.
[[nodiscard]] bytes make_frame(std::span<const std::uint8_t> body);

// Framing a body that is written straight into `out` (by a cipher sealing in place): begin_frame()
// appends room for the length prefix and returns where the frame starts; the caller appends the
// body (at least one byte); end_frame() fills the prefix in. No copy of the body is made.
[[nodiscard]] std::size_t begin_frame(bytes& out);
void end_frame(bytes& out, std::size_t frame_start);

// Appends one whole frame whose body `sealer.seal(plaintext, out)` appends: the seam between
// the transport (this file, the only one that writes length prefixes) and the cipher
// (natter::crypto::session_cipher), which common does not depend on.
template <typename Sealer>
void append_sealed_frame(Sealer& sealer, std::string_view plaintext, bytes& out) {
  const std::size_t frame = begin_frame(out);
  sealer.seal(plaintext, out);
  end_frame(out, frame);
}

}  // namespace natter
