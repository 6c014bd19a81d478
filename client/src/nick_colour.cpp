#include "natter/client/nick_colour.hpp"

#include <cstdint>

#include "natter/text.hpp"

namespace natter::client {

std::size_t nick_colour(std::string_view name, std::size_t palette_size) {
  if (palette_size == 0) return 0;
  // FNV-1a (32 bit): tiny, stable across runs and platforms (std::hash is neither promised).
  std::uint32_t hash = 2166136261u;
  for (const char c : fold_name(name)) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 16777619u;
  }
  return hash % palette_size;
}

}  // namespace natter::client
