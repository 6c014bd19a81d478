#pragma once
// Whether a line is about us (pure): a broadcast that names us, as a word, in any case
// ("alice: hi", "thanks Alice!", but not "malice"). Such lines and whispers to us are
// highlighted and ring the bell (conversation_config::alerts).
#include <string_view>

namespace natter::client {

[[nodiscard]] bool mentions_name(std::string_view text, std::string_view name);

}  // namespace natter::client
