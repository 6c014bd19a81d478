#include "natter/crypto/hello.hpp"

#include <algorithm>

#include "natter/crypto/fingerprint_v2.hpp"

namespace natter::crypto {

namespace {
constexpr std::uint8_t hello_magic[4] = {'N', 'A', 'T', 'R'};
constexpr std::uint8_t refusal_magic[4] = {'N', 'A', 'T', 'E'};
constexpr std::size_t hello_key_offset = 8;  // magic (4), version, role, reserved (2)

bool starts_with(std::span<const std::uint8_t> body, const std::uint8_t (&magic)[4]) {
  return body.size() >= 4 && std::equal(magic, magic + 4, body.begin());
}
}  // namespace

std::vector<std::uint8_t> encode_hello(role sender, const public_key& key, std::uint8_t version) {
  std::vector<std::uint8_t> body(hello_size, 0);
  std::copy(hello_magic, hello_magic + 4, body.begin());
  body[4] = version;
  body[5] = static_cast<std::uint8_t>(sender);
  std::copy(key.begin(), key.end(), body.begin() + hello_key_offset);
  return body;
}

std::optional<hello> decode_hello(std::span<const std::uint8_t> body) {
  if (!starts_with(body, hello_magic) || body.size() != hello_size) return std::nullopt;
  hello h;
  h.version = body[4];
  h.role_byte = body[5];
  std::copy(body.begin() + hello_key_offset, body.end(), h.key.begin());
  return h;
}

std::vector<std::uint8_t> encode_hello_header(role sender, std::uint8_t version) {
  std::vector<std::uint8_t> body(hello_header_size, 0);
  std::copy(hello_magic, hello_magic + 4, body.begin());
  body[4] = version;
  body[5] = static_cast<std::uint8_t>(sender);
  return body;
}

std::optional<hello_header> decode_hello_header(std::span<const std::uint8_t> body) {
  if (!starts_with(body, hello_magic) || body.size() < hello_header_size) return std::nullopt;
  return hello_header{body[4], body[5]};
}

bool has_hello_magic(std::span<const std::uint8_t> body) { return starts_with(body, hello_magic); }

std::string describe_hello(std::span<const std::uint8_t> body) {
  const auto h = decode_hello(body);
  if (!h) return "malformed hello";
  return "version " + std::to_string(h->version) + ", role " + std::to_string(h->role_byte) +
         ", server key fingerprint " + server_fingerprint_v2(h->key);
}

std::vector<std::uint8_t> encode_refusal(std::string_view reason) { return encode_refusal(reason, protocol_version); }

std::vector<std::uint8_t> encode_refusal(std::string_view reason, std::uint8_t version) {
  std::vector<std::uint8_t> body(refusal_magic, refusal_magic + 4);
  body.push_back(version);
  const auto text = reason.substr(0, max_refusal_text);
  body.insert(body.end(), text.begin(), text.end());
  return body;
}

std::optional<std::string> decode_refusal(std::span<const std::uint8_t> body) {
  if (!starts_with(body, refusal_magic) || body.size() < 5) return std::nullopt;
  const auto text = body.subspan(5, std::min(body.size() - 5, max_refusal_text));
  return std::string(text.begin(), text.end());
}

}  // namespace natter::crypto
