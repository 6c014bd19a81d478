#pragma once
// Something that is told a v2 connection's two session keys at the one moment the v2 handshake
// derives them (docs/PROTOCOL.md §9). As with the v1 handshake_observer, this is the
// only way a key leaves the handshake other than the session_keys_v2 handed to its caller, so a
// key log exists only where an observer was passed in on purpose.
#include "natter/crypto/keys.hpp"

namespace natter::crypto {

class handshake_v2_observer {
 public:
  virtual ~handshake_v2_observer() = default;
  // Called once per established handshake, on the caller's thread, right after split().
  // `connection_id` is the client's ephemeral public key (the first 32 bytes of Noise message 1,
  // visible on the wire). Must not throw, and must not keep the key references.
  virtual void on_session_keys(const public_key& connection_id, const secret_key& client_to_server,
                               const secret_key& server_to_client) noexcept = 0;
};

}  // namespace natter::crypto
