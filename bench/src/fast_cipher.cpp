#include "fast_cipher.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>

#include "natter/crypto/session_cipher.hpp"

namespace natter::bench {

fast_cipher::fast_cipher(const std::uint8_t* key, std::uint64_t sent, std::uint64_t received)
    : sent_(sent), received_(received) {
  std::memcpy(key_.data(), key, key_.size());
}

fast_cipher::~fast_cipher() { sodium_memzero(key_.data(), key_.size()); }

fast_cipher& fast_cipher::operator=(fast_cipher&& other) noexcept {
  key_ = other.key_;
  sent_ = other.sent_;
  received_ = other.received_;
  sodium_memzero(other.key_.data(), other.key_.size());
  return *this;
}

void fast_cipher::seal_frame(std::string_view plaintext, std::vector<std::uint8_t>& out) {
  const auto n = crypto::session_nonce(crypto::direction::client_to_server, ++sent_);
  const std::size_t body = crypto::session_overhead + plaintext.size();
  const std::size_t start = out.size();
  out.resize(start + 4 + body);
  std::uint8_t* p = out.data() + start;
  p[0] = static_cast<std::uint8_t>(body >> 24);
  p[1] = static_cast<std::uint8_t>(body >> 16);
  p[2] = static_cast<std::uint8_t>(body >> 8);
  p[3] = static_cast<std::uint8_t>(body);
  std::copy(n.begin(), n.end(), p + 4);
  crypto_box_easy_afternm(p + 4 + n.size(), reinterpret_cast<const unsigned char*>(plaintext.data()),
                          plaintext.size(), n.data(), key_.data());
}

bool fast_cipher::open(std::span<const std::uint8_t> body, std::string& out) {
  if (body.size() <= crypto::session_overhead) return false;
  if (body[0] != static_cast<std::uint8_t>(crypto::direction::server_to_client)) return false;
  std::uint64_t counter = 0;
  for (int i = 0; i < 8; ++i) counter = (counter << 8) | body[16 + i];
  if (counter <= received_) return false;
  out.resize(body.size() - crypto::session_overhead);
  if (crypto_box_open_easy_afternm(reinterpret_cast<unsigned char*>(out.data()), body.data() + 24,
                                   body.size() - 24, body.data(), key_.data()) != 0) {
    return false;
  }
  received_ = counter;
  return true;
}

}  // namespace natter::bench
