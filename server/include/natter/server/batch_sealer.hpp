#pragma once
// Batch assembly and sealing: the one place where queued messages become sealed frames.
//
// This is the server's hot path (one `say` to N users is sealed N times, once per recipient's
// key). The messages arrive already serialised and shared by every recipient; here each is
// copied exactly once, straight into the write buffer, and sealed in place there
// (begin_frame/end_frame around session_cipher::begin_body/end_body): no plaintext buffer, no per-message allocation.
#include <cstddef>
#include <span>

#include "natter/crypto/session_cipher.hpp"
#include "natter/frame.hpp"
#include "natter/limits.hpp"
#include "natter/server/router.hpp"

namespace natter::server {

// Frames natter sends stay within the default limit every client accepts, whatever this
// server's own --max-frame is.
inline constexpr std::size_t max_outgoing_plaintext = limits::default_max_frame - crypto::session_overhead;

// Appends `batch` to `out` as few sealed wire frames as fit: each frame's plaintext is one
// message as is, or a batch array "[m1,m2,...]" of at most limits::max_batch messages and
// max_outgoing_plaintext bytes. A single message larger than that still gets a frame of its own
// (natter never builds one; the router's messages are bounded by max_text).
void seal_batch(crypto::session_cipher& cipher, std::span<const shared_message> batch, bytes& out);

}  // namespace natter::server
