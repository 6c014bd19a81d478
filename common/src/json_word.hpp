#pragma once
// Private to natter_common: the word-at-a-time test that lets the JSON scanner and the JSON
// writer skip the plain part of a string eight bytes at a time (chat text is mostly plain, and
// byte-by-byte loops were the largest part of both).
#include <cstdint>
#include <cstring>

namespace natter::detail {

inline constexpr std::uint64_t byte_ones = 0x0101010101010101ull;
inline constexpr std::uint64_t byte_highs = 0x8080808080808080ull;

// True if one of the eight bytes at `p` is '"', '\\' or below 0x20: a byte a JSON string must
// escape (writing) or that ends, escapes or breaks it (reading). Bytes of 0x80 and above do not
// count. The tests are Bit Twiddling Hacks' "has zero byte" and "has byte less than n" (n <= 128),
// exact as a yes/no answer for any byte values: a byte >= 0x80 never flags itself (its
// complement has no high bit), and a borrow only spreads upwards from a byte that already matched.
inline bool has_json_special_byte(const char* p) {
  std::uint64_t word = 0;
  std::memcpy(&word, p, sizeof word);
  const auto has_zero_byte = [](std::uint64_t v) { return ((v - byte_ones) & ~v & byte_highs) != 0; };
  const bool has_control = ((word - byte_ones * 0x20) & ~word & byte_highs) != 0;
  return has_control || has_zero_byte(word ^ (byte_ones * '"')) || has_zero_byte(word ^ (byte_ones * '\\'));
}

// True if one of the eight bytes at `p` is 0x80 or above.
inline bool has_high_byte(const char* p) {
  std::uint64_t word = 0;
  std::memcpy(&word, p, sizeof word);
  return (word & byte_highs) != 0;
}

}  // namespace natter::detail
