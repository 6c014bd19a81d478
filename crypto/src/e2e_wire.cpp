#include "natter/crypto/e2e_wire.hpp"

#include <algorithm>
#include <cstring>

namespace natter::crypto::e2e {

namespace {

void put_u32(bytes& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<std::uint8_t>(v >> shift));
}

void put(bytes& out, std::span<const std::uint8_t> data) { out.insert(out.end(), data.begin(), data.end()); }

bool valid_room(std::string_view room) { return !room.empty() && room.size() <= max_room_size; }

void put_room(bytes& out, std::string_view room) {
  out.push_back(static_cast<std::uint8_t>(room.size()));
  out.insert(out.end(), room.begin(), room.end());
}

// A cursor over untrusted bytes: every take checks the length first, and after the first
// failure every later take fails too, so a parser checks ok() once at the end.
class reader {
 public:
  explicit reader(std::span<const std::uint8_t> in) : in_(in) {}

  std::span<const std::uint8_t> take(std::size_t size) {
    if (!ok_ || in_.size() - at_ < size) {
      ok_ = false;
      return {};
    }
    const auto out = in_.subspan(at_, size);
    at_ += size;
    return out;
  }
  std::uint8_t u8() {
    const auto b = take(1);
    return b.empty() ? 0 : b[0];
  }
  std::uint32_t u32() {
    const auto b = take(4);
    if (b.size() != 4) return 0;
    return std::uint32_t{b[0]} << 24 | std::uint32_t{b[1]} << 16 | std::uint32_t{b[2]} << 8 | b[3];
  }
  template <std::size_t N>
  std::array<std::uint8_t, N> fixed() {
    std::array<std::uint8_t, N> out{};
    const auto b = take(N);
    if (b.size() == N) std::copy(b.begin(), b.end(), out.begin());
    return out;
  }
  std::optional<std::string> room() {
    const std::size_t size = u8();
    const auto b = take(size);
    if (!ok_ || !valid_room(std::string_view(reinterpret_cast<const char*>(b.data()), b.size()))) {
      ok_ = false;
      return std::nullopt;
    }
    return std::string(b.begin(), b.end());
  }
  [[nodiscard]] std::size_t at() const { return at_; }
  [[nodiscard]] std::size_t left() const { return ok_ ? in_.size() - at_ : 0; }
  [[nodiscard]] bool ok() const { return ok_; }

 private:
  std::span<const std::uint8_t> in_;
  std::size_t at_ = 0;
  bool ok_ = true;
};

// A padded AEAD output: at least one block and the tag, whole blocks, within the size limit.
bool plausible_ciphertext(std::size_t size) {
  return size >= padding_block + aead_tag_size && size <= max_ciphertext_size &&
         (size - aead_tag_size) % padding_block == 0;
}

}  // namespace

bytes write_handshake_message(handshake_kind kind, std::span<const std::uint8_t> noise_message) {
  bytes out;
  out.reserve(1 + noise_message.size());
  out.push_back(static_cast<std::uint8_t>(kind));
  put(out, noise_message);
  return out;
}

std::optional<handshake_message_view> parse_handshake_message(std::span<const std::uint8_t> in) {
  if (in.empty()) return std::nullopt;
  if (in[0] != static_cast<std::uint8_t>(handshake_kind::init) &&
      in[0] != static_cast<std::uint8_t>(handshake_kind::response)) {
    return std::nullopt;
  }
  return handshake_message_view{static_cast<handshake_kind>(in[0]), in.subspan(1)};
}

bytes write_pairwise_header(const pairwise_header& header) {
  bytes out;
  out.reserve(pairwise_header_size);
  out.push_back(wire_version);
  put(out, header.id);
  put_u32(out, header.n);
  return out;
}

std::optional<pairwise_body_view> parse_pairwise_body(std::span<const std::uint8_t> in) {
  reader r(in);
  if (r.u8() != wire_version) return std::nullopt;
  pairwise_body_view body;
  body.header.id = r.fixed<session_id_size>();
  body.header.n = r.u32();
  body.header_bytes = in.first(std::min(in.size(), pairwise_header_size));
  body.nonce = r.fixed<aead_nonce_size>();
  if (!r.ok() || !plausible_ciphertext(r.left())) return std::nullopt;
  body.ciphertext = r.take(r.left());
  return body;
}

std::optional<bytes> write_room_header(const room_header& header) {
  if (!valid_room(header.room)) return std::nullopt;
  bytes out;
  out.push_back(wire_version);
  put_room(out, header.room);
  put_u32(out, header.epoch);
  put(out, header.key_id);
  put_u32(out, header.n);
  return out;
}

std::optional<room_message_view> parse_room_message(std::span<const std::uint8_t> in) {
  reader r(in);
  if (r.u8() != wire_version) return std::nullopt;
  room_message_view m;
  auto room = r.room();
  if (!room) return std::nullopt;
  m.header.room = std::move(*room);
  m.header.epoch = r.u32();
  m.header.key_id = r.fixed<sender_key_id_size>();
  m.header.n = r.u32();
  if (!r.ok()) return std::nullopt;
  m.header_bytes = in.first(r.at());
  m.nonce = r.fixed<aead_nonce_size>();
  if (!r.ok() || r.left() < signature_size || !plausible_ciphertext(r.left() - signature_size)) return std::nullopt;
  m.ciphertext = r.take(r.left() - signature_size);
  m.signed_bytes = in.first(r.at());
  m.sig = r.fixed<signature_size>();
  if (!r.ok() || r.left() != 0) return std::nullopt;
  return m;
}

std::optional<bytes> write_distribution(const distribution& d) {
  if (!valid_room(d.room)) return std::nullopt;
  bytes out;
  out.push_back(wire_version);
  put_room(out, d.room);
  put_u32(out, d.epoch);
  out.insert(out.end(), d.chain_key.data(), d.chain_key.data() + d.chain_key.size());
  put_u32(out, d.iteration);
  put(out, d.signing_key.bytes);
  return out;
}

std::optional<distribution> parse_distribution(std::span<const std::uint8_t> in) {
  reader r(in);
  if (r.u8() != wire_version) return std::nullopt;
  distribution d;
  auto room = r.room();
  if (!room) return std::nullopt;
  d.room = std::move(*room);
  d.epoch = r.u32();
  const auto ck = r.take(key_size);
  if (ck.size() == key_size) std::memcpy(d.chain_key.data(), ck.data(), key_size);
  d.iteration = r.u32();
  d.signing_key.bytes = r.fixed<ed25519_public_key_size>();
  if (!r.ok() || r.left() != 0) return std::nullopt;
  return d;
}

}  // namespace natter::crypto::e2e
