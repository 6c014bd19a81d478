#pragma once
// Tests only: a v2 handshake observer that keeps a copy of the session keys it is told, so a
// test can check that both sides derived the same keys, or that a key log line holds them.
// Production code never copies a session key out; it reaches the key log only through the
// observer.
#include <algorithm>
#include <array>
#include <cstdint>
#include <optional>
#include <string>

#include "natter/crypto/handshake_v2_observer.hpp"
#include "natter/crypto/keys.hpp"

namespace natter::testing {

struct key_recorder final : crypto::handshake_v2_observer {
  using raw_key = std::array<std::uint8_t, crypto::key_size>;
  int calls = 0;
  crypto::public_key connection_id{};
  std::optional<raw_key> client_to_server;
  std::optional<raw_key> server_to_client;

  void on_session_keys(const crypto::public_key& id, const crypto::secret_key& c2s,
                       const crypto::secret_key& s2c) noexcept override {
    ++calls;
    connection_id = id;
    client_to_server.emplace();
    std::copy(c2s.data(), c2s.data() + crypto::key_size, client_to_server->begin());
    server_to_client.emplace();
    std::copy(s2c.data(), s2c.data() + crypto::key_size, server_to_client->begin());
  }
};

}  // namespace natter::testing
