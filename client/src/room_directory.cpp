#include "natter/client/room_directory.hpp"

#include <algorithm>

#include "natter/text.hpp"

namespace natter::client {

bool room_directory::on_welcome(const welcome_event& welcome, e2e_clock::time_point now) {
  names_.clear();
  for (const auto& user : welcome.users) names_.insert(fold_name(user.name));
  claimed_ = welcome.user_count;
  complete_ = welcome.user_count <= names_.size();
  asked_at_ = now;
  return !complete_;
}

void room_directory::on_listed(const std::vector<user_info>& users) {
  for (const auto& user : users) names_.insert(fold_name(user.name));
}

void room_directory::complete() { complete_ = true; }

void room_directory::on_joined(const std::string& name) {
  // A join is a new member even if a page listed it already (it left and came back meanwhile).
  if (!complete_) ++claimed_;
  names_.insert(fold_name(name));
}

void room_directory::on_left(const std::string& name) {
  if (!complete_ && claimed_ > 0) --claimed_;
  names_.erase(fold_name(name));
}

std::size_t room_directory::members() const { return complete_ ? names_.size() : std::max(claimed_, names_.size()); }

std::optional<bool> room_directory::take_change() {
  const bool now_open = open();
  if (now_open == announced_open_) return std::nullopt;
  announced_open_ = now_open;
  return now_open;
}

}  // namespace natter::client
