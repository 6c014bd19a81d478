// The Noise building blocks: HASH and HKDF for SHA256, the ChaChaPoly cipher_state (nonce
// format, exhaustion, failure leaves n alone) and the symmetric_state's InitializeSymmetric.
#include <doctest/doctest.h>

#include <sodium.h>

#include <array>
#include <string>
#include <vector>

#include "natter/crypto/noise_cipher_state.hpp"
#include "natter/crypto/noise_hkdf.hpp"
#include "natter/crypto/noise_symmetric_state.hpp"
#include "noise_test_support.hpp"

using natter::test::from_hex;
using natter::test::hex_of;
using natter::test::secret_filled;
using natter::test::to_bytes;
using natter::test::view;
namespace noise = natter::crypto::noise;

TEST_CASE("noise HASH is SHA-256 (FIPS 180-2 'abc'), of a || b") {
  CHECK(hex_of(noise::sha256(to_bytes("abc"))) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(noise::sha256(to_bytes("a"), to_bytes("bc")) == noise::sha256(to_bytes("abc")));
}

TEST_CASE("noise HKDF is RFC 5869 HKDF-SHA256 with salt = chaining key and empty info") {
  // RFC 5869 test case 3: zero-length salt, which HMAC treats exactly as a 32-byte zero key;
  // IKM = 22 bytes of 0x0b; OKM (42 bytes) = output1 || the first 10 bytes of output2.
  const natter::crypto::secret_key zero_chaining_key;
  natter::crypto::secret_key out1;
  natter::crypto::secret_key out2;
  noise::hkdf(zero_chaining_key, std::vector<std::uint8_t>(22, 0x0b), out1, out2);
  CHECK(hex_of(view(out1)) == "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d");
  CHECK(hex_of(view(out2)).substr(0, 20) == "9d201395faa4b61a96c8");
}

TEST_CASE("noise HKDF may write its first output over the chaining key (as MixKey does)") {
  auto ck = secret_filled(0x5a);
  const auto same_ck = secret_filled(0x5a);
  natter::crypto::secret_key separate1, separate2, aliased2;
  noise::hkdf(same_ck, to_bytes("ikm"), separate1, separate2);
  noise::hkdf(ck, to_bytes("ikm"), ck, aliased2);
  CHECK(hex_of(view(ck)) == hex_of(view(separate1)));
  CHECK(hex_of(view(aliased2)) == hex_of(view(separate2)));
}

TEST_CASE("noise cipher_state: nonce is 4 zero bytes then n little endian; n advances") {
  const auto key = secret_filled(0x42);
  noise::cipher_state cipher(key);
  cipher.set_nonce(0x0102030405060708ull);
  const auto ad = to_bytes("ad");
  const auto plaintext = to_bytes("hello");
  const auto sealed = cipher.encrypt_with_ad(ad, plaintext);
  REQUIRE(sealed.has_value());
  CHECK(cipher.nonce() == 0x0102030405060709ull);

  // The same by hand with libsodium and the nonce written out byte by byte.
  const std::array<std::uint8_t, 12> npub = {0, 0, 0, 0, 0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01};
  std::vector<std::uint8_t> expected(plaintext.size() + noise::tag_size);
  unsigned long long written = 0;
  crypto_aead_chacha20poly1305_ietf_encrypt(expected.data(), &written, plaintext.data(), plaintext.size(),
                                            ad.data(), ad.size(), nullptr, npub.data(), key.data());
  CHECK(hex_of(*sealed) == hex_of(expected));

  noise::cipher_state receiver(key);
  receiver.set_nonce(0x0102030405060708ull);
  const auto opened = receiver.decrypt_with_ad(ad, *sealed);
  REQUIRE(opened.has_value());
  CHECK(*opened == plaintext);
}

TEST_CASE("noise cipher_state: a failed decrypt returns nothing and leaves n unchanged") {
  const auto key = secret_filled(0x42);
  noise::cipher_state sender(key);
  noise::cipher_state receiver(key);
  auto sealed = sender.encrypt_with_ad({}, to_bytes("payload"));
  REQUIRE(sealed.has_value());
  auto forged = *sealed;
  forged.back() ^= 1;
  CHECK_FALSE(receiver.decrypt_with_ad({}, forged).has_value());
  CHECK_FALSE(receiver.decrypt_with_ad(to_bytes("other ad"), *sealed).has_value());
  CHECK_FALSE(receiver.decrypt_with_ad({}, std::vector<std::uint8_t>(noise::tag_size - 1)).has_value());
  CHECK(receiver.nonce() == 0);
  CHECK(receiver.decrypt_with_ad({}, *sealed).has_value());  // the genuine one still opens
  CHECK(receiver.nonce() == 1);
}

TEST_CASE("noise cipher_state: n = 2^64-1 is reserved; the counter never wraps") {
  const auto key = secret_filled(0x42);
  noise::cipher_state cipher(key);
  cipher.set_nonce(noise::max_nonce - 1);
  const auto last = cipher.encrypt_with_ad({}, to_bytes("last"));
  REQUIRE(last.has_value());
  CHECK(cipher.nonce() == noise::max_nonce);
  CHECK_FALSE(cipher.encrypt_with_ad({}, to_bytes("one more")).has_value());
  CHECK_FALSE(cipher.encrypt_with_ad({}, {}).has_value());
  CHECK(cipher.nonce() == noise::max_nonce);

  noise::cipher_state receiver(key);
  receiver.set_nonce(noise::max_nonce - 1);
  CHECK(receiver.decrypt_with_ad({}, *last).has_value());
  CHECK_FALSE(receiver.decrypt_with_ad({}, *last).has_value());  // at max: refused, not tried
  CHECK(receiver.nonce() == noise::max_nonce);
}

TEST_CASE("noise cipher_state: without a key it passes bytes through; moving takes the key") {
  noise::cipher_state empty;
  CHECK_FALSE(empty.has_key());
  CHECK(*empty.encrypt_with_ad(to_bytes("ad"), to_bytes("plain")) == to_bytes("plain"));
  CHECK(*empty.decrypt_with_ad(to_bytes("ad"), to_bytes("plain")) == to_bytes("plain"));

  noise::cipher_state keyed(secret_filled(7));
  keyed.set_nonce(9);
  noise::cipher_state moved(std::move(keyed));
  CHECK(moved.has_key());
  CHECK(moved.nonce() == 9);
  CHECK_FALSE(keyed.has_key());  // NOLINT(bugprone-use-after-move): the moved-from state is empty
  CHECK(keyed.nonce() == 0);      // NOLINT(bugprone-use-after-move)
}

TEST_CASE("noise symmetric_state: h is the name zero-padded, or its hash when longer than 32") {
  const std::string short_name = "Noise_X_25519_ChaChaPoly_SHA256";  // 31 bytes
  noise::symmetric_state padded(short_name);
  noise::hash expected{};
  std::copy(short_name.begin(), short_name.end(), expected.begin());
  CHECK(padded.handshake_hash() == expected);
  CHECK_FALSE(padded.has_key());

  const std::string long_name = "Noise_XKpsk3_25519_ChaChaPoly_SHA256_long_name";
  noise::symmetric_state hashed(long_name);
  CHECK(hex_of(hashed.handshake_hash()) == "1349fffdade1cfc17097e0ed94c43f6aee1e6b111e9327ae3ca30bc6657c92ef");

  noise::symmetric_state exact(noise::xk_protocol_name);
  CHECK(natter::test::to_text(exact.handshake_hash()) == noise::xk_protocol_name);
}

TEST_CASE("noise symmetric_state: before MixKey, EncryptAndHash is plaintext; split() wipes") {
  noise::symmetric_state a(noise::xk_protocol_name);
  noise::symmetric_state b(noise::xk_protocol_name);
  const auto clear = a.encrypt_and_hash(to_bytes("hi"));
  REQUIRE(clear.has_value());
  CHECK(*clear == to_bytes("hi"));
  CHECK(b.decrypt_and_hash(*clear).has_value());
  CHECK(a.handshake_hash() == b.handshake_hash());  // both mixed the same ciphertext
  a.mix_key(to_bytes("shared secret"));
  b.mix_key(to_bytes("shared secret"));
  const auto sealed = a.encrypt_and_hash(to_bytes("secret"));
  REQUIRE(sealed.has_value());
  CHECK(sealed->size() == 6 + noise::tag_size);
  const auto h_before = b.handshake_hash();
  auto tampered = *sealed;
  tampered[0] ^= 0x80;
  CHECK_FALSE(b.decrypt_and_hash(tampered).has_value());
  CHECK(b.handshake_hash() == h_before);  // a failure mixes nothing
  CHECK(b.decrypt_and_hash(*sealed).has_value());

  const auto ka = a.split();
  const auto kb = b.split();
  CHECK(hex_of(view(ka.initiator_to_responder)) == hex_of(view(kb.initiator_to_responder)));
  CHECK(hex_of(view(ka.initiator_to_responder)) != hex_of(view(ka.responder_to_initiator)));
  CHECK(ka.handshake_hash == kb.handshake_hash);
  CHECK(a.handshake_hash() == noise::hash{});  // wiped
  CHECK_FALSE(a.has_key());
}
