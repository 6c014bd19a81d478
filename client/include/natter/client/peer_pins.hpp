#pragma once
// Peers' identity keys, pinned per server on first sight (TOFU, like known_hosts for servers),
// so a server that hands out another key for a name is caught: the end-to-end layer would
// otherwise seal for whoever holds the substituted key. Stored beside known_hosts in a file
// named `peers` (mode 0600, written atomically), one entry per line:
//
//   peer HOST:PORT NAME ED25519_KEY_HEX
//
// Names are folded to lower case (the server compares them so). Pure apart from load()/save().
//
// Failure contract: parse() drops malformed lines (one bad line must not unpin everyone);
// load() and save() throw peer_pins_error naming the file and the reason (a file of someone
// else's, one others may write, a failed write); check() and accept() never throw.
#include <filesystem>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

#include "natter/crypto/identity_v2.hpp"

namespace natter::client {

struct peer_pins_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

enum class peer_pin_status {
  pinned,   // the key pinned earlier
  new_pin,  // first sight: pinned now (the caller saves and shows a notice)
  changed,  // another key than the pinned one: warn loudly and hold end-to-end sends
};

class peer_pins {
 public:
  [[nodiscard]] static peer_pins parse(std::string_view content);
  // A missing file is an empty store.
  [[nodiscard]] static peer_pins load(const std::filesystem::path& path);

  // Compares `key` with the pin for (server, name); pins it if there was none. A changed key is
  // not pinned: accept() does that, when the user says so.
  [[nodiscard]] peer_pin_status check(const std::string& server, std::string_view name,
                                      const crypto::ed25519_public_key& key);
  // The user accepts `key` for (server, name): it replaces the pin.
  void accept(const std::string& server, std::string_view name, const crypto::ed25519_public_key& key);
  [[nodiscard]] std::optional<crypto::ed25519_public_key> pinned(const std::string& server, std::string_view name) const;

  [[nodiscard]] std::string serialize() const;
  // Atomically, mode 0600, the directory created 0700 if missing.
  void save(const std::filesystem::path& path) const;

 private:
  std::map<std::pair<std::string, std::string>, crypto::ed25519_public_key> pins_;
};

}  // namespace natter::client
