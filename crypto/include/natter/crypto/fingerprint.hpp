#pragma once
// Fingerprints (docs/PROTOCOL.md §7): the first 16 bytes of SHA-256(public key) as 8 groups of
// 4 lowercase hex digits joined by '-', e.g. 3b6a-27bc-ceb6-a42d-62a3-a8d0-2a6f-0d73.
// 128 bits is far beyond what anyone can search for a colliding key, and 39 characters is short
// enough to read aloud over a phone.
#include <string>
#include <string_view>

#include "natter/crypto/keys.hpp"

namespace natter::crypto {

[[nodiscard]] std::string fingerprint(const public_key& key);

// Accepts what a human might paste: any case, with or without '-', ':' or spaces. Returns the
// canonical form, or nullopt if `text` is not 32 hex digits after removing separators.
[[nodiscard]] std::optional<std::string> normalize_fingerprint(std::string_view text);

}  // namespace natter::crypto
