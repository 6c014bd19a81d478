#include "natter/crypto/fingerprint.hpp"

#include <sodium.h>

#include <array>

namespace natter::crypto {

namespace {
constexpr std::size_t fingerprint_bytes = 16;

std::string group_hex(std::string_view hex) {
  std::string out;
  for (std::size_t i = 0; i < hex.size(); ++i) {
    if (i > 0 && i % 4 == 0) out += '-';
    out += hex[i];
  }
  return out;
}
}  // namespace

std::string fingerprint(const public_key& key) {
  std::array<std::uint8_t, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), key.data(), key.size());
  return group_hex(to_hex(std::span(digest).first(fingerprint_bytes)));
}

std::optional<std::string> normalize_fingerprint(std::string_view text) {
  std::string hex;
  for (const char c : text) {
    if (c == '-' || c == ':' || c == ' ') continue;
    if (c >= '0' && c <= '9') hex += c;
    else if (c >= 'a' && c <= 'f') hex += c;
    else if (c >= 'A' && c <= 'F') hex += static_cast<char>(c - 'A' + 'a');
    else return std::nullopt;
  }
  if (hex.size() != fingerprint_bytes * 2) return std::nullopt;
  return group_hex(hex);
}

}  // namespace natter::crypto
