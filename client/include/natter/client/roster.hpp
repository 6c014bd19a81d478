#pragma once
// Who is online, as the server last told us (pure). welcome and users replace the list,
// presence adds and removes one user, whois refreshes a fingerprint and key. Names are kept by their
// folded spelling, because the server compares names case-insensitively.
//
// End-to-end peers (a key and a session per user, a later issue) belong beside `users_` here:
// the roster is the one place that knows who we can talk to.
#include <cstddef>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "natter/messages.hpp"

namespace natter::client {

class roster {
 public:
  // A complete list; `announced_count` is the server's total (welcome lists at most a page).
  void replace(const std::vector<user_info>& users, std::size_t announced_count);
  void joined(const std::string& name, const std::string& fingerprint, const std::string& key);
  void left(std::string_view name);
  // A whois answer: the fingerprint and identity key (hex) the server now vouches for.
  void saw_key(std::string_view name, const std::string& fingerprint, const std::string& key);

  // Users by folded name (std::map: sorted).
  [[nodiscard]] const std::map<std::string, user_info>& users() const { return users_; }
  [[nodiscard]] std::size_t online_count() const { return online_count_; }
  // The server's spelling of `name` if the user is known here, else `name` as given.
  [[nodiscard]] std::string spelling_of(std::string_view name) const;

 private:
  std::map<std::string, user_info> users_;
  std::size_t online_count_ = 0;  // may exceed users_.size() after a welcome with many users
};

}  // namespace natter::client
