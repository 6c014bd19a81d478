#include "natter/client/host_verifier.hpp"

#include <doctest/doctest.h>

#include "natter/crypto/fingerprint.hpp"
#include "natter/crypto/fingerprint_v2.hpp"

namespace nc = natter::client;

namespace {
natter::crypto::public_key key_of(std::uint8_t fill) {
  natter::crypto::public_key k{};
  k.fill(fill);
  return k;
}
const std::string host = "127.0.0.1:9900";
}  // namespace

TEST_CASE("a pinned, matching key is trusted") {
  nc::known_hosts pins;
  pins.add(host, key_of(1));
  const auto v = nc::verify_server_key(pins, host, key_of(1), {}, "kh");
  CHECK(v.outcome == nc::verdict::trusted);
}

TEST_CASE("a changed key is a loud mismatch naming both fingerprints, whatever the flags") {
  const auto pins = nc::known_hosts::parse("# c\n127.0.0.1:9900 " + std::string(64, '1') + "\n");
  nc::trust_policy policy;
  SUBCASE("no flags") {}
  SUBCASE("--accept-new does not override a pin") { policy.accept_new = true; }
  SUBCASE("interactive does not ask") { policy.interactive = true; }
  const auto v = nc::verify_server_key(pins, host, key_of(2), policy, "/x/known_hosts");
  CHECK(v.outcome == nc::verdict::mismatch);
  CHECK(v.pinned_fingerprint == natter::crypto::server_fingerprint_v2(key_of(0x11)));
  CHECK(v.offered_fingerprint == natter::crypto::server_fingerprint_v2(key_of(2)));
  CHECK(v.message.find(v.pinned_fingerprint) != std::string::npos);
  CHECK(v.message.find(v.offered_fingerprint) != std::string::npos);
  CHECK(v.message.find("line 2 of /x/known_hosts") != std::string::npos);
}

TEST_CASE("an unknown key: ask, pin, or refuse depending on the policy") {
  const nc::known_hosts pins;
  const auto offered = key_of(3);
  const auto fp = natter::crypto::server_fingerprint_v2(offered);
  const auto v1_fp = natter::crypto::fingerprint(offered);  // written down in protocol 1's days

  CHECK(nc::verify_server_key(pins, host, offered, {false, {}, true}, "kh").outcome == nc::verdict::ask_user);
  CHECK(nc::verify_server_key(pins, host, offered, {false, {}, false}, "kh").outcome ==
        nc::verdict::refuse_unknown);
  CHECK(nc::verify_server_key(pins, host, offered, {true, {}, false}, "kh").outcome ==
        nc::verdict::pin_and_trust);
  CHECK(nc::verify_server_key(pins, host, offered, {false, fp, false}, "kh").outcome ==
        nc::verdict::pin_and_trust);
  CHECK(nc::verify_server_key(pins, host, offered, {false, v1_fp, false}, "kh").outcome ==
        nc::verdict::pin_and_trust);
  CHECK(nc::verify_server_key(pins, host, offered, {true, std::string("0000-0000-0000-0000-0000-0000-0000-0000"), true},
                              "kh")
            .outcome == nc::verdict::mismatch);
}

TEST_CASE("--expect-fingerprint also applies to a pinned host") {
  nc::known_hosts pins;
  pins.add(host, key_of(4));
  const auto right = natter::crypto::server_fingerprint_v2(key_of(4));
  CHECK(nc::verify_server_key(pins, host, key_of(4), {false, right, false}, "kh").outcome == nc::verdict::trusted);
  CHECK(nc::verify_server_key(pins, host, key_of(4), {false, std::string("0000-0000-0000-0000-0000-0000-0000-0000"), false},
                              "kh")
            .outcome == nc::verdict::mismatch);
}
