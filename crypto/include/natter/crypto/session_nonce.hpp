#pragma once
// The nonce of a session frame (docs/PROTOCOL.md "Session frames"): a direction byte (1 client
// to server, 2 server to client), 15 zero bytes, and the frame's counter as u64 big-endian.
// Each direction has its own key and counts its own frames from 1, so no nonce is ever used
// twice under a key; the direction byte names a reflected frame for what it is.
#include <cstdint>

#include "natter/crypto/keys.hpp"

namespace natter::crypto {

enum class direction : std::uint8_t { client_to_server = 1, server_to_client = 2 };

[[nodiscard]] nonce session_nonce(direction dir, std::uint64_t counter);

}  // namespace natter::crypto
