#pragma once
// What the harnesses and the corpus generator share: libsodium with a deterministic random
// source (so a crashing input replays exactly), fixed identities, the harnesses' input format,
// which turns one byte string into a mode and a sequence of frames, the invariant check and the
// near-valid mutation (an honest message XORed with an input frame).
#include <sodium.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "natter/crypto/identity_v2.hpp"
#include "natter/crypto/keys.hpp"

namespace natter::fuzz {

// A harness's invariant: abort, so libFuzzer reports the input that broke it.
inline void check(bool ok) {
  if (!ok) std::abort();
}

// splitmix64: not cryptographic, and that is the point here. Reset before every input so that
// ephemeral keys and nonces, and therefore every code path, depend only on the input.
inline std::uint64_t rng_state = 0;

inline std::uint64_t next_random() {
  std::uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

inline void reset_random(std::uint64_t seed = 1) { rng_state = seed; }

inline const char* rng_name() { return "natter-fuzz-deterministic"; }
inline std::uint32_t rng_random() { return static_cast<std::uint32_t>(next_random()); }
inline void rng_buf(void* out, std::size_t size) {
  auto* p = static_cast<std::uint8_t*>(out);
  for (std::size_t i = 0; i < size; ++i) p[i] = static_cast<std::uint8_t>(next_random());
}

// Must run before sodium_init(): libsodium takes the implementation only then.
inline void init_deterministic_sodium() {
  static randombytes_implementation deterministic = {rng_name, rng_random, nullptr, nullptr,
                                                     rng_buf, nullptr};
  randombytes_set_implementation(&deterministic);
  crypto::init_sodium();
}

// Long-term keys from fixed secrets: the corpus's hellos and key exchanges stay valid.
inline crypto::key_pair fixed_identity(std::uint8_t fill) {
  crypto::secret_key secret;
  std::memset(secret.data(), fill, secret.size());
  return crypto::key_pair::from_secret(std::move(secret));
}

// An identity v2 from a fixed seed: a client whose message 3 the corpus can carry.
inline crypto::identity_v2 fixed_identity_v2(std::uint8_t fill) {
  crypto::secret_bytes seed;
  std::memset(seed.data(), fill, seed.size());
  return crypto::identity_v2::from_seed(std::move(seed));
}

// Handshake harness input: byte 0 picks the mode; then frames, each a u16 BE length and that
// many bytes (the last may be cut short by the end of input).
inline constexpr std::size_t handshake_modes = 6;

inline std::vector<std::vector<std::uint8_t>> split_frames(std::span<const std::uint8_t> data) {
  std::vector<std::vector<std::uint8_t>> frames;
  std::size_t i = 0;
  while (i + 2 <= data.size()) {
    const std::size_t length = (std::size_t{data[i]} << 8) | data[i + 1];
    i += 2;
    const std::size_t take = std::min(length, data.size() - i);
    frames.emplace_back(data.begin() + static_cast<std::ptrdiff_t>(i),
                        data.begin() + static_cast<std::ptrdiff_t>(i + take));
    i += take;
  }
  return frames;
}

inline void append_framed(std::vector<std::uint8_t>& out, std::span<const std::uint8_t> frame) {
  out.push_back(static_cast<std::uint8_t>(frame.size() >> 8));
  out.push_back(static_cast<std::uint8_t>(frame.size()));
  out.insert(out.end(), frame.begin(), frame.end());
}

// Near-valid inputs: XORs the next of `masks` into `message`, from its first byte. A mask longer
// than the message appends bytes (xor with 0), so the length can change too. No masks left: the
// message goes through unchanged.
inline void xor_next_mask(std::vector<std::uint8_t>& message, const std::vector<std::vector<std::uint8_t>>& masks,
                          std::size_t& next_mask) {
  if (next_mask >= masks.size()) return;
  const auto& mask = masks[next_mask++];
  if (mask.size() > message.size()) message.resize(mask.size(), 0);
  for (std::size_t i = 0; i < mask.size(); ++i) message[i] ^= mask[i];
}

}  // namespace natter::fuzz
