#include "natter/crypto/keys.hpp"

#include <sodium.h>

#include <stdexcept>

namespace natter::crypto {

static_assert(key_size == crypto_box_PUBLICKEYBYTES);
static_assert(key_size == crypto_box_SECRETKEYBYTES);
static_assert(key_size == crypto_box_BEFORENMBYTES);
static_assert(nonce_size == crypto_box_NONCEBYTES);
static_assert(mac_size == crypto_box_MACBYTES);

void init_sodium() {
  if (sodium_init() < 0) throw std::runtime_error("libsodium could not be initialised");
}

void random_bytes(std::span<std::uint8_t> out) { randombytes_buf(out.data(), out.size()); }

secret_bytes::~secret_bytes() { wipe(); }

secret_bytes::secret_bytes(secret_bytes&& other) noexcept : bytes_(other.bytes_) { other.wipe(); }

secret_bytes& secret_bytes::operator=(secret_bytes&& other) noexcept {
  if (this != &other) {
    bytes_ = other.bytes_;
    other.wipe();
  }
  return *this;
}

void secret_bytes::wipe() { sodium_memzero(bytes_.data(), bytes_.size()); }

key_pair key_pair::generate() {
  key_pair pair;
  crypto_box_keypair(pair.public_key_bytes.data(), pair.secret.data());
  return pair;
}

key_pair key_pair::from_secret(secret_key secret) {
  key_pair pair;
  pair.secret = std::move(secret);
  if (crypto_scalarmult_base(pair.public_key_bytes.data(), pair.secret.data()) != 0) {
    throw std::runtime_error("cannot derive a public key from this secret key");
  }
  return pair;
}

std::optional<shared_key> shared_key::derive(const public_key& peer, const secret_key& own) {
  shared_key key;
  if (crypto_box_beforenm(key.key_.data(), peer.data(), own.data()) != 0) return std::nullopt;
  return key;
}

shared_key shared_key::from_bytes(std::span<const std::uint8_t, key_size> raw) {
  shared_key key;
  std::copy(raw.begin(), raw.end(), key.key_.data());
  return key;
}

std::string to_hex(std::span<const std::uint8_t> data) {
  std::string out(data.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), data.data(), data.size());
  out.pop_back();  // the terminating NUL sodium_bin2hex writes
  return out;
}

bool from_hex(std::string_view hex, std::span<std::uint8_t> out) {
  std::size_t written = 0;
  const char* end = nullptr;
  return hex.size() == out.size() * 2 &&
         sodium_hex2bin(out.data(), out.size(), hex.data(), hex.size(), nullptr, &written, &end) == 0 &&
         written == out.size() && end == hex.data() + hex.size();
}

std::optional<public_key> public_key_from_hex(std::string_view hex) {
  public_key key{};
  if (!from_hex(hex, key)) return std::nullopt;
  return key;
}

}  // namespace natter::crypto
