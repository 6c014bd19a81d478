#include "natter/crypto/session_cipher.hpp"

#include <sodium.h>

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace natter::crypto {

std::string_view to_string(open_status status) {
  switch (status) {
    case open_status::ok: return "ok";
    case open_status::too_short: return "sealed frame too short";
    case open_status::wrong_direction: return "frame has our own direction (reflected)";
    case open_status::bad_nonce: return "malformed nonce";
    case open_status::replayed: return "nonce counter not increasing (replayed or reordered frame)";
    case open_status::bad_mac: return "frame failed authentication (bad MAC)";
  }
  return "unknown";
}

nonce session_nonce(direction dir, std::uint64_t counter) {
  nonce n{};
  n[0] = static_cast<std::uint8_t>(dir);
  for (int i = 0; i < 8; ++i) n[16 + i] = static_cast<std::uint8_t>(counter >> (56 - 8 * i));
  return n;
}

session_cipher::session_cipher(shared_key key, direction outgoing)
    : key_(std::move(key)),
      outgoing_(outgoing),
      incoming_(outgoing == direction::client_to_server ? direction::server_to_client
                                                        : direction::client_to_server) {}

nonce session_cipher::next_nonce() {
  if (send_counter_ == std::numeric_limits<std::uint64_t>::max()) {
    // Unreachable in practice (2^64 frames), but a wrapped counter would reuse a nonce.
    throw std::overflow_error("session nonce counter exhausted");
  }
  return session_nonce(outgoing_, ++send_counter_);
}

void session_cipher::seal(std::string_view plaintext, std::vector<std::uint8_t>& out) {
  const nonce n = next_nonce();
  const std::size_t start = out.size();
  out.resize(start + session_overhead + plaintext.size());
  std::uint8_t* body = out.data() + start;
  std::copy(n.begin(), n.end(), body);
  crypto_box_easy_afternm(body + nonce_size, reinterpret_cast<const unsigned char*>(plaintext.data()),
                          plaintext.size(), n.data(), key_.data());
}

std::size_t session_cipher::begin_body(std::vector<std::uint8_t>& out) {
  const std::size_t start = out.size();
  out.resize(start + session_overhead);
  return start;
}

void session_cipher::end_body(std::vector<std::uint8_t>& out, std::size_t body_start) {
  if (body_start + session_overhead >= out.size()) throw std::logic_error("end_body without plaintext");
  const nonce n = next_nonce();
  std::uint8_t* body = out.data() + body_start;
  std::copy(n.begin(), n.end(), body);
  // In place: the ciphertext (after the MAC) lands exactly where the plaintext is, which
  // crypto_secretbox (under crypto_box_easy_afternm) supports; only partial overlap is refused.
  std::uint8_t* box = body + nonce_size;
  crypto_box_easy_afternm(box, box + mac_size, out.size() - body_start - session_overhead, n.data(),
                          key_.data());
}

session_cipher session_cipher::resume(shared_key key, direction outgoing, std::uint64_t sent,
                                      std::uint64_t received) {
  session_cipher cipher(std::move(key), outgoing);
  cipher.send_counter_ = sent;
  cipher.receive_counter_ = received;
  return cipher;
}

opened_frame session_cipher::open(std::span<const std::uint8_t> body) {
  opened_frame result;
  result.status = open_into(body, result.plaintext, &result.counter);
  return result;
}

open_status session_cipher::open_into(std::span<const std::uint8_t> body, std::string& plaintext,
                                      std::uint64_t* counter_out) {
  // Not cleared up front: resize() below would then zero-fill the whole buffer on every frame.
  const auto refuse = [&plaintext](open_status why) {
    plaintext.clear();
    return why;
  };
  if (body.size() < session_overhead + 1) return refuse(open_status::too_short);
  if (body[0] != static_cast<std::uint8_t>(incoming_)) {
    return refuse(body[0] == static_cast<std::uint8_t>(outgoing_) ? open_status::wrong_direction
                                                                   : open_status::bad_nonce);
  }
  if (!std::all_of(body.begin() + 1, body.begin() + 16, [](std::uint8_t b) { return b == 0; })) {
    return refuse(open_status::bad_nonce);
  }
  std::uint64_t counter = 0;
  for (int i = 0; i < 8; ++i) counter = (counter << 8) | body[16 + i];
  if (counter_out) *counter_out = counter;
  if (counter <= receive_counter_) return refuse(open_status::replayed);
  const std::size_t box_size = body.size() - nonce_size;
  plaintext.resize(box_size - mac_size);
  if (crypto_box_open_easy_afternm(reinterpret_cast<unsigned char*>(plaintext.data()),
                                   body.data() + nonce_size, box_size, body.data(), key_.data()) != 0) {
    return refuse(open_status::bad_mac);
  }
  // Only an authentic frame moves the window: a forged frame cannot burn counters.
  receive_counter_ = counter;
  return open_status::ok;
}

}  // namespace natter::crypto
