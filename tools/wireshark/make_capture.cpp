// make_capture: writes a pcap of natter protocol 2 connections over loopback TCP, built by hand
// (no sockets, no capture privileges) but with natter's own v2 crypto: a real
// crypto::handshake_v2 server and client run against each other in memory, and their
// session_cipher_v2s seal the session frames, so every byte is what natter puts on the wire.
// It lets the dissector be tested without a running server.
//
//   make_capture PREFIX [--fixed] [--mutate N]
//     writes PREFIX.pcap, PREFIX.keylog, PREFIX.e2ekeylog, PREFIX.expect; with --mutate also N
//     copies of the same exchange, PREFIX-mutated-I.pcap + .keylog + .e2ekeylog, where random
//     payload bytes (length prefixes, magics, nonces, MACs...) were flipped, and which also
//     carry damaged end-to-end bodies inside authentic frames: the dissector must survive them without a Lua error.
//     --fixed derives every key and ephemeral from fixed seeds, so the output is the same on
//     every run (that is how testdata/ is made; without it each run has fresh keys).
//
// The capture exercises what a dissector gets wrong most easily:
//   1. port 9900, full exchange: message 3 and the head of the first session frame in one
//      segment, a frame split into three segments (one cut inside the length prefix), a frame
//      longer than one segment, several frames in one segment, a segment holding the end of one
//      frame and whole frames after it, UTF-8 text, a batch, and a frame whose MAC was tampered.
//   2. port 40000: a connection found only by the heuristic dissector, with a 4000-byte text.
//   3. port 9900: a connection whose keys are NOT in the key log (its text must never show).
//   4. port 9900: a refusal (NATE) in place of message 2, and a protocol 1 client refused.
//   5. port 9900: a relay dropped one server→client frame (the counter gap is flagged) and
//      repeated another (a replay), and an authentic client frame whose padding is not sodium_pad's.
//   6. port 9900: handshake and session frames too short for their fixed parts.
//   7. port 9900: malformed frames (empty, over-long), then a frame cut by the capture's end.
//   8. (before 7) port 9900, two clients of one server exchanging end-to-end messages built with
//      natter's real e2e core, and PREFIX.e2ekeylog, their message keys (see e2e_connections).
// PREFIX.expect lists what check_capture.sh must find (see that script), including that no
// client's static X25519 key or Ed25519 key appears anywhere: message 3 carries them encrypted.
#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "natter/crypto/e2e_aead.hpp"
#include "natter/crypto/e2e_chain.hpp"
#include "natter/crypto/e2e_keylog.hpp"
#include "natter/crypto/e2e_pairwise_session.hpp"
#include "natter/crypto/e2e_sender_key.hpp"
#include "natter/crypto/e2e_wire.hpp"
#include "natter/crypto/handshake_v2.hpp"
#include "natter/crypto/identity_v2.hpp"
#include "natter/crypto/noise_handshake_state.hpp"
#include "natter/crypto/hello.hpp"
#include "natter/crypto/keys.hpp"
#include "natter/crypto/session_cipher_v2.hpp"
#include "pcap_writer.hpp"
#include "v2_identity.hpp"

namespace {

namespace cr = natter::crypto;
namespace e2e = natter::crypto::e2e;
using bytes = std::vector<unsigned char>;
using natter::tools::pcap_writer;
using natter::tools::tcp_connection;

void append(bytes& out, const bytes& b) { out.insert(out.end(), b.begin(), b.end()); }
bytes str_bytes(const std::string& s) { return bytes(s.begin(), s.end()); }
bytes slice(const bytes& b, std::size_t from, std::size_t n) {
  return bytes(b.begin() + static_cast<std::ptrdiff_t>(from), b.begin() + static_cast<std::ptrdiff_t>(from + n));
}
std::string hex(const std::uint8_t* p, std::size_t n) {
  std::string out(n * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), p, n);
  out.pop_back();
  return out;
}
template <typename Bytes>
std::string hex(const Bytes& b) {
  return hex(b.data(), b.size());
}

bytes frame(const bytes& body) {
  bytes out;
  natter::tools::put_u32(out, static_cast<std::uint32_t>(body.size()));
  append(out, body);
  return out;
}

// ------------------------------------------------------------------------------ secrets
// Fresh random secrets, or with --fixed the n-th secret of the run is SHA-256("natter
// make_capture" ‖ n): the same capture every time, and still real keys.
bool fixed_secrets = false;
std::uint32_t secrets_drawn = 0;

cr::secret_key next_secret() {
  cr::secret_key s;
  if (!fixed_secrets) {
    randombytes_buf(s.data(), s.size());
    return s;
  }
  bytes label = str_bytes("natter make_capture");
  natter::tools::put_u32(label, secrets_drawn++);
  crypto_hash_sha256(s.data(), label.data(), label.size());
  return s;
}

// A v2 client identity from the next secret as its Ed25519 seed.
cr::client_identity_v2 next_identity() { return natter::tools::identity_from_seed(next_secret()); }

std::string fingerprint(const cr::public_key& pk) { return natter::tools::server_fingerprint(pk); }

// ------------------------------------------------------------------------------ expectations
struct expectations {
  std::ofstream out;
  int server_hellos = 0;
  void fingerprint_of(const cr::public_key& pk) { out << "fingerprint " << fingerprint(pk) << '\n'; }
  void json(const std::string& j) { out << "json " << j << '\n'; }
  void secret(const std::string& s) { out << "secret " << s << '\n'; }
  void absent(const std::string& hex_bytes) { out << "absent " << hex_bytes << '\n'; }
  void count(const std::string& filter, int n) { out << "count " << n << ' ' << filter << '\n'; }
  // An end-to-end text: with both key logs it is shown as natter.e2e.text in exactly n
  // packets; without the end-to-end key log it appears nowhere.
  void e2e_text(const std::string& text, int n) {
    out << "e2etext " << text << '\n';
    e2e_count("natter.e2e.text == \"" + text + "\"", n);
  }
  // With both key logs, exactly n packets match FILTER.
  void e2e_count(const std::string& filter, int n) { out << "e2ecount " << n << ' ' << filter << '\n'; }
};

