#pragma once
// The plaintext frames of the handshake (docs/PROTOCOL.md §2): the hello each side sends first,
// and the refusal ("NATE") a server sends in place of Noise message 2. Encoding and
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

// The version this natter speaks; protocol 1's hellos are still recognised, to refuse them
// with a message that names version 2.
inline constexpr std::uint8_t protocol_version = 2;
inline constexpr std::uint8_t protocol_version_1 = 1;
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

// Protocol v2 (docs/PROTOCOL.md §2). The server hello keeps the v1 layout
// (encode_hello(role::server, key, protocol_version_2)); the client hello is only its 8-byte
// header, "NATR" || version || role || 2 reserved bytes, with Noise message 1 right behind it in
// the same body.
inline constexpr std::uint8_t protocol_version_2 = 2;
inline constexpr std::size_t hello_header_size = 8;

// The first 8 bytes of a hello, as read off the wire. The reserved bytes are sent as zeros and
// not judged here: in v2 they are authenticated by the handshake's prologue instead.
struct hello_header {
  std::uint8_t version = 0;
  std::uint8_t role_byte = 0;
};

// The 8-byte header: magic, `version`, the sender's role, two zero bytes.
[[nodiscard]] std::vector<std::uint8_t> encode_hello_header(role sender, std::uint8_t version = protocol_version_2);
// The header at the start of `body` (which may go on: the v2 client hello carries Noise message 1
// after it), or nullopt if `body` lacks the "NATR" magic or is shorter than hello_header_size.
[[nodiscard]] std::optional<hello_header> decode_hello_header(std::span<const std::uint8_t> body);
// A refusal naming `version` in its version byte (the one-argument form names protocol_version).
// decode_refusal() reads either.
[[nodiscard]] std::vector<std::uint8_t> encode_refusal(std::string_view reason, std::uint8_t version);

}  // namespace natter::crypto
