#pragma once
// Every size and count natter bounds, in one place. docs/PROTOCOL.md §10 and docs/SECURITY.md
// document each of these; change them together.
#include <chrono>
#include <cstddef>
#include <cstdint>

namespace natter::limits {

// Largest frame body accepted by default (the 4-byte length prefix is not counted).
inline constexpr std::size_t default_max_frame = 64 * 1024;
// The smallest max-frame a server may be configured with: a welcome with a few users must fit.
inline constexpr std::size_t min_max_frame = 4 * 1024;
// Largest frame body that can be configured at all.
inline constexpr std::size_t max_max_frame = 16 * 1024 * 1024;

// Message text, in bytes of UTF-8.
inline constexpr std::size_t max_text = 4096;
// User names: 1..max_name characters of [A-Za-z0-9_.-].
inline constexpr std::size_t max_name = 32;
// Free-text reasons (quit reason, refusal text).
inline constexpr std::size_t max_reason = 200;
inline constexpr std::size_t max_refusal = 512;
// Messages in one batch frame.
inline constexpr std::size_t max_batch = 256;
// Users listed in one welcome/users message, so that a list always fits in a frame
// (256 entries of at most ~210 bytes each — a 32-character name, a v2 fingerprint, a 64-hex key
// — are about 54 KB, below the 64 KiB frame limit; tests/server/limits_test.cpp checks it).
inline constexpr std::size_t max_users_per_message = 256;
// An end-to-end body, in base64 characters: a room message of max_text bytes (padded to 64,
// with its header, nonce, tag and signature: about 4 300 bytes) is about 5 750; the rest is room.
inline constexpr std::size_t max_e2e_body = 8192;
// End-to-end control bodies (kinds handshake and key) per connection: joining a room of N
// members costs about 3·N of them at once, so they have their own, larger budget than chat.
inline constexpr double e2e_control_rate = 200;
inline constexpr double e2e_control_burst = 3000;
// JSON nesting accepted from a peer (messages need 3: batch array, object, users array).
inline constexpr int max_json_depth = 8;

// Server-side defaults.
inline constexpr std::size_t default_queue_bytes = 1024 * 1024;  // pending plaintext per client
inline constexpr std::size_t default_queue_messages = 4096;      // pending messages per client
inline constexpr std::chrono::seconds handshake_timeout{10};
inline constexpr std::chrono::seconds default_idle_timeout{90};
inline constexpr std::chrono::seconds client_ping_interval{30};

}  // namespace natter::limits
