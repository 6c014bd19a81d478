// make_vectors: prints test vectors for the Wireshark dissector's pure-Lua crypto, computed by
// libsodium on fresh random inputs. test_crypto.lua reads them and checks the Lua code byte for
// byte. Random (not fixed) inputs mean every run exercises new keys, nonces and carries; the
// lengths are chosen around the 16-byte Poly1305 block and the 64-byte Salsa20 block edges.
//
// Output format, one vector per line, fields separated by one space, byte strings in lowercase
// hex, "-" for an empty byte string, '#' lines are comments:
//   sha256      MSG DIGEST
//   fingerprint PK FINGERPRINT
//   fingerprint2 PK FINGERPRINT                       protocol 2 server fingerprint
//   hsalsa20    KEY IN16 OUT32                       crypto_core_hsalsa20 (standard constants)
//   beforenm    SHARED K                              K = crypto_box_beforenm(pk, sk),
//                                                     SHARED = crypto_scalarmult(sk, pk)
//   stream      KEY NONCE OUT                         crypto_stream_xsalsa20
//   onetimeauth KEY MSG TAG                           crypto_onetimeauth (Poly1305)
//   box         KEY NONCE MSG BOX                     crypto_box_easy_afternm
//   unpad       BLOCK PADDED RESULT                   sodium_unpad: RESULT the unpadded bytes,
//                                                     or "fail" where it returns -1
//   session2    KEY DIR COUNTER PLAIN BODY            a protocol 2 session frame body sealed by
//                                                     natter's own session_cipher_v2 with the
//                                                     raw directional key KEY (DIR 1 or 2)
// The end-to-end layer (docs/E2E.md):
//   hchacha20   KEY IN16 OUT32                       crypto_core_hchacha20 (standard constants)
//   chacha20    KEY NONCE12 IC OUT                   crypto_stream_chacha20_ietf_xor_ic over zeros
//   xaead       KEY NONCE AD MSG C                   crypto_aead_xchacha20poly1305_ietf_encrypt
//                                                     (C = ciphertext ‖ tag); Lua decrypts it
//   base64      TEXT RESULT                          sodium_base642bin, original variant (padded):
//                                                     RESULT the bytes, or "fail"; TEXT "-" if empty
//   e2eseal     KEY NONCE AD PLAIN C                 natter's own e2e::seal (padded to 64-byte
//                                                     blocks, XChaCha20-Poly1305, ad = header)
//
// Usage: make_vectors [OUTPUT_FILE]   (stdout without an argument)
#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

#include "natter/crypto/e2e_aead.hpp"
#include "natter/crypto/session_cipher_v2.hpp"

namespace {

namespace cr = natter::crypto;

using bytes = std::vector<unsigned char>;

bytes random_bytes(std::size_t n) {
  bytes b(n);
  if (n > 0) randombytes_buf(b.data(), n);
  return b;
}

std::string hex(const unsigned char* p, std::size_t n) {
  if (n == 0) return "-";
  std::string out(n * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), p, n);
  out.pop_back();  // the terminating NUL
  return out;
}

std::string hex(const bytes& b) { return hex(b.data(), b.size()); }

// Message lengths: empty, around the Poly1305 block (16) and Salsa20 block (64), and large.
constexpr std::array message_lengths{0, 1, 2, 15, 16, 17, 31, 32, 33, 47, 48, 63, 64, 65,
                                     100, 127, 128, 129, 255, 1000, 4096, 5000};

// The nonce natter uses for session frames (docs/PROTOCOL.md §4).
bytes session_nonce(unsigned char direction, std::uint64_t counter) {
  bytes n(crypto_box_NONCEBYTES, 0);
  n[0] = direction;
  for (int i = 0; i < 8; ++i) n[23 - i] = static_cast<unsigned char>(counter >> (8 * i));
  return n;
}

void emit_box(std::ostream& out, const bytes& key, const bytes& nonce, const bytes& msg) {
  bytes box(crypto_box_MACBYTES + msg.size());
  if (crypto_box_easy_afternm(box.data(), msg.data(), msg.size(), nonce.data(), key.data()) != 0) {
    throw std::runtime_error("crypto_box_easy_afternm failed");
  }
  out << "box " << hex(key) << ' ' << hex(nonce) << ' ' << hex(msg) << ' ' << hex(box) << '\n';
}