// Records the keys the server's handshake derives: the key log line, written by the tool
// (natter's own key log writer is the server's and client's business).
struct key_recorder final : cr::handshake_v2_observer {
  std::string line;
  void on_session_keys(const cr::public_key& id, const cr::secret_key& c2s,
                       const cr::secret_key& s2c) noexcept override {
    line = "NATTER_V2_SESSION " + hex(id) + " " + hex(c2s.data(), c2s.size()) + " " + hex(s2c.data(), s2c.size());
  }
};

// One natter v2 connection, both ends (the generator plays client and server). Not movable:
// the handshakes borrow the keys and the observer.
class v2_session {
 public:
  v2_session()
      : server_static_(cr::key_pair::from_secret(next_secret())),
        identity_(next_identity()),
        server_(cr::handshake_v2::server(server_static_, cr::server_parameters{65536, 4096}, &recorder_)),
        client_(cr::handshake_v2::client(identity_)) {
    if (!server_.set_ephemeral_for_testing(next_secret()) || !client_.set_ephemeral_for_testing(next_secret())) {
      throw std::runtime_error("cannot set the ephemerals");
    }
  }
  // A client with the identity of `seed` on the server of `server_secret` (the end-to-end
  // connections: two clients of one server).
  v2_session(const cr::secret_key& server_secret, const cr::secret_key& seed)
      : server_static_(cr::key_pair::from_secret(cr::e2e::copy_of(server_secret))),
        identity_(natter::tools::identity_from_seed(seed)),
        server_(cr::handshake_v2::server(server_static_, cr::server_parameters{65536, 4096}, &recorder_)),
        client_(cr::handshake_v2::client(identity_)) {
    if (!server_.set_ephemeral_for_testing(next_secret()) || !client_.set_ephemeral_for_testing(next_secret())) {
      throw std::runtime_error("cannot set the ephemerals");
    }
  }
  v2_session(const v2_session&) = delete;
  v2_session& operator=(const v2_session&) = delete;

  // Frame 0: the server hello, as a framed byte string.
  bytes server_hello() { return one(server_.start(), "server hello"); }
  // Frame 1: the client hello header and Noise message 1 (the client takes the server key).
  bytes client_hello(const bytes& hello) {
    if (!client_.on_frame(body_of(hello)).empty()) throw std::runtime_error("client answered the hello");
    return one(client_.accept_peer_key(), "client hello");
  }
  // What the server answers to `framed`: message 2, or a refusal.
  bytes server_answer(const bytes& framed) { return one(server_.on_frame(body_of(framed)), "message 2"); }
  bytes message_3(const bytes& message_2) { return one(client_.on_frame(body_of(message_2)), "message 3"); }
  void server_reads(const bytes& message_3) {
    if (!server_.on_frame(body_of(message_3)).empty() || server_.current() != cr::handshake_v2::state::established) {
      throw std::runtime_error("server handshake: " + server_.error());
    }
    auto c = client_.take_keys();
    auto s = server_.take_keys();
    if (!c || !s) throw std::runtime_error("no session keys");
    using cr::direction;
    client_cipher_.emplace(std::move(c->client_to_server), std::move(c->server_to_client),
                           direction::client_to_server);
    server_cipher_.emplace(std::move(s->server_to_client), std::move(s->client_to_server),
                           direction::server_to_client);
  }
  cr::handshake_v2& server() { return server_; }

  // A session frame from side 0 (client) or 1 (server), framed.
  bytes session(int side, const std::string& plaintext) {
    bytes body;
    auto& cipher = side ? *server_cipher_ : *client_cipher_;
    if (cipher.seal(plaintext, body) != cr::session_cipher_v2::seal_status::ok) {
      throw std::runtime_error("seal failed");
    }
    return frame(body);
  }

  // An authentic client frame whose plaintext is not sodium_pad's (one block of 'x', no 0x80):
  // sealed by hand with the client's key at its next counter, as a broken peer would.
  bytes badly_padded_client_frame(const cr::secret_key& k_c2s) const {
    const cr::nonce n = cr::session_nonce(cr::direction::client_to_server, client_cipher_->frames_sent() + 1);
    const bytes padded(cr::session_cipher_v2::padding_block, 'x');
    bytes body(n.begin(), n.end());
    body.resize(cr::nonce_size + cr::mac_size + padded.size());
    crypto_box_easy_afternm(body.data() + cr::nonce_size, padded.data(), padded.size(), n.data(), k_c2s.data());
    return frame(body);
  }

  const std::string& keylog_line() const { return recorder_.line; }
  const cr::public_key& server_key() const { return server_static_.public_key_bytes; }
  const cr::client_identity_v2& identity() const { return identity_; }

 private:
  static std::span<const std::uint8_t> body_of(const bytes& framed) {
    return std::span<const std::uint8_t>(framed).subspan(4);
  }
  bytes one(std::vector<cr::handshake_v2::frame_body> frames, const char* what) {
    if (frames.size() != 1) {
      throw std::runtime_error(std::string("handshake gave no ") + what + ": " + server_.error() + " / " +
                               client_.error());
    }
    return frame(bytes(frames[0].begin(), frames[0].end()));
  }

