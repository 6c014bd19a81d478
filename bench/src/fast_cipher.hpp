#pragma once
// The client side of natter's session cipher (PROTOCOL.md §4) for a load generator: the same
// nonces, counters and crypto_box_*_afternm calls as crypto::session_cipher, but opening into a
// caller's reusable buffer, so that receiving a batch costs no allocation. It takes over from a
// client_session once that has joined, continuing its counters.
#include <array>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace natter::bench {

class fast_cipher {
 public:
  fast_cipher() = default;
  fast_cipher(const std::uint8_t* key, std::uint64_t sent, std::uint64_t received);
  ~fast_cipher();
  fast_cipher(const fast_cipher&) = delete;
  fast_cipher& operator=(const fast_cipher&) = delete;
  fast_cipher& operator=(fast_cipher&& other) noexcept;

  // Appends length prefix + nonce + box for `plaintext` (client -> server) to `out`.
  void seal_frame(std::string_view plaintext, std::vector<std::uint8_t>& out);
  // Opens a server -> client frame body into `out`. False if the frame is not authentic or its
  // counter does not increase.
  [[nodiscard]] bool open(std::span<const std::uint8_t> body, std::string& out);

 private:
  std::array<std::uint8_t, 32> key_{};
  std::uint64_t sent_ = 0;
  std::uint64_t received_ = 0;
};

}  // namespace natter::bench
