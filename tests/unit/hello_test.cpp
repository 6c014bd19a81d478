// The handshake's plaintext frames (docs/PROTOCOL.md §2) and the handshake observer (§8's key log
// learns keys only through it).
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <optional>
#include <vector>

#include "natter/crypto/fingerprint.hpp"
#include "natter/crypto/handshake.hpp"
#include "natter/crypto/hello.hpp"
#include "natter/crypto/keys.hpp"
#include "natter/frame.hpp"
#include "../key_recorder.hpp"

namespace cr = natter::crypto;
using body = std::vector<std::uint8_t>;

namespace {

using recording_observer = natter::testing::key_recorder;

// Seals one byte with `cipher` and opens it with `other`: true if they share the session key.
bool opens(cr::session_cipher& sender, cr::session_cipher& receiver) {
  std::vector<std::uint8_t> wire;
  natter::append_sealed_frame(sender, "x", wire);
  const std::span<const std::uint8_t> frame_body(wire.data() + 4, wire.size() - 4);
  return receiver.open(frame_body).status == cr::open_status::ok;
}

}  // namespace

TEST_CASE("decode_hello reads what encode_hello wrote, and nothing else") {
  const auto id = cr::key_pair::generate();
  const auto wire = cr::encode_hello(cr::role::server, id.public_key_bytes);
  const auto h = cr::decode_hello(wire);
  REQUIRE(h.has_value());
  CHECK(h->version == cr::protocol_version);
  CHECK(h->role_byte == 2);
  CHECK(h->key == id.public_key_bytes);
  CHECK(cr::has_hello_magic(wire));

  body short_hello(wire.begin(), wire.end() - 1);
  CHECK_FALSE(cr::decode_hello(short_hello).has_value());
  CHECK(cr::has_hello_magic(short_hello));
  body long_hello = wire;
  long_hello.push_back(0);
  CHECK_FALSE(cr::decode_hello(long_hello).has_value());
  body no_magic = wire;
  no_magic[0] = 'X';
  CHECK_FALSE(cr::decode_hello(no_magic).has_value());
  CHECK_FALSE(cr::has_hello_magic(no_magic));
  CHECK_FALSE(cr::decode_hello(body{}).has_value());

  // Version and role are reported as sent, for the handshake to judge.
  const auto v2 = cr::decode_hello(cr::encode_hello(cr::role::client, id.public_key_bytes, 2));
  REQUIRE(v2.has_value());
  CHECK(v2->version == 2);
  CHECK(v2->role_byte == 1);
}

TEST_CASE("describe_hello names version, role and the key's fingerprint") {
  const auto id = cr::key_pair::generate();
  const auto text = cr::describe_hello(cr::encode_hello(cr::role::server, id.public_key_bytes));
  CHECK(text == "version 1, role 2, key fingerprint " + cr::fingerprint(id.public_key_bytes));
  CHECK(cr::describe_hello(body{'N', 'A', 'T', 'R'}) == "malformed hello");
}

TEST_CASE("the observer is told the session key once, on each side, and never on failure") {
  const auto client_id = cr::key_pair::generate();
  const auto server_id = cr::key_pair::generate();
  recording_observer client_seen, server_seen;
  cr::handshake client(cr::role::client, client_id, nullptr, &client_seen);
  cr::handshake server(cr::role::server, server_id, nullptr, &server_seen);

  const auto server_hello = server.start();
  REQUIRE(client.on_frame(server_hello[0]).empty());
  const auto opening = client.accept_peer_key();
  const auto server_kx = server.on_frame(opening[0]);
  CHECK(server_seen.calls == 0);
  REQUIRE(server.on_frame(opening[1]).empty());
  CHECK(server_seen.calls == 1);
  CHECK(client_seen.calls == 0);
  REQUIRE(client.on_frame(server_kx[0]).empty());
  CHECK(client_seen.calls == 1);

  CHECK(client_seen.connection_id == client.connection_id());
  CHECK(server_seen.connection_id == server.connection_id());
  REQUIRE(client_seen.key.has_value());
  REQUIRE(server_seen.key.has_value());
  CHECK(*client_seen.key == *server_seen.key);

  // The observed key is the one the ciphers use: a cipher made from it opens their frames.
  auto client_cipher = client.take_cipher();
  cr::session_cipher from_log(cr::shared_key::from_bytes(*client_seen.key), cr::direction::server_to_client);
  CHECK(opens(client_cipher, from_log));

  // A key exchange that fails authentication tells the observer nothing.
  recording_observer failed_seen;
  cr::handshake victim(cr::role::server, server_id, nullptr, &failed_seen);
  (void)victim.start();
  REQUIRE(victim.on_frame(cr::encode_hello(cr::role::client, client_id.public_key_bytes)).size() == 1);
  body forged = opening[1];
  forged.back() ^= 1;
  (void)victim.on_frame(forged);
  CHECK(victim.current() == cr::handshake::state::failed);
  CHECK(failed_seen.calls == 0);
}
