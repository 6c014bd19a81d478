#pragma once
// Something that is told a connection's session key at the one moment the handshake derives it.
// This is how the opt-in key log (keylog_writer) learns keys: the cipher itself never hands its
// key out, so a key leaves a session only through an observer that was passed in on purpose.
#include "natter/crypto/keys.hpp"

namespace natter::crypto {

class handshake_observer {
 public:
  virtual ~handshake_observer() = default;
  // Called once per connection, on the handshake's caller's thread, when the session key exists.
  // `connection_id` names the connection on the wire (PROTOCOL.md §3). Must not throw.
  virtual void on_session_key(const nonce& connection_id, const shared_key& session_key) noexcept = 0;
};

}  // namespace natter::crypto
