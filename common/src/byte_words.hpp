#pragma once
// Private to natter_common: the word-at-a-time tests that let the JSON scanner, the JSON writer
// and the text checks skip the plain part of a string eight bytes at a time (chat text is mostly
// plain, and byte-by-byte loops were the largest part of each). The tests are Bit Twiddling
// Hacks' "has zero byte" and "has byte less than n" (n <= 128): exact as yes/no answers for any
// byte values, since a byte >= 0x80 never flags itself (its complement has no high bit) and a
// borrow only spreads upwards from a byte that already matched.
#include <cstdint>
#include <cstring>

namespace natter::detail {

inline constexpr std::uint64_t byte_ones = 0x0101010101010101ull;
inline constexpr std::uint64_t byte_highs = 0x8080808080808080ull;

inline std::uint64_t load_word(const char* p) {
  std::uint64_t word = 0;
  std::memcpy(&word, p, sizeof word);
  return word;
}
inline bool has_zero_byte(std::uint64_t v) { return ((v - byte_ones) & ~v & byte_highs) != 0; }
inline bool has_byte_below_space(std::uint64_t v) { return ((v - byte_ones * 0x20) & ~v & byte_highs) != 0; }

// True if one of the eight bytes at `p` is 0x80 or above.
inline bool has_high_byte(const char* p) { return (load_word(p) & byte_highs) != 0; }

// True if one of the eight bytes at `p` is '"', '\\' or below 0x20: a byte a JSON string must
// escape (writing) or that ends, escapes or breaks it (reading). Bytes of 0x80 and above do not
// count.
inline bool has_json_special_byte(const char* p) {
  const std::uint64_t word = load_word(p);
  return has_byte_below_space(word) || has_zero_byte(word ^ (byte_ones * '"')) ||
         has_zero_byte(word ^ (byte_ones * '\\'));
}

// True if the eight bytes at `p` are all printable ASCII (0x20..0x7e): nothing a text check
// needs to look at.
inline bool is_printable_ascii_word(const char* p) {
  const std::uint64_t word = load_word(p);
  return (word & byte_highs) == 0 && !has_byte_below_space(word) && !has_zero_byte(word ^ (byte_ones * 0x7f));
}

}  // namespace natter::detail
