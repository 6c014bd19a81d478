#pragma once
// Batch assembly and sealing: the one place where queued messages become sealed frames.
//
// This is the server's hot path (one `say` to N users is sealed N times, once per recipient's
// key). The messages arrive already serialised and shared by every recipient; here each is
// copied exactly once, straight into the write buffer, and sealed in place there
// (begin_frame/end_frame around session_cipher_v2::begin_body/end_body, which pads in place): no
// plaintext buffer, no per-message allocation.
#include <cstddef>
#include <span>

#include "natter/crypto/session_cipher_v2.hpp"
#include "natter/frame.hpp"
#include "natter/limits.hpp"
#include "natter/server/router.hpp"

namespace natter::server {

// Frames natter sends stay within the default limit every client accepts, whatever this
// server's own --max-frame is: the largest plaintext whose padded, sealed body still fits.
inline constexpr std::size_t max_outgoing_plaintext =
    (limits::default_max_frame - crypto::session_cipher_v2::header_size) / crypto::session_cipher_v2::padding_block *
        crypto::session_cipher_v2::padding_block -
    1;
static_assert(crypto::session_cipher_v2::sealed_size(max_outgoing_plaintext) <= limits::default_max_frame);

// Appends `batch` to `out` as few sealed wire frames as fit: each frame's plaintext is one
// message as is, or a batch array "[m1,m2,...]" of at most limits::max_batch messages and
// max_outgoing_plaintext bytes. A single message larger than that still gets a frame of its own
// (natter never builds one; the router's messages are bounded by max_text).
// Returns exhausted if the cipher's send counter ran out: the frames sealed before it are in
// `out`, nothing of the rest (no unsealed byte is ever left there); the caller closes.
[[nodiscard]] crypto::session_cipher_v2::seal_status seal_batch(crypto::session_cipher_v2& cipher,
                                                                std::span<const shared_message> batch, bytes& out);

}  // namespace natter::server
