#pragma once
// Each name's colour in the full screen (pure): a stable hash of the folded name picks one of
// `palette_size` colours, so "bob" has the same colour in every session and on every screen
// with the same palette, and "Bob" the same as "bob".
#include <cstddef>
#include <string_view>

namespace natter::client {

// An index in [0, palette_size); 0 when palette_size is 0.
[[nodiscard]] std::size_t nick_colour(std::string_view name, std::size_t palette_size);

}  // namespace natter::client
