#include "fast_cipher.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>

#include "natter/crypto/session_cipher.hpp"
#include "natter/frame.hpp"

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
  // The length prefix is the codec's (common/frame.hpp); only the box itself is done here.
  append_frame_header(out, crypto::session_overhead + plaintext.size());
  out.insert(out.end(), n.begin(), n.end());
  const std::size_t box_at = out.size();
  out.resize(box_at + crypto::mac_size + plaintext.size());
  crypto_box_easy_afternm(out.data() + box_at, reinterpret_cast<const unsigned char*>(plaintext.data()),
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
