#pragma once
// The plaintext frames of the handshake (docs/PROTOCOL.md §2): the hello each side sends first,
// and the refusal ("NATE") a server sends in place of its key exchange frame. Encoding and
// decoding live here, and only here: no other layer reads these bytes by offset.
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "natter/crypto/keys.hpp"

namespace natter::crypto {

enum class role : std::uint8_t { client = 1, server = 2 };

inline constexpr std::uint8_t protocol_version = 1;
inline constexpr std::size_t hello_size = 40;
inline constexpr std::size_t max_refusal_text = 512;

// A hello as read off the wire. `role_byte` is kept raw: an unknown role is reported, not mapped.
struct hello {
  std::uint8_t version = 0;
  std::uint8_t role_byte = 0;
  public_key key{};
};

[[nodiscard]] std::vector<std::uint8_t> encode_hello(role sender, const public_key& key,
                                                     std::uint8_t version = protocol_version);
// The hello in `body`, or nullopt if it lacks the "NATR" magic or is not exactly hello_size
// bytes. Version and role are returned as they are, for the caller to judge.
[[nodiscard]] std::optional<hello> decode_hello(std::span<const std::uint8_t> body);
// True if `body` starts with the hello magic (it may still be malformed).
[[nodiscard]] bool has_hello_magic(std::span<const std::uint8_t> body);
// A one-line description for traces: "version 1, role 2, key fingerprint ...", or why the body
// is not a hello.
[[nodiscard]] std::string describe_hello(std::span<const std::uint8_t> body);

// A refusal carrying `reason`, cut to max_refusal_text bytes.
[[nodiscard]] std::vector<std::uint8_t> encode_refusal(std::string_view reason);
// True if `body` is a refusal ("NATE"); its reason (sanitised by the caller before display).
[[nodiscard]] std::optional<std::string> decode_refusal(std::span<const std::uint8_t> body);

}  // namespace natter::crypto
