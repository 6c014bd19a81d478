// Key fingerprints (docs/PROTOCOL.md §7).
#include <doctest/doctest.h>

#include <sodium.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <regex>
#include <string>

#include "natter/crypto/fingerprint.hpp"
#include "test_support.hpp"

using natter::crypto::fingerprint;
using natter::crypto::normalize_fingerprint;

namespace {

// The protocol's definition, computed here straight from libsodium: first 16 bytes of SHA-256
// of the 32 raw key bytes, lowercase hex, groups of 4 joined by '-'.
std::string expected_fingerprint(const natter::crypto::public_key& key) {
  std::array<std::uint8_t, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), key.data(), key.size());
  const std::string hex = natter::test::hex_of(std::span(digest).first(16));
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 4) {
    if (i) out += '-';
    out += hex.substr(i, 4);
  }
  return out;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

TEST_CASE("a fingerprint is 8 groups of 4 lowercase hex digits joined by '-'") {
  const std::regex format("^[0-9a-f]{4}(-[0-9a-f]{4}){7}$");
  for (int i = 0; i < 20; ++i) {
    const auto key = natter::crypto::key_pair::generate();
    const std::string fp = fingerprint(key.public_key_bytes);
    CAPTURE(fp);
    CHECK(fp.size() == 39);
    CHECK(std::regex_match(fp, format));
  }
}

TEST_CASE("a fingerprint is the first 16 bytes of SHA-256 of the key") {
  for (int i = 0; i < 20; ++i) {
    const auto key = natter::crypto::key_pair::generate();
    CHECK(fingerprint(key.public_key_bytes) == expected_fingerprint(key.public_key_bytes));
  }
  // SHA-256 of 32 zero bytes is 66687aadf862bd776c8fc18b8e9f8e20089714856ee233b3902a591d0d5f2925.
  CHECK(fingerprint(natter::crypto::public_key{}) == "6668-7aad-f862-bd77-6c8f-c18b-8e9f-8e20");
}

TEST_CASE("fingerprints are deterministic and differ between keys") {
  const auto a = natter::crypto::key_pair::generate();
  const auto b = natter::crypto::key_pair::generate();
  CHECK(fingerprint(a.public_key_bytes) == fingerprint(a.public_key_bytes));
  CHECK(fingerprint(a.public_key_bytes) != fingerprint(b.public_key_bytes));
  auto flipped = a.public_key_bytes;
  flipped[31] ^= 0x80;
  CHECK(fingerprint(flipped) != fingerprint(a.public_key_bytes));
}

TEST_CASE("normalize_fingerprint accepts what a human might paste") {
  const auto key = natter::crypto::key_pair::generate();
  const std::string fp = fingerprint(key.public_key_bytes);
  std::string bare = fp;
  std::erase(bare, '-');
  std::string colons = fp;
  std::replace(colons.begin(), colons.end(), '-', ':');
  std::string spaces = fp;
  std::replace(spaces.begin(), spaces.end(), '-', ' ');

  CHECK(normalize_fingerprint(fp) == fp);
  CHECK(normalize_fingerprint(upper(fp)) == fp);
  CHECK(normalize_fingerprint(bare) == fp);
  CHECK(normalize_fingerprint(upper(bare)) == fp);
  CHECK(normalize_fingerprint(colons) == fp);
  CHECK(normalize_fingerprint(spaces) == fp);
  CHECK(normalize_fingerprint("  " + spaces + " ") == fp);
  CHECK(normalize_fingerprint("6668 7AAD:f862-bd77 6c8f:c18b-8E9F 8e20") ==
        "6668-7aad-f862-bd77-6c8f-c18b-8e9f-8e20");
}

TEST_CASE("normalize_fingerprint refuses the wrong number of digits and non-hex") {
  const std::string digits = "66687aadf862bd776c8fc18b8e9f8e20";
  REQUIRE(normalize_fingerprint(digits).has_value());
  CHECK_FALSE(normalize_fingerprint(digits.substr(0, 31)).has_value());
  CHECK_FALSE(normalize_fingerprint(digits + "0").has_value());
  CHECK_FALSE(normalize_fingerprint(digits + digits).has_value());  // a whole SHA-256 is not a fingerprint
  CHECK_FALSE(normalize_fingerprint("").has_value());
  CHECK_FALSE(normalize_fingerprint("----").has_value());
  CHECK_FALSE(normalize_fingerprint("g" + digits.substr(1)).has_value());
  CHECK_FALSE(normalize_fingerprint("0x" + digits.substr(2)).has_value());
  CHECK_FALSE(normalize_fingerprint(digits.substr(0, 16) + "_" + digits.substr(16)).has_value());
  CHECK_FALSE(normalize_fingerprint(digits.substr(0, 16) + "\t" + digits.substr(16)).has_value());
  CHECK_FALSE(normalize_fingerprint("\xef\xbc\x96" + digits.substr(1)).has_value());  // fullwidth '6'
}
