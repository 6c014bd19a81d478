#pragma once
// Tests only: a handshake observer that keeps a copy of the session key it is told, so a test can
// check that both sides derived the same key, or that a key log line holds it. Production code
// never copies a session key out; it reaches the key log only through the observer.
#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "natter/crypto/handshake_observer.hpp"
#include "natter/crypto/keys.hpp"

namespace natter::testing {

struct key_recorder final : crypto::handshake_observer {
  int calls = 0;
  crypto::nonce connection_id{};
  std::optional<std::array<std::uint8_t, crypto::key_size>> key;

  void on_session_key(const crypto::nonce& id, const crypto::shared_key& k) noexcept override {
    ++calls;
    connection_id = id;
    key.emplace();
    std::copy(k.data(), k.data() + crypto::key_size, key->begin());
  }
  [[nodiscard]] std::string key_hex() const { return key ? crypto::to_hex(*key) : std::string(); }
  [[nodiscard]] bool same_key_as(const std::uint8_t* other) const {
    return key && std::equal(key->begin(), key->end(), other);
  }
};

}  // namespace natter::testing