void emit_onetimeauth(std::ostream& out, const bytes& key, const bytes& msg) {
  std::array<unsigned char, crypto_onetimeauth_BYTES> tag{};
  crypto_onetimeauth(tag.data(), msg.data(), msg.size(), key.data());
  out << "onetimeauth " << hex(key) << ' ' << hex(msg) << ' ' << hex(tag.data(), tag.size())
      << '\n';
}

// sodium_unpad's answer for `padded`, as the vectors write it.
void emit_unpad(std::ostream& out, std::size_t block, const bytes& padded) {
  std::size_t unpadded = 0;
  out << "unpad " << block << ' ' << hex(padded) << ' ';
  if (sodium_unpad(&unpadded, padded.data(), padded.size(), block) != 0) {
    out << "fail\n";
  } else {
    out << hex(padded.data(), unpadded) << '\n';
  }
}

void emit_unpad_cases(std::ostream& out) {
  // Well-formed: sodium_pad of random plaintexts around the block edges.
  for (std::size_t block : {16, 64, 128}) {
    for (std::size_t n : {0, 1, 15, 16, 17, 127, 128, 129, 255, 300}) {
      bytes padded = random_bytes(n);
      padded.resize(n + block);
      std::size_t padded_size = 0;
      if (sodium_pad(&padded_size, padded.data(), n, block, padded.size()) != 0) {
        throw std::runtime_error("sodium_pad failed");
      }
      padded.resize(padded_size);
      emit_unpad(out, block, padded);
    }
  }
  // Malformed or borderline: all zeros, no barrier, a nonzero byte after the barrier, the
  // barrier in the block before the last, random bytes, and what is shorter than a block.
  emit_unpad(out, 128, bytes(128, 0));
  emit_unpad(out, 128, bytes(128, 'x'));
  emit_unpad(out, 128, bytes(256, 0x80));
  bytes b(128, 0);
  b[0] = 0x80;
  emit_unpad(out, 128, b);  // the whole block is padding: empty plaintext
  b[127] = 1;
  emit_unpad(out, 128, b);  // a nonzero byte after the barrier
  bytes early(256, 0);
  early[100] = 0x80;
  emit_unpad(out, 128, early);  // the barrier outside the last block
  bytes late = random_bytes(128);
  late[127] = 0x80;
  emit_unpad(out, 128, late);  // the barrier is the last byte
  for (int i = 0; i < 8; ++i) emit_unpad(out, 128, random_bytes(128));
  emit_unpad(out, 128, random_bytes(127));
  emit_unpad(out, 128, bytes{});
}

// Bodies exactly as natter seals them: session_cipher_v2 with a raw directional key (the key
// log's k_c2s or k_s2c), so the Lua opener is checked against the production path.
void emit_session2(std::ostream& out) {
  for (const auto dir : {cr::direction::client_to_server, cr::direction::server_to_client}) {
    const bytes key = random_bytes(cr::key_size);
    const auto secret = [&] {
      cr::secret_key k;
      std::copy(key.begin(), key.end(), k.data());
      return k;
    };
    const std::uint64_t start = dir == cr::direction::client_to_server ? 0 : 0xfffffffffffffff0ULL;
    auto cipher = cr::session_cipher_v2::resume(secret(), secret(), dir, start, 0);
    for (std::size_t n : {0, 1, 127, 128, 129, 300, 1000}) {
      const bytes plain = random_bytes(n);
      std::vector<std::uint8_t> body;
      if (cipher.seal(std::string(plain.begin(), plain.end()), body) != cr::session_cipher_v2::seal_status::ok) {
        throw std::runtime_error("session_cipher_v2::seal failed");
      }
      out << "session2 " << hex(key) << ' ' << static_cast<int>(dir) << ' ' << cipher.frames_sent() << ' '
          << hex(plain) << ' ' << hex(body.data(), body.size()) << '\n';
    }
  }
}

