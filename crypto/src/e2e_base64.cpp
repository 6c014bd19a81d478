#include "natter/crypto/e2e_base64.hpp"

#include <sodium.h>

namespace natter::crypto::e2e {

std::string to_base64(std::span<const std::uint8_t> in) {
  const std::size_t encoded = sodium_base64_encoded_len(in.size(), sodium_base64_VARIANT_ORIGINAL);
  std::string out(encoded, '\0');  // encoded counts the terminating NUL
  sodium_bin2base64(out.data(), out.size(), in.data(), in.size(), sodium_base64_VARIANT_ORIGINAL);
  out.resize(encoded - 1);
  return out;
}

std::optional<std::vector<std::uint8_t>> from_base64(std::string_view in) {
  std::vector<std::uint8_t> out(in.size() / 4 * 3 + 3);
  std::size_t length = 0;
  const char* end = nullptr;
  if (sodium_base642bin(out.data(), out.size(), in.data(), in.size(), nullptr, &length, &end,
                        sodium_base64_VARIANT_ORIGINAL) != 0 ||
      end != in.data() + in.size()) {
    return std::nullopt;
  }
  out.resize(length);
  // Non-canonical encodings (stray bits in the last character) would let one body have two
  // spellings; refuse them so a body is one string.
  if (to_base64(out) != in) return std::nullopt;
  return out;
}

void wipe(std::span<std::uint8_t> buffer) {
  if (!buffer.empty()) sodium_memzero(buffer.data(), buffer.size());
}

void wipe(std::string& text) {
  if (!text.empty()) sodium_memzero(text.data(), text.size());
}

}  // namespace natter::crypto::e2e
