#pragma once
// Helpers shared by the v2 handshake tests: v2 identities from fixed seeds, a recording observer,
// and a driver that runs a client and a server against each other, frame by frame, with a hook
// that sees (and may change) every frame on its way.
#include <doctest/doctest.h>

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <functional>
#include <vector>

#include "natter/crypto/handshake_v2.hpp"
#include "noise_test_support.hpp"

namespace natter::test {

using crypto::handshake_v2;
using body = std::vector<std::uint8_t>;
using v2_state = handshake_v2::state;

// An Ed25519 identity from a fixed seed, and its X25519 form, as identity v2 derives them.
inline crypto::client_identity_v2 identity_from_seed(std::uint8_t fill) {
  std::array<std::uint8_t, crypto_sign_SEEDBYTES> seed{};
  seed.fill(fill);
  std::array<std::uint8_t, crypto_sign_SECRETKEYBYTES> ed_secret{};
  crypto::client_identity_v2 id;
  REQUIRE(crypto_sign_seed_keypair(id.ed25519_public.bytes.data(), ed_secret.data(), seed.data()) == 0);
  crypto::secret_key x;
  REQUIRE(crypto_sign_ed25519_sk_to_curve25519(x.data(), ed_secret.data()) == 0);
  sodium_memzero(ed_secret.data(), ed_secret.size());
  id.x25519 = crypto::key_pair::from_secret(std::move(x));
  crypto::public_key x_public{};
  REQUIRE(crypto_sign_ed25519_pk_to_curve25519(x_public.data(), id.ed25519_public.bytes.data()) == 0);
  REQUIRE(x_public == id.x25519.public_key_bytes);  // the two derivations agree
  return id;
}

using raw_key = std::array<std::uint8_t, crypto::key_size>;
inline raw_key raw(const crypto::secret_key& k) {
  raw_key out{};
  std::copy_n(k.data(), out.size(), out.begin());
  return out;
}

// Keeps copies of what it is told (tests only: production code never copies a key out).
struct v2_key_recorder final : crypto::handshake_v2_observer {
  int calls = 0;
  crypto::public_key connection_id{};
  raw_key client_to_server{};
  raw_key server_to_client{};
  void on_session_keys(const crypto::public_key& id, const crypto::secret_key& c2s,
                       const crypto::secret_key& s2c) noexcept override {
    ++calls;
    connection_id = id;
    client_to_server = raw(c2s);
    server_to_client = raw(s2c);
  }
};

inline const crypto::server_parameters test_parameters{65536, 4096};

// The long-term keys of one server and one client. Handshakes borrow them, so a world stays put
// (not copyable, not movable) while its handshakes live.
struct v2_world {
  crypto::key_pair server_static = pair_filled(0x22);
  crypto::client_identity_v2 client_identity = identity_from_seed(0x11);

  v2_world() = default;
  v2_world(const v2_world&) = delete;
  v2_world& operator=(const v2_world&) = delete;

  [[nodiscard]] handshake_v2 server(std::uint8_t ephemeral_fill = 0x44,
                                    crypto::handshake_v2_observer* observer = nullptr) const {
    auto h = handshake_v2::server(server_static, test_parameters, observer);
    REQUIRE(h.set_ephemeral_for_testing(secret_filled(ephemeral_fill)));
    return h;
  }
  [[nodiscard]] handshake_v2 client(std::uint8_t ephemeral_fill = 0x33,
                                    crypto::handshake_v2_observer* observer = nullptr) const {
    auto h = handshake_v2::client(client_identity, observer);
    REQUIRE(h.set_ephemeral_for_testing(secret_filled(ephemeral_fill)));
    return h;
  }
};

// The frames of one run, in the order they were delivered: 0 server hello, 1 client hello and
// message 1, 2 message 2 (or a refusal), 3 message 3.
struct v2_transcript {
  std::vector<body> frames;
  [[nodiscard]] const body& at(std::size_t i) const {
    REQUIRE(i < frames.size());
    return frames[i];
  }
};

using frame_hook = std::function<void(std::size_t index, body& frame)>;

// Runs client and server against each other until neither has anything to say. The client
// accepts whatever server key it is shown (the pin check is the caller's; tests make it
// explicitly). `hook` sees each frame before delivery, by its index in the run, and may change it.
inline v2_transcript pump(handshake_v2& client, handshake_v2& server, const frame_hook& hook = {}) {
  v2_transcript t;
  std::vector<body> to_client = server.start();
  std::vector<body> to_server = client.start();
  const auto deliver = [&](std::vector<body>& frames, handshake_v2& receiver, std::vector<body>& replies) {
    for (auto& f : frames) {
      if (hook) hook(t.frames.size(), f);
      t.frames.push_back(f);
      for (auto& r : receiver.on_frame(f)) replies.push_back(std::move(r));
    }
    frames.clear();
  };
  for (int round = 0; round < 8; ++round) {
    deliver(to_client, client, to_server);
    if (client.current() == v2_state::awaiting_verdict) {
      for (auto& r : client.accept_peer_key()) to_server.push_back(std::move(r));
    }
    if (to_server.empty()) break;
    deliver(to_server, server, to_client);
    if (to_client.empty()) break;
  }
  return t;
}

inline v2_transcript honest_v2_run(handshake_v2& client, handshake_v2& server) {
  auto t = pump(client, server);
  REQUIRE(client.current() == v2_state::established);
  REQUIRE(server.current() == v2_state::established);
  REQUIRE(t.frames.size() == 4);
  return t;
}

inline crypto::public_key first_key_of(std::span<const std::uint8_t> bytes) {
  REQUIRE(bytes.size() >= crypto::key_size);
  crypto::public_key k{};
  std::copy_n(bytes.begin(), k.size(), k.begin());
  return k;
}

// The prologue as the design fixes it, built independently of handshake_v2.cpp.
inline body v2_prologue(std::span<const std::uint8_t> server_hello, std::span<const std::uint8_t> client_header) {
  body p = to_bytes("natter/2 handshake\n");
  p.insert(p.end(), server_hello.begin(), server_hello.end());
  p.insert(p.end(), client_header.begin(), client_header.end());
  return p;
}

// X25519 with raw libsodium, for attackers computing what DH values they can.
inline body x25519(const crypto::secret_key& own, const crypto::public_key& peer) {
  body shared(32);
  REQUIRE(crypto_scalarmult(shared.data(), own.data(), peer.data()) == 0);
  return shared;
}

}  // namespace natter::test