  cr::key_pair server_static_;
  cr::client_identity_v2 identity_;
  key_recorder recorder_;
  cr::handshake_v2 server_;
  cr::handshake_v2 client_;
  std::optional<cr::session_cipher_v2> client_cipher_;
  std::optional<cr::session_cipher_v2> server_cipher_;
};

// The keys of the key log line, for the one frame the generator seals by hand.
cr::secret_key c2s_key_of(const std::string& keylog_line) {
  cr::secret_key k;
  const std::string h = keylog_line.substr(std::string("NATTER_V2_SESSION ").size() + 65, 64);
  if (sodium_hex2bin(k.data(), k.size(), h.data(), h.size(), nullptr, nullptr, nullptr) != 0) {
    throw std::runtime_error("bad key log line");
  }
  return k;
}

// The whole handshake, each message in its own segment except where the caller sends
// message 3 itself (returned, so it can be coalesced with what follows).
bytes handshake(tcp_connection& tcp, v2_session& s, expectations& expect) {
  const bytes hello = s.server_hello();
  tcp.send(1, hello);
  const bytes msg1 = s.client_hello(hello);
  tcp.send(0, msg1);
  const bytes msg2 = s.server_answer(msg1);
  tcp.send(1, msg2);
  const bytes msg3 = s.message_3(msg2);
  s.server_reads(msg3);
  ++expect.server_hellos;
  expect.fingerprint_of(s.server_key());
  // Privacy of the client identity: message 3 carries both keys, encrypted.
  expect.absent(hex(s.identity().x25519.public_key_bytes));
  expect.absent(hex(natter::tools::ed25519_bytes(s.identity().ed25519_public)));
  return msg3;
}

// Records the plaintext the checker must find, returns the sealed frame.
bytes said(v2_session& s, int side, const std::string& json, expectations& expect) {
  expect.json(json);
  return s.session(side, json);
}

void main_connection(pcap_writer& pcap, std::ofstream& keylog, expectations& expect) {
  v2_session s;
  tcp_connection tcp(pcap, {127, 0, 0, 1}, 50001, {127, 0, 0, 1}, 9900);
  bytes msg3 = handshake(tcp, s, expect);
  keylog << s.keylog_line() << '\n';

  // Message 3 and the first 2 bytes of the join in one segment (cut inside the length prefix),
  // then the join's next 30 bytes, then its rest.
  const bytes join = said(s, 0, R"({"type":"join","name":"alice","ref":1})", expect);
  append(msg3, slice(join, 0, 2));
  tcp.send(0, msg3);
  tcp.send(0, slice(join, 2, 30));
  tcp.send(0, slice(join, 32, join.size() - 32));

  // A frame longer than one segment.
  const std::string motd(3000, 'm');
  tcp.send_segmented(1, said(s, 1,
      R"({"type":"welcome","name":"alice","users":[{"name":"bob","fingerprint":")" +
      fingerprint(s.server_key()) + R"(","since":1764000000000}],"motd":")" + motd + R"("})", expect));

  // Two frames in one segment, one with multi-byte UTF-8.
  bytes two = said(s, 0, R"({"type":"say","text":"hi","ref":2})", expect);
  append(two, said(s, 0, R"({"type":"whisper","to":"bob","text":"héllo ☃ 🙂 ünïcode","ref":3})", expect));
  tcp.send(0, two);

  // Segment A: two whole frames and the head of a third; segment B: its tail and one more.
  bytes a = said(s, 1, R"({"type":"ack","ref":2,"id":17,"ts":1764000000000})", expect);
  append(a, said(s, 1, R"({"type":"ack","ref":3,"id":18,"ts":1764000000001})", expect));
  const bytes batch = said(s, 1,
      R"([{"type":"message","id":19,"ts":1764000000002,"from":"bob","text":"batched one","scope":"all"},)"
      R"({"type":"presence","event":"joined","name":"carol","fingerprint":"3b6a-27bc-ceb6-a42d-62a3-a8d0-2a6f-0d73"}])",
      expect);
  append(a, slice(batch, 0, 10));
  tcp.send(1, a);
  bytes b = slice(batch, 10, batch.size() - 10);
  append(b, said(s, 1, R"({"type":"pong","ref":4})", expect));
  tcp.send(1, b);

  // A frame altered in transit: one MAC byte flipped. The dissector must flag it.
  bytes tampered = s.session(0, R"({"type":"say","text":"tampered frame, never shown","ref":5})");
  tampered[4 + cr::nonce_size + 3] ^= 0x40;
  expect.secret("tampered frame, never shown");
  tcp.send(0, tampered);
  tcp.send(1, said(s, 1, R"({"type":"bye","reason":"protocol_error","message":"bad MAC"})", expect));
  tcp.close();
}

void heuristic_connection(pcap_writer& pcap, std::ofstream& keylog, expectations& expect) {
  v2_session s;
  tcp_connection tcp(pcap, {127, 0, 0, 1}, 50002, {127, 0, 0, 2}, 40000);
  tcp.send(0, handshake(tcp, s, expect));
  keylog << s.keylog_line() << '\n';
  tcp.send(0, said(s, 0, R"({"type":"join","name":"dave","ref":1})", expect));
  tcp.send(1, said(s, 1, R"({"type":"welcome","name":"dave","users":[]})", expect));
  tcp.send_segmented(0, said(s, 0, R"({"type":"say","text":")" + std::string(4000, 'L') + R"(","ref":2})", expect),
                     1000);
  tcp.send(0, said(s, 0, R"({"type":"quit"})", expect));
  tcp.send(1, said(s, 1, R"({"type":"bye","reason":"quit","message":"goodbye"})", expect));
  tcp.close();
}

