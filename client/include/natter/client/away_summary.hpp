#pragma once
// What changed in the user list while we were disconnected (pure): the roster before the
// connection was lost against the welcome after reconnecting, as "bob left, carol joined".
// Presence notices sent while we were away never reached us, so this is the one way to learn
// who came and went; messages said in the meantime are gone (the server keeps no history).
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "natter/messages.hpp"

namespace natter::client {

// At most this many names per direction; the rest are counted ("and 3 more joined").
inline constexpr std::size_t away_summary_max_names = 10;

struct user_list_view {
  std::vector<user_info> users;
  bool complete = true;  // false: the server announced more users than it listed (a long welcome)
};

// "bob left, carol joined", or "" if nobody came or went. Names are compared folded, shown
// printable. An incomplete list cannot show who is missing from it, so with an incomplete
// `after` nobody is said to have left, and with an incomplete `before` nobody to have joined.
[[nodiscard]] std::string away_summary(const user_list_view& before, const user_list_view& after);

}  // namespace natter::client