// ----------------------------------------------------------------------- end-to-end layer
void emit_chacha(std::ostream& out) {
  for (int i = 0; i < 8; ++i) {
    const bytes key = random_bytes(crypto_core_hchacha20_KEYBYTES);
    const bytes in = random_bytes(crypto_core_hchacha20_INPUTBYTES);
    bytes o(crypto_core_hchacha20_OUTPUTBYTES);
    crypto_core_hchacha20(o.data(), in.data(), key.data(), nullptr);
    out << "hchacha20 " << hex(key) << ' ' << hex(in) << ' ' << hex(o) << '\n';
  }
  // Block counters 0, 1, a random one, and one just below 2^32 (the last block before the wrap).
  std::uint32_t ics[] = {0, 1, randombytes_uniform(1u << 30), 0xfffffffeu};
  for (std::uint32_t ic : ics) {
    for (std::size_t n : {1, 63, 64, 65, 128, 200}) {
      if (ic == 0xfffffffeu && n > 128) continue;  // would pass 2^32 blocks
      const bytes key = random_bytes(crypto_stream_chacha20_ietf_KEYBYTES);
      const bytes nonce = random_bytes(crypto_stream_chacha20_ietf_NONCEBYTES);
      const bytes zeros(n, 0);
      bytes s(n);
      crypto_stream_chacha20_ietf_xor_ic(s.data(), zeros.data(), n, nonce.data(), ic, key.data());
      out << "chacha20 " << hex(key) << ' ' << hex(nonce) << ' ' << ic << ' ' << hex(s) << '\n';
    }
  }
}

