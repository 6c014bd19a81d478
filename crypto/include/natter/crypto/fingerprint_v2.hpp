#pragma once
// Fingerprints v2 (docs/PROTOCOL.md §6, docs/PROTOCOL.md §6): the name a human
// compares for an Ed25519 identity key.
//
//   SHA-256("natter fingerprint v2" ‖ 0x00 ‖ ed25519_pk), the first 20 bytes,
//   shown as "2:" + 10 groups of 4 lowercase hex digits joined by '-', e.g.
//   2:8399-a96a-c395-75da-9d08-ae14-829c-6c56-3249-7005 (51 characters).
//
// The label makes a v2 fingerprint unrelated to any other SHA-256 of the same 32 bytes (a v1
// fingerprint is SHA-256 of a bare X25519 key); the "2:" prefix tells a reader which kind it is
// looking at. 160 bits: no one can search for a second key with the same fingerprint.
// Stores keep full public keys; a fingerprint is only for showing and for what a human pastes.
#include <optional>
#include <string>
#include <string_view>

#include "natter/crypto/identity_v2.hpp"

namespace natter::crypto {

inline constexpr std::size_t fingerprint_v2_bytes = 20;
inline constexpr std::string_view fingerprint_v2_prefix = "2:";

[[nodiscard]] std::string fingerprint_v2(const ed25519_public_key& key);

// A server's fingerprint: its static key is an X25519 key (the Noise responder's s, in its
// hello), not an identity, so it has a label of its own:
//   SHA-256("natter server fingerprint v2" ‖ 0x00 ‖ x25519_pk), the first 20 bytes, shown as above.
// The same 32 bytes never give the same fingerprint as a user identity or a v1 fingerprint.
[[nodiscard]] std::string server_fingerprint_v2(const public_key& server_static);

// Accepts what a human might paste: any case, separators '-', ':' and spaces anywhere, with or
// without the "2:" prefix. Returns the canonical form (with the prefix), or nullopt unless
// `text` is exactly 40 hex digits after removing the prefix and the separators.
[[nodiscard]] std::optional<std::string> normalize_fingerprint_v2(std::string_view text);

// A fingerprint of either version, as pasted: v1 (docs/PROTOCOL.md §7) is 32 hex digits and has
// no prefix; v2 is 40 hex digits, "2:" optional. Anything else (including "2:" before 32 hex
// digits) is nullopt. `canonical` is the form fingerprint() or fingerprint_v2() prints, so a
// caller compares it with the string computed from a key.
struct parsed_fingerprint {
  int version = 0;  // 1 or 2
  std::string canonical;
  friend bool operator==(const parsed_fingerprint&, const parsed_fingerprint&) = default;
};
[[nodiscard]] std::optional<parsed_fingerprint> parse_any_fingerprint(std::string_view text);

}  // namespace natter::crypto
