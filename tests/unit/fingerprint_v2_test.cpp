// Fingerprints v2 (docs/PROTOCOL.md §6): SHA-256("natter fingerprint v2\0" ‖ Ed25519 key), 20 bytes.
#include <doctest/doctest.h>

#include <sodium.h>

#include <array>
#include <cctype>
#include <string>
#include <vector>

#include "natter/crypto/fingerprint.hpp"
#include "natter/crypto/fingerprint_v2.hpp"
#include "test_support.hpp"

using natter::crypto::ed25519_public_key;
using natter::crypto::fingerprint_v2;
using natter::crypto::normalize_fingerprint_v2;
using natter::crypto::parse_any_fingerprint;

namespace {

// The definition, straight from libsodium: the label's 21 characters, one zero byte, the key.
std::string expected_fingerprint_v2(const ed25519_public_key& key) {
  const std::string label = "natter fingerprint v2";
  std::vector<std::uint8_t> input(label.begin(), label.end());
  input.push_back(0);
  input.insert(input.end(), key.bytes.begin(), key.bytes.end());
  REQUIRE(input.size() == 22 + 32);
  std::array<std::uint8_t, crypto_hash_sha256_BYTES> digest{};
  crypto_hash_sha256(digest.data(), input.data(), input.size());
  const std::string hex = natter::test::hex_of(std::span(digest).first(20));
  std::string out = "2:";
  for (std::size_t i = 0; i < hex.size(); i += 4) {
    if (i) out += '-';
    out += hex.substr(i, 4);
  }
  return out;
}

ed25519_public_key key_from_hex(const std::string& hex) {
  const auto key = natter::crypto::ed25519_public_key_from_hex(hex);
  REQUIRE(key.has_value());
  return *key;
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// "2:" then 10 groups of 4 lowercase hex digits joined by '-' (no std::regex: GCC 12 warns inside
// it under the sanitizer builds).
bool well_formed(const std::string& fp) {
  if (fp.size() != 51 || !fp.starts_with("2:")) return false;
  for (std::size_t i = 2; i < fp.size(); ++i) {
    const bool dash_here = (i - 2) % 5 == 4;
    const char c = fp[i];
    if (dash_here ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

std::string bare_hex(const std::string& fp) {
  std::string out;
  for (const char c : fp.substr(2)) {
    if (c != '-') out += c;
  }
  return out;
}

// Published in docs/PROTOCOL.md §6: seed (RFC 8032 §7.1 TEST 1 and 2) → Ed25519 key → fingerprint.
// The fingerprints were also computed with Python's hashlib, independently of natter.
struct vector_case {
  std::string seed, ed25519_public, fingerprint;
};
const std::vector<vector_case> vectors = {
    {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
     "2:8399-a96a-c395-75da-9d08-ae14-829c-6c56-3249-7005"},
    {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
     "2:7e01-cb9b-ed65-e167-869c-ca99-4dc3-7754-62aa-e181"},
};

}  // namespace

TEST_CASE("fingerprint v2: the published vectors (seed -> Ed25519 key -> fingerprint)") {
  for (const auto& v : vectors) {
    CAPTURE(v.seed);
    natter::crypto::secret_bytes seed;
    const auto raw = natter::crypto::public_key_from_hex(v.seed);  // 32 bytes of hex, any kind
    REQUIRE(raw.has_value());
    std::copy(raw->begin(), raw->end(), seed.data());
    const auto id = natter::crypto::identity_v2::from_seed(std::move(seed));
    CHECK(natter::crypto::to_hex(id.public_key()) == v.ed25519_public);
    CHECK(fingerprint_v2(id.public_key()) == v.fingerprint);
    CHECK(expected_fingerprint_v2(id.public_key()) == v.fingerprint);
  }
}

TEST_CASE("fingerprint v2: the 2: prefix and 10 groups of 4 lowercase hex digits, as defined") {
  for (int i = 0; i < 20; ++i) {
    const auto id = natter::crypto::identity_v2::generate();
    const std::string fp = fingerprint_v2(id.public_key());
    CAPTURE(fp);
    CHECK(fp.size() == 51);
    CHECK(well_formed(fp));
    CHECK(fp == expected_fingerprint_v2(id.public_key()));
  }
}

TEST_CASE("fingerprint v2: domain separated from SHA-256 of the bare key and from v1") {
  for (const auto& v : vectors) {
    const auto key = key_from_hex(v.ed25519_public);
    std::array<std::uint8_t, crypto_hash_sha256_BYTES> bare{};
    crypto_hash_sha256(bare.data(), key.bytes.data(), key.bytes.size());
    const std::string v2_hex = bare_hex(fingerprint_v2(key));
    CHECK(v2_hex != natter::test::hex_of(std::span(bare).first(20)));
    // Nor is it a v1 fingerprint of the same 32 bytes, extended.
    std::string v1_hex = natter::crypto::fingerprint(key.bytes);
    std::erase(v1_hex, '-');
    CHECK(v2_hex.substr(0, 32) != v1_hex);
  }
  // The published values for the first vector: SHA-256(key) starts 21fe31df…, v2 is 8399a96a….
  CHECK(bare_hex(vectors[0].fingerprint).substr(0, 8) == "8399a96a");
}

TEST_CASE("fingerprint v2: normalize accepts any case, separators and an optional prefix") {
  const auto id = natter::crypto::identity_v2::generate();
  const std::string fp = fingerprint_v2(id.public_key());
  const std::string hex = bare_hex(fp);
  std::string colons, spaced;
  for (std::size_t i = 0; i < hex.size(); i += 2) {
    colons += (i ? ":" : "") + hex.substr(i, 2);
    spaced += (i % 4 == 0 && i ? " " : "") + hex.substr(i, 2);
  }
  for (const std::string& text : {fp, upper(fp), fp.substr(2), hex, upper(hex), "2:" + hex, "2:" + colons, colons,
                                  spaced, "  2: " + spaced + " ", "2:" + upper(fp.substr(2))}) {
    CAPTURE(text);
    const auto normal = normalize_fingerprint_v2(text);
    REQUIRE(normal.has_value());
    CHECK(*normal == fp);
  }
}

TEST_CASE("fingerprint v2: normalize refuses wrong lengths and non-hex") {
  const std::string hex(40, 'a');
  for (const std::string& text :
       {std::string{}, std::string("2:"), hex.substr(1), hex + "a", "2:" + hex.substr(1), "2:" + hex + "a",
        std::string(32, 'a'), "2:" + std::string(32, 'a'), hex.substr(1) + "g", "2:" + hex.substr(1) + "_",
        "3:" + hex, "2:2:" + hex, "2-" + hex.substr(1) + "x", hex.substr(2) + "\xc3\xa9", hex + "\n",
        "v2:" + hex}) {
    CAPTURE(text);
    CHECK_FALSE(normalize_fingerprint_v2(text).has_value());
  }
}

TEST_CASE("fingerprint v2: parse_any_fingerprint tells v1 from v2") {
  const auto id = natter::crypto::identity_v2::generate();
  const std::string v2 = fingerprint_v2(id.public_key());
  const std::string v1 = natter::crypto::fingerprint(id.x25519().public_key_bytes);

  for (const std::string& text : {v2, upper(v2), v2.substr(2), bare_hex(v2), "2:" + bare_hex(v2)}) {
    CAPTURE(text);
    const auto parsed = parse_any_fingerprint(text);
    REQUIRE(parsed.has_value());
    CHECK(parsed->version == 2);
    CHECK(parsed->canonical == v2);
  }
  std::string v1_hex = v1;
  std::erase(v1_hex, '-');
  for (const std::string& text : {v1, upper(v1), v1_hex}) {
    CAPTURE(text);
    const auto parsed = parse_any_fingerprint(text);
    REQUIRE(parsed.has_value());
    CHECK(parsed->version == 1);
    CHECK(parsed->canonical == v1);
  }
  // A v1 length with the v2 prefix is neither; so are other lengths and non-hex. "2:" and 31
  // digits would pass a v1 reader (to which "2:" is a digit and a separator): the prefix says v2.
  REQUIRE(natter::crypto::normalize_fingerprint("2:" + v1_hex.substr(1)).has_value());
  for (const std::string& text : {"2:" + v1, "2:" + v1_hex, "2:" + v1_hex.substr(1), " 2:" + v1.substr(1),
                                  v1_hex + "abcd", v1_hex.substr(1), std::string{},
                                  bare_hex(v2) + "0", v1_hex.substr(1) + "z"}) {
    CAPTURE(text);
    CHECK_FALSE(parse_any_fingerprint(text).has_value());
  }
}

TEST_CASE("server fingerprint v2: its own label, a known answer, unlike a user's for the same bytes") {
  // Vector 1's X25519 public key (docs/PROTOCOL.md §6) as a server's static key; the expected
  // value was computed with Python's hashlib from the definition in fingerprint_v2.hpp.
  const auto key = natter::crypto::public_key_from_hex("d85e07ec22b0ad881537c2f44d662d1a143cf830c57aca4305d85c7a90f6b62e");
  REQUIRE(key.has_value());
  const std::string server = natter::crypto::server_fingerprint_v2(*key);
  CHECK(server == "2:ba14-58e6-afc6-2304-dcb1-4dcf-a5ff-be3c-1687-cef3");
  ed25519_public_key same_bytes{};
  same_bytes.bytes = *key;
  CHECK(server != fingerprint_v2(same_bytes));
  CHECK(normalize_fingerprint_v2(server) == server);
}
