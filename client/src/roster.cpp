#include "natter/client/roster.hpp"

#include <algorithm>

#include "natter/text.hpp"

namespace natter::client {

void roster::replace(const std::vector<user_info>& users, std::size_t announced_count) {
  users_.clear();
  for (const auto& user : users) users_[fold_name(user.name)] = user;
  online_count_ = std::max(announced_count, users_.size());
}

void roster::joined(const std::string& name, const std::string& fingerprint, const std::string& key) {
  if (users_.emplace(fold_name(name), user_info{name, fingerprint, 0, key}).second) ++online_count_;
}

void roster::left(std::string_view name) {
  if (users_.erase(fold_name(name)) > 0 && online_count_ > 0) --online_count_;
}

void roster::saw_key(std::string_view name, const std::string& fingerprint, const std::string& key) {
  if (auto it = users_.find(fold_name(name)); it != users_.end()) {
    it->second.fingerprint = fingerprint;
    it->second.key = key;
  }
}

std::string roster::spelling_of(std::string_view name) const {
  if (auto it = users_.find(fold_name(name)); it != users_.end()) return it->second.name;
  return std::string(name);
}

}  // namespace natter::client
