// The handshake's plaintext frames (docs/PROTOCOL.md "Handshake"): the hello layout and its
// description. (The v2 observer is tested with the v2 handshake.)
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <optional>
#include <vector>

#include "natter/crypto/fingerprint_v2.hpp"
#include "natter/crypto/hello.hpp"
#include "natter/crypto/keys.hpp"

namespace cr = natter::crypto;
using body = std::vector<std::uint8_t>;


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

TEST_CASE("describe_hello names version, role and the server key's fingerprint") {
  const auto id = cr::key_pair::generate();
  const auto text = cr::describe_hello(cr::encode_hello(cr::role::server, id.public_key_bytes, cr::protocol_version_2));
  CHECK(text == "version 2, role 2, server key fingerprint " + cr::server_fingerprint_v2(id.public_key_bytes));
  CHECK(cr::describe_hello(body{'N', 'A', 'T', 'R'}) == "malformed hello");
}
