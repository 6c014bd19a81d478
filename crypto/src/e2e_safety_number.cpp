#include "natter/crypto/e2e_safety_number.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>
#include <tuple>
#include <vector>

namespace natter::crypto::e2e {

namespace {

constexpr std::size_t max_label = 255;  // every name and the room carry a u8 length
constexpr std::string_view room_code_label = "natter/e2e room code 1";
constexpr std::array<std::uint8_t, 2> safety_number_version = {0x00, 0x01};
constexpr std::string_view base32_alphabet = "abcdefghijklmnopqrstuvwxyz234567";

bool valid_label(std::string_view s) { return !s.empty() && s.size() <= max_label; }

std::string half_of(const party& p) {
  std::array<std::uint8_t, crypto_hash_sha512_BYTES> digest{};
  crypto_hash_sha512_state state;
  crypto_hash_sha512_init(&state);
  crypto_hash_sha512_update(&state, safety_number_version.data(), safety_number_version.size());
  crypto_hash_sha512_update(&state, p.key.bytes.data(), p.key.bytes.size());
  crypto_hash_sha512_update(&state, reinterpret_cast<const std::uint8_t*>(p.name.data()), p.name.size());
  crypto_hash_sha512_update(&state, p.key.bytes.data(), p.key.bytes.size());
  crypto_hash_sha512_final(&state, digest.data());
  for (std::size_t i = 1; i < safety_number_iterations; ++i) {
    crypto_hash_sha512_init(&state);
    crypto_hash_sha512_update(&state, digest.data(), digest.size());
    crypto_hash_sha512_update(&state, p.key.bytes.data(), p.key.bytes.size());
    crypto_hash_sha512_final(&state, digest.data());
  }
  std::string digits;
  for (std::size_t chunk = 0; chunk < 6; ++chunk) {
    std::uint64_t v = 0;
    for (std::size_t i = 0; i < 5; ++i) v = v << 8 | digest[chunk * 5 + i];
    const std::string five = std::to_string(v % 100000);
    digits += std::string(5 - five.size(), '0') + five;
  }
  return digits;
}

void put_label(std::vector<std::uint8_t>& out, std::string_view s) {
  out.push_back(static_cast<std::uint8_t>(s.size()));
  out.insert(out.end(), s.begin(), s.end());
}

}  // namespace

std::optional<std::string> safety_number(const party& a, const party& b) {
  if (!valid_label(a.name) || !valid_label(b.name)) return std::nullopt;
  auto first = half_of(a);
  auto second = half_of(b);
  if (second < first) std::swap(first, second);
  const std::string digits = first + second;
  std::string out;
  for (std::size_t i = 0; i < digits.size(); i += 5) {
    if (i > 0) out += ' ';
    out += digits.substr(i, 5);
  }
  return out;
}

std::optional<std::string> room_code(std::string_view room, std::span<const party> members) {
  if (!valid_label(room) || members.empty()) return std::nullopt;
  std::vector<const party*> sorted;
  for (const auto& m : members) {
    if (!valid_label(m.name)) return std::nullopt;
    sorted.push_back(&m);
  }
  const auto before = [](const party* x, const party* y) { return std::tie(x->name, x->key) < std::tie(y->name, y->key); };
  std::sort(sorted.begin(), sorted.end(), before);
  for (std::size_t i = 1; i < sorted.size(); ++i) {
    if (!before(sorted[i - 1], sorted[i])) return std::nullopt;  // listed twice
  }

  std::vector<std::uint8_t> input(room_code_label.begin(), room_code_label.end());
  put_label(input, room);
  const auto count = static_cast<std::uint32_t>(sorted.size());
  for (int shift = 24; shift >= 0; shift -= 8) input.push_back(static_cast<std::uint8_t>(count >> shift));
  for (const party* m : sorted) {
    put_label(input, m->name);
    input.insert(input.end(), m->key.bytes.begin(), m->key.bytes.end());
  }
  std::array<std::uint8_t, 32> digest{};
  crypto_generichash(digest.data(), digest.size(), input.data(), input.size(), nullptr, 0);

  // 80 bits = 16 base32 characters, 5 bits each, most significant first.
  std::string out;
  std::size_t bit = 0;
  for (std::size_t c = 0; c < 16; ++c, bit += 5) {
    unsigned v = 0;
    for (std::size_t i = 0; i < 5; ++i) {
      const std::size_t b = bit + i;
      v = v << 1 | ((digest[b / 8] >> (7 - b % 8)) & 1u);
    }
    if (c > 0 && c % 4 == 0) out += '-';
    out += base32_alphabet[v];
  }
  return out;
}

}  // namespace natter::crypto::e2e