void emit_xaead(std::ostream& out) {
  for (std::size_t ad_len : {0, 1, 13, 16, 17, 40}) {
    for (int n : message_lengths) {
      if (n > 300 && ad_len != 13) continue;
      const bytes key = random_bytes(crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
      const bytes nonce = random_bytes(crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
      const bytes ad = random_bytes(ad_len);
      const bytes msg = random_bytes(static_cast<std::size_t>(n));
      bytes c(msg.size() + crypto_aead_xchacha20poly1305_ietf_ABYTES);
      unsigned long long c_len = 0;
      crypto_aead_xchacha20poly1305_ietf_encrypt(c.data(), &c_len, msg.data(), msg.size(), ad.data(), ad.size(),
                                                 nullptr, nonce.data(), key.data());
      c.resize(c_len);
      out << "xaead " << hex(key) << ' ' << hex(nonce) << ' ' << hex(ad) << ' ' << hex(msg) << ' ' << hex(c)
          << '\n';
    }
  }
}

void emit_base64_case(std::ostream& out, const std::string& text) {
  bytes bin(text.size() + 1);
  std::size_t bin_len = 0;
  const char* end = nullptr;
  const int rc = sodium_base642bin(bin.data(), bin.size(), text.data(), text.size(), nullptr, &bin_len, &end,
                                   sodium_base64_VARIANT_ORIGINAL);
  out << "base64 " << (text.empty() ? "-" : text) << ' ';
  // libsodium stops at the first byte it cannot take; the whole string must be consumed.
  if (rc != 0 || end != text.data() + text.size()) {
    out << "fail\n";
  } else {
    out << hex(bin.data(), bin_len) << '\n';
  }
}

void emit_base64(std::ostream& out) {
  for (std::size_t n : {1, 2, 3, 4, 5, 6, 31, 32, 33, 100, 309, 383}) {
    const bytes b = random_bytes(n);
    std::string text(sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL), '\0');
    sodium_bin2base64(text.data(), text.size(), b.data(), b.size(), sodium_base64_VARIANT_ORIGINAL);
    text.pop_back();
    emit_base64_case(out, text);
    // Damaged: one character replaced (by one outside the alphabet, or a misplaced '='), the
    // padding dropped, a character dropped, nonzero bits in the last symbol.
    std::string bad = text;
    bad[randombytes_uniform(static_cast<std::uint32_t>(bad.size()))] = "!=-_*"[randombytes_uniform(5)];
    emit_base64_case(out, bad);
    if (text.back() == '=') {
      std::string unpadded = text;
      while (unpadded.back() == '=') unpadded.pop_back();
      emit_base64_case(out, unpadded);
      std::string high = text;
      const std::size_t last = high.find('=') - 1;
      high[last] = high[last] == 'A' ? 'B' : static_cast<char>(high[last] == 'z' ? 'y' : high[last] + 1);
      emit_base64_case(out, high);
    }
    emit_base64_case(out, text.substr(0, text.size() - 1));
  }
  for (const char* s : {"AAAA", "AA==", "AAA=", "A===", "====", "AB==", "AAB=", "+/+/", "//==", "AA=A"}) {
    emit_base64_case(out, s);
  }
}

// Bodies as natter's e2e layer seals them (e2e_aead.hpp), with random keys and headers.
void emit_e2eseal(std::ostream& out) {
  for (std::size_t n : {0, 1, 63, 64, 65, 127, 128, 200, 1000}) {
    natter::crypto::secret_key key;
    randombytes_buf(key.data(), key.size());
    natter::crypto::e2e::aead_nonce nonce{};
    randombytes_buf(nonce.data(), nonce.size());
    const bytes ad = random_bytes(n % 2 ? 13 : 23);
    const bytes plain = random_bytes(n);
    const auto c = natter::crypto::e2e::seal(key, nonce, ad, plain);
    if (!c) throw std::runtime_error("e2e::seal failed");
    out << "e2eseal " << hex(key.data(), key.size()) << ' ' << hex(nonce.data(), nonce.size()) << ' ' << hex(ad)
        << ' ' << hex(plain) << ' ' << hex(c->data(), c->size()) << '\n';
  }
}

void generate(std::ostream& out) {
  out << "# natter dissector crypto vectors from libsodium " << sodium_version_string() << '\n';

  // SHA-256 over lengths around the 55/56/64-byte padding edges, and fingerprints of keys.
  for (std::size_t n : {0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 1000}) {
    const bytes msg = random_bytes(n);
    std::array<unsigned char, crypto_hash_sha256_BYTES> d{};
    crypto_hash_sha256(d.data(), msg.data(), msg.size());
    out << "sha256 " << hex(msg) << ' ' << hex(d.data(), d.size()) << '\n';
  }
  for (int i = 0; i < 16; ++i) {
    bytes pk(crypto_box_PUBLICKEYBYTES), sk(crypto_box_SECRETKEYBYTES);
    crypto_box_keypair(pk.data(), sk.data());
    std::array<unsigned char, crypto_hash_sha256_BYTES> d{};
    crypto_hash_sha256(d.data(), pk.data(), pk.size());
    // Format exactly as natter prints it: 8 groups of 4 hex digits of the first 16 bytes.
    const std::string h = hex(d.data(), 16);
    std::string fp;
    for (std::size_t g = 0; g < 8; ++g) fp += (g ? "-" : "") + h.substr(g * 4, 4);
    out << "fingerprint " << hex(pk) << ' ' << fp << '\n';
  }

  // Protocol 2 server fingerprints: SHA-256("natter server fingerprint v2\0" ‖ key), 20 bytes.
  for (int i = 0; i < 8; ++i) {
    const bytes pk = random_bytes(crypto_box_PUBLICKEYBYTES);
    static constexpr char label[] = "natter server fingerprint v2";  // with its NUL
    std::array<unsigned char, crypto_hash_sha256_BYTES> d{};
    crypto_hash_sha256_state st;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, reinterpret_cast<const unsigned char*>(label), sizeof label);
    crypto_hash_sha256_update(&st, pk.data(), pk.size());
    crypto_hash_sha256_final(&st, d.data());
    const std::string h = hex(d.data(), 20);
    std::string fp = "2:";
    for (std::size_t g = 0; g < 10; ++g) fp += (g ? "-" : "") + h.substr(g * 4, 4);
    out << "fingerprint2 " << hex(pk) << ' ' << fp << '\n';
  }

  for (int i = 0; i < 8; ++i) {
    const bytes key = random_bytes(crypto_core_hsalsa20_KEYBYTES);
    const bytes in = random_bytes(crypto_core_hsalsa20_INPUTBYTES);
    bytes o(crypto_core_hsalsa20_OUTPUTBYTES);
    crypto_core_hsalsa20(o.data(), in.data(), key.data(), nullptr);
    out << "hsalsa20 " << hex(key) << ' ' << hex(in) << ' ' << hex(o) << '\n';
  }

  // crypto_box_beforenm = HSalsa20(X25519(sk, pk), 0): checks the Lua HSalsa20 against the
  // real session-key derivation, and gives real session keys for the box cases below.
  std::vector<bytes> session_keys;
  for (int i = 0; i < 6; ++i) {
    bytes pk(crypto_box_PUBLICKEYBYTES), sk(crypto_box_SECRETKEYBYTES);
    bytes peer_pk(crypto_box_PUBLICKEYBYTES), peer_sk(crypto_box_SECRETKEYBYTES);
    crypto_box_keypair(pk.data(), sk.data());
    crypto_box_keypair(peer_pk.data(), peer_sk.data());
    bytes shared(crypto_scalarmult_BYTES), k(crypto_box_BEFORENMBYTES);
    if (crypto_scalarmult(shared.data(), sk.data(), peer_pk.data()) != 0 ||
        crypto_box_beforenm(k.data(), peer_pk.data(), sk.data()) != 0) {
      throw std::runtime_error("key agreement failed");
    }
    out << "beforenm " << hex(shared) << ' ' << hex(k) << '\n';
    session_keys.push_back(k);
  }

  for (std::size_t n : {0, 1, 63, 64, 65, 200}) {
    const bytes key = random_bytes(crypto_stream_xsalsa20_KEYBYTES);
    const bytes nonce = random_bytes(crypto_stream_xsalsa20_NONCEBYTES);
    bytes s(n);
    crypto_stream_xsalsa20(s.data(), s.size(), nonce.data(), key.data());
    out << "stream " << hex(key) << ' ' << hex(nonce) << ' ' << hex(s) << '\n';
  }

  // Poly1305: random keys, plus extreme keys and messages that maximise carries (all 0xff),
  // the inputs where a limb implementation is most likely to overflow or mis-reduce.
  for (int n : message_lengths) emit_onetimeauth(out, random_bytes(32), random_bytes(n));
  const bytes ones_key(32, 0xff);
  for (int n : {0, 1, 16, 17, 64, 1000}) {
    emit_onetimeauth(out, ones_key, bytes(n, 0xff));
    emit_onetimeauth(out, random_bytes(32), bytes(n, 0xff));
    emit_onetimeauth(out, ones_key, random_bytes(n));
  }

  // Boxes: random keys and nonces, and real session keys with natter's session nonces.
  for (int n : message_lengths) emit_box(out, random_bytes(32), random_bytes(24), random_bytes(n));
  std::uint64_t counter = 1;
  for (const bytes& k : session_keys) {
    for (int n : {0, 1, 16, 17, 64, 65, 300}) {
      const auto direction = static_cast<unsigned char>(counter % 2 ? 1 : 2);
      emit_box(out, k, session_nonce(direction, counter), random_bytes(n));
      ++counter;
    }
  }
  emit_box(out, session_keys[0], session_nonce(2, 0xfffffffffffffffeULL),
           bytes{'{', '"', 't', 'y', 'p', 'e', '"', ':', '"', 'p', 'o', 'n', 'g', '"', '}'});

  emit_unpad_cases(out);
  emit_session2(out);
  emit_chacha(out);
  emit_xaead(out);
  emit_base64(out);
  emit_e2eseal(out);
}

}  // namespace

int main(int argc, char** argv) {
  if (sodium_init() < 0) {
    std::cerr << "make_vectors: sodium_init failed\n";
    return 1;
  }
  try {
    if (argc > 1) {
      std::ofstream file(argv[1]);
      if (!file) {
        std::cerr << "make_vectors: cannot write " << argv[1] << '\n';
        return 1;
      }
      generate(file);
    } else {
      generate(std::cout);
    }
  } catch (const std::exception& e) {
    std::cerr << "make_vectors: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
