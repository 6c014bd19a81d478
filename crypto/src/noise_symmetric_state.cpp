#include "natter/crypto/noise_symmetric_state.hpp"

#include <sodium.h>

#include <algorithm>

namespace natter::crypto::noise {

namespace {

std::span<const std::uint8_t> view(const secret_key& key) { return {key.data(), key.size()}; }

void store(const hash& value, secret_key& into) { std::copy(value.begin(), value.end(), into.data()); }

}  // namespace

split_keys::~split_keys() { sodium_memzero(handshake_hash.data(), handshake_hash.size()); }

symmetric_state::symmetric_state(std::string_view protocol_name) {
  const auto* name = reinterpret_cast<const std::uint8_t*>(protocol_name.data());
  if (protocol_name.size() <= hash_size) {
    std::copy(name, name + protocol_name.size(), h_.data());  // the rest of h_ is already zero
  } else {
    store(sha256(std::span(name, protocol_name.size())), h_);
  }
  std::copy(h_.data(), h_.data() + h_.size(), ck_.data());
}

symmetric_state::~symmetric_state() { wipe(); }

void symmetric_state::wipe() {
  ck_.wipe();
  h_.wipe();
  cipher_.clear();
}

void symmetric_state::mix_key(std::span<const std::uint8_t> input_key_material) {
  secret_key temp_k;
  hkdf(ck_, input_key_material, ck_, temp_k);
  cipher_.initialize_key(temp_k);
}  // temp_k wiped by its destructor

void symmetric_state::mix_hash(std::span<const std::uint8_t> data) {
  hash next = sha256(view(h_), data);
  store(next, h_);
  sodium_memzero(next.data(), next.size());
}

std::optional<bytes> symmetric_state::encrypt_and_hash(std::span<const std::uint8_t> plaintext) {
  auto ciphertext = cipher_.encrypt_with_ad(view(h_), plaintext);
  if (ciphertext) mix_hash(*ciphertext);
  return ciphertext;
}

std::optional<bytes> symmetric_state::decrypt_and_hash(std::span<const std::uint8_t> ciphertext) {
  auto plaintext = cipher_.decrypt_with_ad(view(h_), ciphertext);
  if (plaintext) mix_hash(ciphertext);
  return plaintext;
}

split_keys symmetric_state::split() {
  split_keys keys;
  hkdf(ck_, {}, keys.initiator_to_responder, keys.responder_to_initiator);
  std::copy(h_.data(), h_.data() + h_.size(), keys.handshake_hash.begin());
  wipe();
  return keys;
}

hash symmetric_state::handshake_hash() const {
  hash out{};
  std::copy(h_.data(), h_.data() + h_.size(), out.begin());
  return out;
}

}  // namespace natter::crypto::noise
