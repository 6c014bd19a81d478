#include "natter/server/batch_sealer.hpp"

namespace natter::server {

namespace {
// Inserted as bytes, not as chars: a char -> uint8_t range is copied element by element.
void append(bytes& out, const std::string& text) {
  const auto* p = reinterpret_cast<const std::uint8_t*>(text.data());
  out.insert(out.end(), p, p + text.size());
}
}  // namespace

crypto::session_cipher_v2::seal_status seal_batch(crypto::session_cipher_v2& cipher,
                                                  std::span<const shared_message> batch, bytes& out) {
  using seal_status = crypto::session_cipher_v2::seal_status;
  // One reservation for the whole batch: its plaintext plus, per frame, framing and MAC.
  std::size_t total = 0;
  for (const auto& message : batch) total += message->size() + 1;
  out.reserve(out.size() + total + (total / max_outgoing_plaintext + 1) * (64 + crypto::session_cipher_v2::padding_block));
  std::size_t first = 0;
  while (first < batch.size()) {
    std::size_t end = first + 1;
    std::size_t size = 2 + batch[first]->size() + 1;  // brackets, message, comma
    while (end < batch.size() && end - first < limits::max_batch &&
           size + batch[end]->size() + 1 <= max_outgoing_plaintext) {
      size += batch[end]->size() + 1;
      ++end;
    }
    const std::size_t frame = begin_frame(out);
    const std::size_t body = crypto::session_cipher_v2::begin_body(out);
    if (end - first == 1) {
      append(out, *batch[first]);
    } else {
      out.push_back('[');
      for (std::size_t i = first; i < end; ++i) {
        if (i != first) out.push_back(',');
        append(out, *batch[i]);
      }
      out.push_back(']');
    }
    if (cipher.end_body(out, body) != seal_status::ok) {
      out.resize(frame);  // end_body took the plaintext back; the header goes too
      return seal_status::exhausted;
    }
    end_frame(out, frame);
    first = end;
  }
  return seal_status::ok;
}

}  // namespace natter::server