void unlogged_connection(pcap_writer& pcap, expectations& expect) {
  v2_session s;  // its keys are deliberately left out of the key log
  tcp_connection tcp(pcap, {127, 0, 0, 1}, 50003, {127, 0, 0, 1}, 9900);
  tcp.send(0, handshake(tcp, s, expect));
  tcp.send(0, s.session(0, R"({"type":"join","name":"eve","ref":1})"));
  tcp.send(0, s.session(0, R"({"type":"say","text":"unlogged secret words","ref":2})"));
  expect.secret("unlogged secret words");
  expect.secret("\"name\":\"eve\"");
  tcp.close();
}

// A server that is full refuses in place of message 2; a protocol 1 client is refused with a
// NATE naming version 2.
void refused_connections(pcap_writer& pcap, expectations& expect) {
  {
    v2_session s;
    tcp_connection tcp(pcap, {127, 0, 0, 1}, 50004, {127, 0, 0, 1}, 9900);
    const bytes hello = s.server_hello();
    tcp.send(1, hello);
    tcp.send(0, s.client_hello(hello));
    const auto refusal = s.server().refuse("server full");
    if (refusal.size() != 1) throw std::runtime_error("no refusal");
    tcp.send(1, frame(bytes(refusal[0].begin(), refusal[0].end())));
    ++expect.server_hellos;
    expect.fingerprint_of(s.server_key());
    tcp.close();
  }
  {
    v2_session s;
    tcp_connection tcp(pcap, {127, 0, 0, 1}, 50005, {127, 0, 0, 1}, 9900);
    const bytes hello = s.server_hello();
    tcp.send(1, hello);
    // A protocol 1 client writes its 40-byte hello and its 72-byte key exchange back to back.
    const cr::key_pair v1_key = cr::key_pair::from_secret(next_secret());
    const auto v1_hello = cr::encode_hello(cr::role::client, v1_key.public_key_bytes, 1);
    bytes flight = frame(bytes(v1_hello.begin(), v1_hello.end()));
    bytes v1_kx;  // nonce 24 + box 48: random-looking, and fixed with --fixed
    for (int i = 0; i < 3; ++i) {
      const cr::secret_key part = next_secret();
      v1_kx.insert(v1_kx.end(), part.data(), part.data() + part.size());
    }
    v1_kx.resize(72);
    append(flight, frame(v1_kx));
    tcp.send(0, flight);
    tcp.send(1, s.server_answer(frame(bytes(v1_hello.begin(), v1_hello.end()))));
    ++expect.server_hellos;
    expect.fingerprint_of(s.server_key());
    tcp.close();
  }
}

// A relay removed server→client frame #3 (the client sees #4 after #2) and sent #4 twice. The
// client then sends an authentic frame with broken padding.
void dropped_frame_connection(pcap_writer& pcap, std::ofstream& keylog, expectations& expect) {
  v2_session s;
  tcp_connection tcp(pcap, {127, 0, 0, 1}, 50006, {127, 0, 0, 1}, 9900);
  tcp.send(0, handshake(tcp, s, expect));
  keylog << s.keylog_line() << '\n';
  tcp.send(0, said(s, 0, R"({"type":"join","name":"frank","ref":1})", expect));
  tcp.send(1, said(s, 1, R"({"type":"welcome","name":"frank","users":[]})", expect));
  tcp.send(1, said(s, 1, R"({"type":"message","id":1,"from":"bob","text":"before the gap"})", expect));
  (void)s.session(1, R"({"type":"message","id":2,"from":"bob","text":"dropped by a relay"})");
  expect.secret("dropped by a relay");
  const bytes after = said(s, 1, R"({"type":"message","id":3,"from":"bob","text":"after the gap"})", expect);
  tcp.send(1, after);
  // The relay also repeats #4: authentic, so it opens, and it is flagged as a replay.
  expect.json(R"({"type":"message","id":3,"from":"bob","text":"after the gap"})");
  tcp.send(1, after);
  tcp.send(0, s.badly_padded_client_frame(c2s_key_of(s.keylog_line())));
  tcp.close();
}

// Handshake frames too short for what they must hold, and a session frame without its MAC:
// each flagged as the wrong size, none a Lua error.
void short_frames_connection(pcap_writer& pcap, expectations& expect) {
  v2_session s;
  ++expect.server_hellos;  // counted by kind: each frame is still what its place makes it
  tcp_connection tcp(pcap, {127, 0, 0, 1}, 50008, {127, 0, 0, 1}, 9900);
  bytes hello = s.server_hello();
  tcp.send(1, frame(slice(hello, 4, cr::hello_header_size)));  // the header without the key
  tcp.send(0, frame(slice(s.client_hello(hello), 4, cr::hello_header_size)));  // no message 1
  tcp.send(1, frame(str_bytes("2")));
  tcp.send(0, frame(str_bytes("3")));
  bytes stub(cr::nonce_size, 0);  // a nonce and nothing after it
  stub[0] = 1;
  stub.back() = 1;
  tcp.send(0, frame(stub));
  tcp.close();
}

