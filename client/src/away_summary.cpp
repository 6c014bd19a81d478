#include "natter/client/away_summary.hpp"

#include "natter/text.hpp"

namespace natter::client {

namespace {

std::map<std::string, std::string> by_folded_name(const std::vector<user_info>& users) {
  std::map<std::string, std::string> out;
  for (const auto& user : users) out.emplace(fold_name(user.name), user.name);
  return out;
}

// Names in `from` but not in `other`, as "a, b left" (bounded).
std::string missing(const std::map<std::string, std::string>& from, const std::map<std::string, std::string>& other,
                    const std::string& verb) {
  std::string names;
  std::size_t count = 0;
  for (const auto& [folded, name] : from) {
    if (other.count(folded)) continue;
    if (++count > away_summary_max_names) continue;
    if (!names.empty()) names += ", ";
    names += printable(name);
  }
  if (count == 0) return {};
  if (count > away_summary_max_names) {
    names += " and " + std::to_string(count - away_summary_max_names) + " more";
  }
  return names + " " + verb;
}

}  // namespace

std::string away_summary(const user_list_view& before, const user_list_view& after) {
  const auto old_users = by_folded_name(before.users);
  const auto new_users = by_folded_name(after.users);
  const std::string left = after.complete ? missing(old_users, new_users, "left") : std::string{};
  const std::string joined = before.complete ? missing(new_users, old_users, "joined") : std::string{};
  if (left.empty()) return joined;
  if (joined.empty()) return left;
  return left + ", " + joined;
}

}  // namespace natter::client
