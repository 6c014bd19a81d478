#pragma once
// The envelope's body encoding (PROTOCOL.md "End-to-end envelope"): standard base64 with
// padding (libsodium's sodium_base64_VARIANT_ORIGINAL), and wiping of plaintext buffers, for
// callers that must not include sodium.h (STYLE.md lesson 2).
//
// Failure contract: from_base64 returns nullopt for anything that is not exactly canonical
// standard base64 with padding (no whitespace, no trailing bytes). Both never throw but on
// allocation failure.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace natter::crypto::e2e {

[[nodiscard]] std::string to_base64(std::span<const std::uint8_t> in);
[[nodiscard]] std::optional<std::vector<std::uint8_t>> from_base64(std::string_view in);

// sodium_memzero over the buffer's whole capacity-in-use; the size is kept.
void wipe(std::span<std::uint8_t> buffer);
void wipe(std::string& text);

}  // namespace natter::crypto::e2e
