#include "natter/crypto/fingerprint_v2.hpp"

#include <sodium.h>

#include <array>

#include "natter/crypto/fingerprint.hpp"

namespace natter::crypto {

namespace {

// The domain label, with its terminating zero byte hashed too: 22 bytes.
constexpr std::string_view domain_label{"natter fingerprint v2\0", 22};
static_assert(domain_label.size() == 22 && domain_label.back() == '\0');
constexpr std::string_view server_label{"natter server fingerprint v2\0", 29};
static_assert(server_label.size() == 29 && server_label.back() == '\0');
static_assert(fingerprint_v2_bytes <= crypto_hash_sha256_BYTES);

constexpr std::size_t hex_digits = fingerprint_v2_bytes * 2;

std::string grouped(std::string_view hex) {
  std::string out(fingerprint_v2_prefix);
  for (std::size_t i = 0; i < hex.size(); ++i) {
    if (i > 0 && i % 4 == 0) out += '-';
    out += hex[i];
  }
  return out;
}

// The hex digits of `text`, lowercased, separators dropped; nullopt on any other character.
std::optional<std::string> hex_digits_of(std::string_view text) {
  std::string hex;
  for (const char c : text) {
    if (c == '-' || c == ':' || c == ' ') continue;
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) hex += c;
    else if (c >= 'A' && c <= 'F') hex += static_cast<char>(c - 'A' + 'a');
    else return std::nullopt;
  }
  return hex;
}

// Removes a leading "2:" (after any leading spaces). Only a '2' directly followed by ':' is the
// prefix: a bare fingerprint never has a separator after its first digit, so "2a3b-…" keeps its 2.
bool strip_prefix(std::string_view& text) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  if (!text.starts_with(fingerprint_v2_prefix)) return false;
  text.remove_prefix(fingerprint_v2_prefix.size());
  return true;
}

std::string labelled_fingerprint(std::string_view label, std::span<const std::uint8_t, 32> key) {
  std::array<std::uint8_t, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256_state state;
  crypto_hash_sha256_init(&state);
  crypto_hash_sha256_update(&state, reinterpret_cast<const unsigned char*>(label.data()), label.size());
  crypto_hash_sha256_update(&state, key.data(), key.size());
  crypto_hash_sha256_final(&state, digest.data());
  return grouped(to_hex(std::span(digest).first(fingerprint_v2_bytes)));
}

}  // namespace

std::string fingerprint_v2(const ed25519_public_key& key) { return labelled_fingerprint(domain_label, key.bytes); }

std::string server_fingerprint_v2(const public_key& server_static) {
  return labelled_fingerprint(server_label, server_static);
}

std::optional<std::string> normalize_fingerprint_v2(std::string_view text) {
  strip_prefix(text);
  const auto hex = hex_digits_of(text);
  if (!hex || hex->size() != hex_digits) return std::nullopt;
  return grouped(*hex);
}

std::optional<parsed_fingerprint> parse_any_fingerprint(std::string_view text) {
  std::string_view rest = text;
  const bool prefixed = strip_prefix(rest);
  const auto hex = hex_digits_of(rest);
  if (!hex) return std::nullopt;
  if (hex->size() == hex_digits) return parsed_fingerprint{2, grouped(*hex)};
  if (!prefixed) {
    if (auto v1 = normalize_fingerprint(text)) return parsed_fingerprint{1, std::move(*v1)};
  }
  return std::nullopt;
}

}  // namespace natter::crypto