// ------------------------------------------------------------------------------ end-to-end
// The end-to-end layer (docs/E2E.md) inside real hop frames: alice and bob, each on their own
// connection to one server, set up a pairwise session with natter's pairwise_setup (Noise KK,
// relayed as kind handshake), whisper over it, alice hands bob her sender key for "lobby"
// (kind key) and writes to the room with it (kind room, delivered to bob in a batch). The
// server then delivers one whisper to bob altered (its AEAD must fail), alice and bob each send
// one whisper whose key is left out of the end-to-end key log (bob's has the (id, n) of a logged
// message of alice's: only the line's direction tells them apart), the server names another
// sender for one of alice's whispers, and alice sends two bodies that do not parse.
//
// The end-to-end key log (PREFIX.e2ekeylog, one NATTER_E2E_KEY line per message key) is
// written by the tool, as the client's would be: the pairwise chain keys come from a second
// Noise KK initiator run beside alice's setup with the same ephemeral (Split() is
// deterministic), the sender key's chain from the chain key the tool gives create_for_testing;
// mk_n is each chain's step(). Every logged key is checked to open the real body, and bob's
// real session and sender key receiver open each message, so the log cannot drift from the core.
std::string base64(const bytes& b) {
  std::string out(sodium_base64_ENCODED_LEN(b.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), b.data(), b.size(), sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();
  return out;
}

e2e::aead_nonce next_nonce() {
  const cr::secret_key s = next_secret();
  e2e::aead_nonce n{};
  std::copy_n(s.data(), n.size(), n.begin());
  return n;
}

void require(bool ok, const char* what) {
  if (!ok) throw std::runtime_error(std::string("end-to-end: ") + what);
}

struct e2e_logger {
  std::ofstream& out;
  // Writes the key line of message `use.n` of `chain` (stepping the chain to it), in the
  // client's own format (e2e_keylog_line), and checks that the key opens `body`'s ciphertext.
  void log(const e2e::message_key_use& use, e2e::chain_key& chain, std::span<const std::uint8_t> ad,
           const e2e::aead_nonce& nonce, std::span<const std::uint8_t> ct) {
    require(chain.index() == use.n, "the logged chain is not at this message");
    auto mk = chain.step();
    require(mk && mk->n == use.n, "chain step");
    require(e2e::open(mk->key, nonce, ad, ct).has_value(), "the logged key does not open its message");
    out << e2e::e2e_keylog_line(use, mk->key) << '\n';
  }
  void log_pairwise(e2e::chain_key& chain, const bytes& body, std::string_view sender, std::string_view recipient) {
    const auto v = e2e::parse_pairwise_body(body);
    require(v.has_value(), "pairwise body");
    log({e2e::chain_kind::pairwise, v->header.id, v->header.n, sender, recipient}, chain, v->header_bytes, v->nonce,
        v->ciphertext);
  }
  void log_room(e2e::chain_key& chain, const bytes& message) {
    const auto v = e2e::parse_room_message(message);
    require(v.has_value(), "room message");
    log({e2e::chain_kind::sender_key, v->header.key_id, v->header.n, {}, {}}, chain, v->header_bytes, v->nonce,
        v->ciphertext);
  }
};

std::string e2e_request(const std::string& kind, const std::string& to, const bytes& body, int ref) {
  return R"({"type":"e2e","kind":")" + kind + (to.empty() ? "" : R"(","to":")" + to) + R"(","body":")" +
         base64(body) + R"(","ref":)" + std::to_string(ref) + "}";
}
std::string e2e_event(int id, const std::string& from, const std::string& kind, const std::string& to,
                      const bytes& body) {
  return R"({"type":"e2e","id":)" + std::to_string(id) + R"(,"ts":)" + std::to_string(1764000100000 + id) +
         R"(,"from":")" + from + R"(","kind":")" + kind + (to.empty() ? "" : R"(","to":")" + to) +
         R"(","body":")" + base64(body) + R"("})";
}

