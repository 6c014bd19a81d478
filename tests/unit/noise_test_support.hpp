#pragma once
// Helpers shared by the Noise tests: hex decoding written independently of natter's own, keys
// from fixed bytes, and a pair of XK handshake states with injected ephemerals.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "natter/crypto/noise_handshake_state.hpp"
#include "test_support.hpp"

namespace natter::test {

namespace noise = natter::crypto::noise;

inline std::vector<std::uint8_t> from_hex(std::string_view hex) {
  if (hex.size() % 2 != 0) throw std::invalid_argument("odd-length hex");
  const auto nibble = [](char c) -> std::uint8_t {
    if (c >= '0' && c <= '9') return static_cast<std::uint8_t>(c - '0');
    if (c >= 'a' && c <= 'f') return static_cast<std::uint8_t>(c - 'a' + 10);
    if (c >= 'A' && c <= 'F') return static_cast<std::uint8_t>(c - 'A' + 10);
    throw std::invalid_argument("not hex");
  };
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    out.push_back(static_cast<std::uint8_t>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  }
  return out;
}

inline crypto::secret_key secret_from(std::span<const std::uint8_t> raw) {
  REQUIRE(raw.size() == crypto::secret_key::size());
  crypto::secret_key key;
  std::memcpy(key.data(), raw.data(), raw.size());
  return key;
}

inline crypto::secret_key secret_filled(std::uint8_t fill) {
  crypto::secret_key key;
  std::memset(key.data(), fill, key.size());
  return key;
}

inline crypto::key_pair pair_filled(std::uint8_t fill) { return crypto::key_pair::from_secret(secret_filled(fill)); }

inline std::span<const std::uint8_t> view(const crypto::secret_key& key) { return {key.data(), key.size()}; }

inline const std::vector<std::uint8_t> test_prologue = to_bytes("natter v2 test");

// Static keys for an initiator and a responder; handshakes between them with ephemerals
// injected from `ephemeral_fill` (so the same fill gives the same messages).
struct xk_parties {
  crypto::key_pair initiator_static = pair_filled(0x11);
  crypto::key_pair responder_static = pair_filled(0x22);

  [[nodiscard]] noise::handshake_state initiator(std::uint8_t ephemeral_fill = 0x33) const {
    auto state = noise::handshake_state::initiator(initiator_static, responder_static.public_key_bytes, test_prologue);
    REQUIRE(state.set_ephemeral_for_testing(secret_filled(ephemeral_fill)));
    return state;
  }
  [[nodiscard]] noise::handshake_state responder(std::uint8_t ephemeral_fill = 0x44) const {
    auto state = noise::handshake_state::responder(responder_static, test_prologue);
    REQUIRE(state.set_ephemeral_for_testing(secret_filled(ephemeral_fill)));
    return state;
  }
};

// The three handshake messages of an honest run, with short payloads.
struct xk_transcript {
  std::vector<std::uint8_t> message[3];
};

inline const std::vector<std::uint8_t> payload_of[3] = {to_bytes("one"), to_bytes("two!"), to_bytes("three")};

inline xk_transcript honest_run(noise::handshake_state& initiator, noise::handshake_state& responder) {
  xk_transcript t;
  for (int i = 0; i < 3; ++i) {
    auto& sender = i % 2 == 0 ? initiator : responder;
    auto& receiver = i % 2 == 0 ? responder : initiator;
    auto written = sender.write_message(payload_of[i]);
    REQUIRE(written.has_value());
    t.message[i] = *written;
    const auto read = receiver.read_message(t.message[i]);
    REQUIRE(read.has_value());
    REQUIRE(*read == payload_of[i]);
  }
  return t;
}

}  // namespace natter::test
