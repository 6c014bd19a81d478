#pragma once
// The pin decision for a server key (SSH-style trust on first use), separated from file I/O and
// prompting so every branch can be tested.
#include <optional>
#include <string>

#include "natter/client/known_hosts.hpp"
#include "natter/crypto/keys.hpp"

namespace natter::client {

struct trust_policy {
  bool accept_new = false;                      // --accept-new
  std::optional<std::string> expect_fingerprint;  // --expect-fingerprint, normalised
  bool interactive = false;                     // a user can be asked
};

enum class verdict {
  trusted,         // pinned and matching: go on
  pin_and_trust,   // unknown, but policy accepts it: pin it, then go on
  ask_user,        // unknown: ask "Trust this server?"
  refuse_unknown,  // unknown and nobody may accept it (non-interactive without flags)
  mismatch,        // pinned key differs, or --expect-fingerprint does not match: exit 3
};

struct verification {
  verdict outcome = verdict::refuse_unknown;
  std::string offered_fingerprint;
  std::string pinned_fingerprint;  // mismatch with a pin: the old one
  std::size_t pinned_line = 0;
  std::string message;             // for refuse_unknown and mismatch: what to tell the user
};

[[nodiscard]] verification verify_server_key(const known_hosts& pins, const std::string& host,
                                             const crypto::public_key& offered,
                                             const trust_policy& policy,
                                             const std::string& known_hosts_path);

}  // namespace natter::client