void e2e_connections(pcap_writer& pcap, std::ofstream& keylog, std::ofstream& e2e_keylog, expectations& expect) {
  const auto now = e2e::clock::now();
  const cr::secret_key server_secret = next_secret();
  const cr::secret_key alice_seed = next_secret();
  const cr::secret_key bob_seed = next_secret();
  v2_session a(server_secret, alice_seed);
  v2_session b(server_secret, bob_seed);
  const auto alice = cr::identity_v2::from_seed(e2e::copy_of(alice_seed));
  const auto bob = cr::identity_v2::from_seed(e2e::copy_of(bob_seed));
  const cr::public_key& server_key = a.server_key();
  e2e_logger elog{e2e_keylog};

  tcp_connection ta(pcap, {127, 0, 0, 1}, 50010, {127, 0, 0, 1}, 9900);
  ta.send(0, handshake(ta, a, expect));
  keylog << a.keylog_line() << '\n';
  tcp_connection tb(pcap, {127, 0, 0, 1}, 50011, {127, 0, 0, 1}, 9900);
  tb.send(0, handshake(tb, b, expect));
  keylog << b.keylog_line() << '\n';
  ta.send(0, said(a, 0, R"({"type":"join","name":"alice","ref":1})", expect));
  ta.send(1, said(a, 1, R"({"type":"welcome","name":"alice","users":[]})", expect));
  tb.send(0, said(b, 0, R"({"type":"join","name":"bob","ref":1})", expect));
  tb.send(1, said(b, 1, R"({"type":"welcome","name":"bob","users":[{"name":"alice","fingerprint":")" +
                               natter::tools::user_fingerprint(alice.public_key().bytes) +
                               R"(","since":1764000000000}]})", expect));

  // The pairwise session: alice initiates; a second KK initiator with her ephemeral gives the
  // same Split() keys, for the key log.
  const e2e::party alice_party{"alice", alice.public_key()};
  const e2e::party bob_party{"bob", bob.public_key()};
  auto alice_setup = e2e::pairwise_setup::create(alice, "alice", bob_party, server_key);
  auto bob_setup = e2e::pairwise_setup::create(bob, "bob", alice_party, server_key);
  require(alice_setup && bob_setup, "pairwise_setup::create");
  const cr::secret_key alice_ephemeral = next_secret();
  alice_setup->set_ephemeral_for_testing(e2e::copy_of(alice_ephemeral));
  bob_setup->set_ephemeral_for_testing(next_secret());
  const auto prologue = e2e::pairwise_prologue(server_key, alice_party, bob_party);
  const auto bob_x25519 = cr::x25519_of(bob.public_key());
  require(prologue && bob_x25519, "prologue");
  auto shadow = cr::noise::handshake_state::initiator_kk(alice.x25519(), *bob_x25519, *prologue);
  require(shadow.set_ephemeral_for_testing(e2e::copy_of(alice_ephemeral)), "shadow ephemeral");

  const auto init = alice_setup->start();
  require(init.has_value(), "start");
  const auto shadow_m1 = shadow.write_message({});
  require(shadow_m1 && bytes(init->begin() + 1, init->end()) == *shadow_m1, "the shadow's message 1 differs");
  ta.send(0, said(a, 0, e2e_request("handshake", "bob", *init, 2), expect));
  tb.send(1, said(b, 1, e2e_event(101, "alice", "handshake", "bob", *init), expect));
  const auto reply = bob_setup->receive(*init);
  require(reply.status == e2e::pairwise_setup::setup_status::reply && reply.reply, "bob's reply");
  tb.send(0, said(b, 0, e2e_request("handshake", "alice", *reply.reply, 2), expect));
  ta.send(1, said(a, 1, e2e_event(102, "bob", "handshake", "alice", *reply.reply), expect));
  require(alice_setup->receive(*reply.reply).status == e2e::pairwise_setup::setup_status::established,
          "alice's session");
  require(shadow.read_message(std::span<const std::uint8_t>(*reply.reply).subspan(1)).has_value(), "shadow read");
  auto split = shadow.split();
  require(split.has_value(), "shadow split");
  auto alice_session = alice_setup->take_session();
  auto bob_session = bob_setup->take_session();
  require(alice_session && bob_session && alice_session->id() == bob_session->id(), "one session");
  e2e::chain_key alice_chain(e2e::copy_of(split->initiator_to_responder), 0, e2e::chain_kind::pairwise);
  e2e::chain_key bob_chain(e2e::copy_of(split->responder_to_initiator), 0, e2e::chain_kind::pairwise);

  // Seals a whisper in the sender's real session and logs its key (unless `logged` is false:
  // the chain still steps past it, as the client's would).
  const auto whisper = [&](bool from_alice, const std::string& text, bool logged) {
    auto& sender = from_alice ? *alice_session : *bob_session;
    auto& chain = from_alice ? alice_chain : bob_chain;
    const auto body = sender.seal_with_nonce_for_testing(str_bytes(text), next_nonce());
    require(body.has_value(), "seal");
    if (logged) {
      elog.log_pairwise(chain, *body, from_alice ? "alice" : "bob", from_alice ? "bob" : "alice");
    } else {
      require(chain.step().has_value(), "chain step");
    }
    return *body;
  };
  // The recipient's real session opens it.
  const auto delivered = [&](bool from_alice, const bytes& body, const std::string& text) {
    const auto opened = (from_alice ? *bob_session : *alice_session).open(body, now);
    require(opened.status == e2e::receive_status::ok && opened.plaintext == str_bytes(text), "whisper opens");
  };

  // Whispers both ways.
  const std::string hello_bob = "hello bob, only you can read this ☃";
  const bytes w1 = whisper(true, hello_bob, true);
  delivered(true, w1, hello_bob);
  ta.send(0, said(a, 0, e2e_request("whisper", "bob", w1, 3), expect));
  tb.send(1, said(b, 1, e2e_event(103, "alice", "whisper", "bob", w1), expect));
  expect.e2e_text(hello_bob, 2);
  const std::string hello_alice = "hi alice, end to end";
  const bytes w2 = whisper(false, hello_alice, true);
  delivered(false, w2, hello_alice);
  tb.send(0, said(b, 0, e2e_request("whisper", "alice", w2, 3), expect));
  ta.send(1, said(a, 1, e2e_event(104, "bob", "whisper", "alice", w2), expect));
  expect.e2e_text(hello_alice, 2);

  // Alice's sender key for "lobby", handed to bob in the pairwise session (kind key).
  const cr::secret_key chain_key = next_secret();
  auto sender = e2e::sender_key_sender::create_for_testing("lobby", 3, e2e::copy_of(chain_key), next_secret());
  require(sender.has_value(), "sender key");
  e2e::chain_key room_chain(e2e::copy_of(chain_key), 0, e2e::chain_kind::sender_key);
  const bytes distribution = sender->distribution();
  const auto key_body = alice_session->seal_with_nonce_for_testing(distribution, next_nonce());
  require(key_body.has_value(), "seal the distribution");
  elog.log_pairwise(alice_chain, *key_body, "alice", "bob");
  const auto dist_opened = bob_session->open(*key_body, now);
  require(dist_opened.status == e2e::receive_status::ok, "the distribution opens");
  auto receiver = e2e::sender_key_receiver::from_distribution(dist_opened.plaintext);
  require(receiver.has_value(), "sender key receiver");
  ta.send(0, said(a, 0, e2e_request("key", "bob", *key_body, 4), expect));
  tb.send(1, said(b, 1, e2e_event(105, "alice", "key", "bob", *key_body), expect));
  expect.absent(hex(chain_key.data(), chain_key.size()));  // never shown, not even decrypted
  expect.e2e_count("natter.e2e.distribution.signing_key == \"" +
                       hex(natter::tools::ed25519_bytes(sender->signing_key())) + "\"", 2);
  expect.e2e_count("natter.e2e.distribution.chain_key == \"(chain key, 32 bytes)\"", 2);
  expect.e2e_count("natter.e2e.distribution.room == \"lobby\" && natter.e2e.distribution.epoch == 3", 2);

  // A room message, sealed once; bob gets it in a batch.
  const std::string hello_room = "hello lobby, sealed once for the whole room";
  const auto room_msg = sender->seal_with_nonce_for_testing(str_bytes(hello_room), next_nonce());
  require(room_msg.has_value(), "room seal");
  elog.log_room(room_chain, *room_msg);
  const auto room_opened = receiver->open(*room_msg, now);
  require(room_opened.status == e2e::receive_status::ok && room_opened.plaintext == str_bytes(hello_room),
          "room message opens");
  ta.send(0, said(a, 0, e2e_request("room", "", *room_msg, 5), expect));
  tb.send(1, said(b, 1, "[" + e2e_event(106, "alice", "room", "", *room_msg) +
                            R"(,{"type":"presence","event":"joined","name":"carol","fingerprint":"3b6a-27bc-ceb6-a42d-62a3-a8d0-2a6f-0d73"}])",
                  expect));
  expect.e2e_text(hello_room, 2);

  // The server alters a whisper on the way to bob: alice's request opens, bob's copy does not.
  const std::string altered = "this whisper was altered by the server";
  const bytes w3 = whisper(true, altered, true);
  bytes w3_altered = w3;
  w3_altered[w3_altered.size() - 20] ^= 0x01;  // a ciphertext byte (the tag is the last 16)
  require(bob_session->open(w3_altered, now).status == e2e::receive_status::auth_failed, "altered refused");
  ta.send(0, said(a, 0, e2e_request("whisper", "bob", w3, 6), expect));
  tb.send(1, said(b, 1, e2e_event(107, "alice", "whisper", "bob", w3_altered), expect));
  expect.e2e_text(altered, 1);

  // A whisper whose key is not in the end-to-end key log: never readable.
  const std::string unlogged = "unlogged end-to-end words";
  const bytes w4 = whisper(true, unlogged, false);
  delivered(true, w4, unlogged);
  ta.send(0, said(a, 0, e2e_request("whisper", "bob", w4, 7), expect));
  tb.send(1, said(b, 1, e2e_event(108, "alice", "whisper", "bob", w4), expect));
  expect.secret(unlogged);

  // A whisper from bob whose key is left out while alice's message with the same (id, n) is
  // logged: the dissector picks the line by direction, so it says which key is missing instead
  // of trying alice's.
  const std::string unlogged_back = "unlogged words from bob";
  const bytes w5 = whisper(false, unlogged_back, false);
  delivered(false, w5, unlogged_back);
  require(e2e::parse_pairwise_body(w5)->header.n == 1, "bob's second message is n = 1, as alice's key body");
  tb.send(0, said(b, 0, e2e_request("whisper", "alice", w5, 4), expect));
  ta.send(1, said(a, 1, e2e_event(109, "bob", "whisper", "alice", w5), expect));
  expect.secret(unlogged_back);
  const std::string session_hex = hex(alice_session->id());
  expect.e2e_count(R"(_ws.expert.message contains "no e2e key for pairwise )" + session_hex + R"( #1 bob->alice")", 1);
  expect.e2e_count(R"(_ws.expert.message contains "no e2e key for pairwise )" + session_hex + R"( #1 ->alice")", 1);

  // The server names another sender than the one who sealed it: the body opens (the key log
  // says alice sealed it), and the dissector flags the envelope.
  const std::string claimed = "alice sealed this, the server says carol";
  const bytes w6 = whisper(true, claimed, true);
  delivered(true, w6, claimed);
  ta.send(0, said(a, 0, e2e_request("whisper", "bob", w6, 10), expect));
  tb.send(1, said(b, 1, e2e_event(110, "carol", "whisper", "bob", w6), expect));
  expect.e2e_text(claimed, 2);
  expect.e2e_count("natter.e2e.sender_mismatch", 1);

  // Bodies that are base64 but not the layer's formats (the server routes them unread): a
  // 3-byte whisper, a room message one byte short. Flagged, never a Lua error.
  ta.send(0, said(a, 0, e2e_request("whisper", "bob", bytes{0, 0, 0}, 8), expect));
  ta.send(0, said(a, 0, e2e_request("room", "", bytes(room_msg->begin(), room_msg->end() - 1), 9), expect));
  expect.count("natter.e2e.bad_format", 2);

  // The mutated copies only: real bodies with bytes flipped, cut or added, inside authentic
  // frames, so the end-to-end parser meets random input with keys at hand.
  if (natter::tools::mutation_percent > 0) {
    const std::vector<std::pair<std::string, bytes>> originals{
        {"handshake", *init}, {"whisper", w1}, {"key", *key_body}, {"room", *room_msg}, {"whisper", w2}};
    for (int i = 0; i < 40; ++i) {
      const auto& [kind, original] = originals[randombytes_uniform(static_cast<std::uint32_t>(originals.size()))];
      bytes damaged = original;
      const std::uint32_t how = randombytes_uniform(4);
      if (how == 0) {
        damaged.resize(randombytes_uniform(static_cast<std::uint32_t>(damaged.size())) + 1);
      } else if (how == 1) {
        damaged.push_back(static_cast<unsigned char>(randombytes_uniform(256)));
      }
      for (std::uint32_t j = 0, n = randombytes_uniform(4); j < n; ++j) {
        const auto at = randombytes_uniform(static_cast<std::uint32_t>(damaged.size()));
        damaged[at] = static_cast<unsigned char>(damaged[at] ^ (1 + randombytes_uniform(255)));
      }
      ta.send(0, a.session(0, e2e_request(kind, kind == "room" ? "" : "bob", damaged, 100 + i)));
    }
  }

  // What each layer shows: without the end-to-end key log every body is "not readable".
  expect.count("natter.e2e", 22);
  expect.count("natter.e2e.kind == \"handshake\" && natter.e2e.handshake_kind", 4);
  expect.count("natter.e2e.no_key", 16);
  expect.count("natter.e2e.text", 0);
  expect.count("natter.e2e.signature", 2);
  expect.count("natter.e2e.auth_failed", 0);
  expect.e2e_count("natter.e2e.no_key", 4);
  expect.e2e_count("natter.e2e.auth_failed", 1);
  expect.e2e_count("natter.e2e.aead_ok == 1", 11);
  // The direction of every body a line opens (or fails to): whisper 1, the key body, the
  // altered whisper and the claimed one alice->bob, whisper 2 bob->alice; two packets each.
  expect.e2e_count("natter.e2e.direction == \"alice->bob\"", 8);
  expect.e2e_count("natter.e2e.direction == \"bob->alice\"", 2);
  expect.count("natter.e2e.direction", 0);
  expect.e2e_count("natter.e2e.keylog_missing", 0);
  ta.close();
  tb.close();
}

// Must be the last connection: it ends the capture in the middle of a frame.
void malformed_connection(pcap_writer& pcap, expectations& expect) {
  v2_session s;
  tcp_connection tcp(pcap, {127, 0, 0, 1}, 50007, {127, 0, 0, 1}, 9900);
  tcp.send(0, handshake(tcp, s, expect));
  tcp.send(0, frame({}));  // empty frame
  bytes too_long;
  natter::tools::put_u32(too_long, 0x01000000);  // 16 MiB, above the 64 KiB default maximum
  append(too_long, str_bytes("garbage that no receiver reads"));
  tcp.send(0, too_long);
  tcp.send(0, str_bytes("more bytes after the framing was lost"));
  const bytes cut = s.session(1, R"({"type":"message","text":")" + std::string(200, 'x') + R"("})");
  tcp.send(1, slice(cut, 0, 50));  // the capture ends here
}

void write_capture(const std::string& prefix) {
  secrets_drawn = 0;
  pcap_writer pcap(prefix + ".pcap");
  std::ofstream keylog(prefix + ".keylog");
  std::ofstream e2e_keylog(prefix + ".e2ekeylog");
  expectations expect{std::ofstream(prefix + ".expect")};
  if (!keylog || !e2e_keylog || !expect.out) throw std::runtime_error("cannot write " + prefix + ".*");
  const std::string name = prefix.substr(prefix.find_last_of('/') + 1);
  expect.out << "# what check_capture.sh must find in " << name << ".pcap (make_capture)\n";
  // A protocol 1 line left in an old key log: ignored.
  keylog << "NATTER_SESSION_KEY " << std::string(48, '0') << ' ' << std::string(64, '1') << '\n';
  main_connection(pcap, keylog, expect);
  heuristic_connection(pcap, keylog, expect);
  unlogged_connection(pcap, expect);
  refused_connections(pcap, expect);
  dropped_frame_connection(pcap, keylog, expect);
  short_frames_connection(pcap, expect);
  e2e_connections(pcap, keylog, e2e_keylog, expect);
  malformed_connection(pcap, expect);
  expect.count("natter.mac_failed", 1);
  expect.count("natter.gap", 1);
  expect.count("natter.bad_padding", 1);
  expect.count("natter.replay", 1);
  expect.count("natter.bad_size", 5);
  expect.count("natter.bad_length", 2);
  expect.count("natter.truncated", 1);
  expect.count("natter.after_error", 1);
  expect.count("natter.refused", 2);
  expect.count("natter.unsupported", 1);  // the protocol 1 hello and its key exchange: one segment
  expect.count("natter.no_key", 2);
  expect.count("natter.keylog_missing", 0);
  expect.count("natter.internal", 0);
  expect.count("natter.kind == \"server hello\"", expect.server_hellos);
  expect.count("natter.kind == \"client hello + message 1\"", expect.server_hellos - 1);
  expect.count("natter.kind == \"message 2\"", expect.server_hellos - 2);
  expect.count("natter.kind == \"message 3\"", expect.server_hellos - 2);
  expect.count("natter.kind == \"hello, unsupported version\"", 1);
  expect.count("natter.session.counter == 4 && natter.gap && natter.session.mac_ok", 1);
  expect.e2e_count("natter.internal", 0);
  expect.e2e_count("natter.mac_failed", 1);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string usage = "usage: make_capture PREFIX [--fixed] [--mutate N]\n";
  if (argc < 2) {
    std::cerr << usage;
    return 2;
  }
  int mutated = 0;
  for (int i = 2; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--fixed") {
      fixed_secrets = true;
    } else if (arg == "--mutate" && i + 1 < argc) {
      mutated = std::stoi(argv[++i]);
    } else {
      std::cerr << usage;
      return 2;
    }
  }
  if (sodium_init() < 0) {
    std::cerr << "make_capture: sodium_init failed\n";
    return 1;
  }
  const std::string prefix = argv[1];
  try {
    write_capture(prefix);
    for (int i = 1; i <= mutated; ++i) {
      natter::tools::mutation_percent = 25;
      write_capture(prefix + "-mutated-" + std::to_string(i));
      std::remove((prefix + "-mutated-" + std::to_string(i) + ".expect").c_str());
    }
  } catch (const std::exception& e) {
    std::cerr << "make_capture: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
