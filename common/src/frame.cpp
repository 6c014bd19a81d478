#include "natter/frame.hpp"

#include <algorithm>
#include <stdexcept>

namespace natter {

namespace {
constexpr std::size_t idle_capacity = 4096;
}

std::string_view to_string(decode_status status) {
  switch (status) {
    case decode_status::frame: return "frame";
    case decode_status::need_more: return "incomplete frame";
    case decode_status::too_large: return "frame length over the limit";
    case decode_status::empty: return "zero-length frame";
  }
  return "unknown";
}

frame_decoder::frame_decoder(std::size_t max_body) : max_body_(max_body) {}

void frame_decoder::feed(std::span<const std::uint8_t> chunk) {
  if (failure_ != decode_status::need_more) return;  // stream already condemned
  // Drop what has been handed out before growing, so the buffer stays near one frame's size.
  if (consumed_ > 0 && consumed_ >= buffer_.size() / 2) {
    buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(consumed_));
    consumed_ = 0;
  }
  buffer_.insert(buffer_.end(), chunk.begin(), chunk.end());
}

decode_status frame_decoder::next(bytes& body) {
  if (failure_ != decode_status::need_more) return failure_;
  const std::size_t available = buffer_.size() - consumed_;
  if (available < frame_header_size) return decode_status::need_more;
  const std::uint8_t* p = buffer_.data() + consumed_;
  const std::uint32_t length = (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) |
                               (std::uint32_t{p[2]} << 8) | std::uint32_t{p[3]};
  if (length == 0) return failure_ = decode_status::empty;
  if (length > max_body_) {
    // Free what we hold: nothing in this stream will ever be read again.
    buffer_ = bytes{};
    consumed_ = 0;
    return failure_ = decode_status::too_large;
  }
  if (available - frame_header_size < length) return decode_status::need_more;
  body.assign(p + frame_header_size, p + frame_header_size + length);
  consumed_ += frame_header_size + length;
  if (consumed_ == buffer_.size()) {
    // Nothing pending: give a large buffer back, so an idle connection costs next to nothing.
    if (buffer_.capacity() > idle_capacity) buffer_ = bytes{};
    else buffer_.clear();
    consumed_ = 0;
  }
  return decode_status::frame;
}

void append_frame_header(bytes& out, std::size_t body_size) {
  if (body_size == 0 || body_size > 0xffffffffu) throw std::length_error("natter: bad frame size");
  const auto n = static_cast<std::uint32_t>(body_size);
  out.push_back(static_cast<std::uint8_t>(n >> 24));
  out.push_back(static_cast<std::uint8_t>(n >> 16));
  out.push_back(static_cast<std::uint8_t>(n >> 8));
  out.push_back(static_cast<std::uint8_t>(n));
}

std::size_t begin_frame(bytes& out) {
  const std::size_t start = out.size();
  out.resize(start + frame_header_size);
  return start;
}

void end_frame(bytes& out, std::size_t frame_start) {
  const std::size_t body_size = out.size() - frame_start - frame_header_size;
  if (frame_start + frame_header_size > out.size() || body_size == 0 || body_size > 0xffffffffu) {
    throw std::length_error("natter: bad frame size");
  }
  const auto n = static_cast<std::uint32_t>(body_size);
  std::uint8_t* p = out.data() + frame_start;
  p[0] = static_cast<std::uint8_t>(n >> 24);
  p[1] = static_cast<std::uint8_t>(n >> 16);
  p[2] = static_cast<std::uint8_t>(n >> 8);
  p[3] = static_cast<std::uint8_t>(n);
}

bytes make_frame(std::span<const std::uint8_t> body) {
  bytes out;
  out.reserve(frame_header_size + body.size());
  append_frame_header(out, body.size());
  out.insert(out.end(), body.begin(), body.end());
  return out;
}

}  // namespace natter
