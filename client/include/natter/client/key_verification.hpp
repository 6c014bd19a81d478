#pragma once
// The /verify flow, for both front ends (pure). `/verify` shows the server's fingerprint,
// `/verify NAME` asks the server for NAME's (a whois, since the key to compare is the one the
// server vouches for); either way the person compares it out of band and answers y/N. A yes
// marks the full key (not the fingerprint shown) in the verified store kept here and asks the UI
// to save that entry. Keys travel as 64 hex digits, as the server and the driver give them; one
// that does not parse is never verified.
#include <optional>
#include <string>
#include <string_view>

#include "natter/client/conversation_output.hpp"
#include "natter/client/question.hpp"
#include "natter/client/verified_store.hpp"
#include "natter/messages.hpp"

namespace natter::client {

class key_verification {
 public:
  // `server` is "host:port" as pinned (known_hosts' host_key()).
  key_verification(std::string server, verified_store store);

  // "/verify ARGUMENT" (ARGUMENT empty: the server's key). `server_fingerprint` and `server_key`
  // are empty until the handshake is done. Returns the question to ask now, if any (a NAME waits
  // for its whois).
  [[nodiscard]] std::optional<question> start(std::string_view argument, const std::string& server_fingerprint,
                                              const std::string& server_key, outbox& out);
  // A whois answer (the caller shows it). Returns the question if it answers our /verify NAME.
  [[nodiscard]] std::optional<question> on_whois(const whois_event& whois, outbox& out);
  // A refused whois (no such user, bad name) ends the wait for it.
  void on_error(const error_event& error);
  // The answer to a verify_server or verify_user question.
  void answer(const question& asked, bool yes, outbox& out);

  [[nodiscard]] const verified_store& store() const { return store_; }
  [[nodiscard]] bool server_verified(std::string_view server_key_hex) const;
  [[nodiscard]] bool user_verified(std::string_view name, std::string_view identity_key_hex) const;

 private:
  std::string server_;
  verified_store store_;
  std::string awaiting_whois_;  // folded name of a /verify NAME waiting for its whois
};

}  // namespace natter::client
