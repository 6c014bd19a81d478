#pragma once
// Key types: a small C++ face on libsodium's crypto_box keys. sodium.h is included only in the
// .cpp files; sizes are checked against libsodium's constants there with static_assert.
#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace natter::crypto {

inline constexpr std::size_t key_size = 32;    // crypto_box_PUBLICKEYBYTES, _SECRETKEYBYTES, _BEFORENMBYTES
inline constexpr std::size_t nonce_size = 24;  // crypto_box_NONCEBYTES
inline constexpr std::size_t mac_size = 16;    // crypto_box_MACBYTES

using public_key = std::array<std::uint8_t, key_size>;
using nonce = std::array<std::uint8_t, nonce_size>;

// Calls sodium_init() (idempotent, thread-safe). Throws std::runtime_error if libsodium cannot
// start; everything else in natter::crypto assumes it has been called.
void init_sodium();

// Fills `out` with cryptographically secure random bytes (randombytes_buf).
void random_bytes(std::span<std::uint8_t> out);

// Fixed-size secret bytes, wiped with sodium_memzero when destroyed or moved from.
// Not copyable, so a secret exists in as few places as possible.
class secret_bytes {
 public:
  secret_bytes() = default;
  ~secret_bytes();
  secret_bytes(const secret_bytes&) = delete;
  secret_bytes& operator=(const secret_bytes&) = delete;
  secret_bytes(secret_bytes&& other) noexcept;
  secret_bytes& operator=(secret_bytes&& other) noexcept;

  [[nodiscard]] std::uint8_t* data() { return bytes_.data(); }
  [[nodiscard]] const std::uint8_t* data() const { return bytes_.data(); }
  [[nodiscard]] static constexpr std::size_t size() { return key_size; }
  void wipe();

 private:
  std::array<std::uint8_t, key_size> bytes_{};
};

using secret_key = secret_bytes;

// A long-term or ephemeral X25519 key pair.
struct key_pair {
  public_key public_key_bytes{};
  secret_key secret;

  // A fresh random key pair (crypto_box_keypair).
  [[nodiscard]] static key_pair generate();
  // The key pair whose secret is `secret` (public half by crypto_scalarmult_base).
  [[nodiscard]] static key_pair from_secret(secret_key secret);
};

// A precomputed shared key (crypto_box_beforenm), wiped on destruction.
class shared_key {
 public:
  // nullopt if libsodium refuses the peer key (all-zero or low-order points make the shared
  // secret zero, and crypto_box_beforenm then fails).
  [[nodiscard]] static std::optional<shared_key> derive(const public_key& peer, const secret_key& own);
  // For tests and the key log reader: wraps raw key bytes.
  [[nodiscard]] static shared_key from_bytes(std::span<const std::uint8_t, key_size> raw);

  [[nodiscard]] const std::uint8_t* data() const { return key_.data(); }

 private:
  secret_bytes key_;
};

// Lowercase hex of any bytes, and the reverse (nullopt unless exactly `size` bytes of hex).
[[nodiscard]] std::string to_hex(std::span<const std::uint8_t> data);
[[nodiscard]] std::optional<public_key> public_key_from_hex(std::string_view hex);
// Exactly `out.size()` bytes from 2·size hex digits into `out`; false (out unspecified) otherwise.
[[nodiscard]] bool from_hex(std::string_view hex, std::span<std::uint8_t> out);

}  // namespace natter::crypto
