// Fuzzes the protocol 2 handshake state machine (crypto/handshake_v2, docs/PROTOCOL.md) on both
// sides, at every state, and the session cipher v2 once a handshake is established.
//
// Input format (fuzz_support.hpp): byte 0 picks the mode, then u16-length-prefixed frames.
//   0  a server from its start (awaiting the client hello + Noise message 1), fed the frames
//   1  a client from its start (awaiting the server hello; it accepts any key), fed the frames
//   2  a server that answered a valid client hello + message 1 (awaiting message 3), fed the frames
//   3  a client that accepted the server hello and sent message 1 (awaiting message 2), fed the frames
//   4  a completed handshake; frames go to both handshakes and to both session ciphers
//   5  a real handshake whose frames are each XORed with the next input frame: near-valid
//      hellos and Noise messages, which random bytes would almost never produce
// Invariants: nothing throws; a failed machine stays failed and silent; a server answers only
// message 1 (with message 2) or refuses once, in plaintext, and only before message 2; a client
// answers only message 2 (with message 3, and is then established) and accepts a refusal only
// while awaiting message 2, as unauthenticated; keys are handed out once, and both sides' keys
// agree; a session cipher never returns plaintext for a frame that did not open, and accepts
// only the next counter.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz_support.hpp"
#include "natter/crypto/handshake_v2.hpp"
#include "natter/crypto/hello.hpp"
#include "natter/crypto/session_cipher_v2.hpp"
#include "natter/frame.hpp"

namespace {

using natter::crypto::handshake_v2;
using natter::crypto::role;
using state = handshake_v2::state;
using frame_list = std::vector<std::vector<std::uint8_t>>;

using natter::fuzz::check;

const natter::crypto::identity_v2& client_identity() {
  static const auto identity = natter::fuzz::fixed_identity_v2(0x11);
  return identity;
}
const natter::crypto::key_pair& server_identity() {
  static const auto keys = natter::fuzz::fixed_identity(0x22);
  return keys;
}
constexpr natter::crypto::server_parameters parameters{65536, 4096};

// The keys an observer is told, as hex (the key log's view).
struct recorder final : natter::crypto::handshake_v2_observer {
  int calls = 0;
  std::string id, c2s, s2c;
  void on_session_keys(const natter::crypto::public_key& connection_id, const natter::crypto::secret_key& k_c2s,
                       const natter::crypto::secret_key& k_s2c) noexcept override {
    ++calls;
    id = natter::crypto::to_hex(connection_id);
    c2s = natter::crypto::to_hex(std::span(k_c2s.data(), natter::crypto::key_size));
    s2c = natter::crypto::to_hex(std::span(k_s2c.data(), natter::crypto::key_size));
  }
};

// Feeds one frame and checks what came back against the state machine's promises.
frame_list feed(handshake_v2& h, role own, std::span<const std::uint8_t> frame) {
  const state before = h.current();
  frame_list out = h.on_frame(frame);
  const state after = h.current();
  check(out.size() <= 1);
  if (before == state::failed || before == state::established) check(out.empty());
  if (before == state::failed) check(after == state::failed);
  if (after == state::failed) check(!h.error().empty() && !h.handshake_hash() && !h.take_keys());
  if (own == role::server) {
    if (out.size() == 1 && after == state::failed) {
      // A refusal, only in place of message 2.
      check(before == state::awaiting_message_1 && natter::crypto::decode_refusal(out[0]).has_value());
    } else if (out.size() == 1) {
      check(before == state::awaiting_message_1 && after == state::awaiting_message_3);
      // Message 2: e, then the server parameters sealed (a tag).
      check(out[0].size() == natter::crypto::key_size + natter::crypto::server_parameters_size + natter::crypto::mac_size);
    }
    if (after == state::established) check(before == state::awaiting_message_3 && h.client_ed25519_key());
    // A server fails silently after message 2: the client expects sealed frames then.
    if (before == state::awaiting_message_3) check(out.empty());
  } else {
    if (!out.empty()) check(before == state::awaiting_message_2 && after == state::established);
    if (after == state::established && before != state::established) check(out.size() == 1 && h.peer_parameters());
    if (h.refused_unauthenticated()) check(after == state::failed);
    // A client that got a hello answers with message 1 once the pin is accepted, as the real one does.
    if (after == state::awaiting_verdict) {
      const frame_list opening = h.accept_peer_key();
      check((opening.size() == 1 && h.current() == state::awaiting_message_2) ||
            (opening.empty() && h.current() == state::failed));
    }
  }
  return out;
}

void feed_all(handshake_v2& h, role own, const frame_list& frames, std::size_t first = 0) {
  for (std::size_t i = first; i < frames.size(); ++i) (void)feed(h, own, frames[i]);
}

// Opens arbitrary frames: status ok iff plaintext is meaningful, never partial plaintext, and
// the counter moves only by one.
void open_all(natter::crypto::session_cipher_v2& cipher, const frame_list& frames, std::size_t first) {
  for (std::size_t i = first; i < frames.size(); ++i) {
    const auto before = cipher.last_received_counter();
    const auto opened = cipher.open(frames[i]);
    if (opened.status != natter::crypto::session_cipher_v2::open_status::ok) {
      check(opened.plaintext.empty() && cipher.last_received_counter() == before);
    } else {
      check(opened.counter == before + 1 && cipher.last_received_counter() == opened.counter);
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  natter::fuzz::init_deterministic_sodium();
  (void)client_identity();
  (void)server_identity();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  natter::fuzz::reset_random();
  const std::size_t mode = data[0] % natter::fuzz::handshake_modes;
  const frame_list frames = natter::fuzz::split_frames(std::span(data + 1, size - 1));

  recorder server_keys, client_keys;
  auto server = handshake_v2::server(server_identity(), parameters, &server_keys);
  auto client = handshake_v2::client(client_identity(), &client_keys);
  const frame_list server_hello = server.start();
  check(server_hello.size() == 1 && client.start().empty());

  switch (mode) {
    case 0: feed_all(server, role::server, frames); break;
    case 1: feed_all(client, role::client, frames); break;
    case 2: {
      check(client.on_frame(server_hello[0]).empty() && client.current() == state::awaiting_verdict);
      const frame_list opening = client.accept_peer_key();
      check(opening.size() == 1);
      check(feed(server, role::server, opening[0]).size() == 1);
      feed_all(server, role::server, frames);
      break;
    }
    case 3: {
      (void)feed(client, role::client, server_hello[0]);
      check(client.current() == state::awaiting_message_2);
      feed_all(client, role::client, frames);
      break;
    }
    case 4:
    case 5: {
      std::size_t next_mask = 0;
      std::vector<std::uint8_t> hello = server_hello[0];
      if (mode == 5) natter::fuzz::xor_next_mask(hello, frames, next_mask);
      check(client.on_frame(hello).empty());
      if (client.current() != state::awaiting_verdict) break;
      frame_list pending = client.accept_peer_key();
      // Message 1 to the server, message 2 to the client, message 3 to the server.
      for (int turn = 0; turn < 3 && !pending.empty(); ++turn) {
        auto frame = pending.front();
        if (mode == 5) natter::fuzz::xor_next_mask(frame, frames, next_mask);
        pending = turn % 2 == 0 ? feed(server, role::server, frame) : feed(client, role::client, frame);
      }
      const bool both = server.current() == state::established && client.current() == state::established;
      if (mode == 4) check(both);  // unmodified frames must always succeed
      if (!both) break;
      check(server.connection_id() == client.connection_id());
      check(server.handshake_hash() == client.handshake_hash());
      check(server.client_ed25519_key() == client_identity().public_key());
      auto server_split = server.take_keys();
      auto client_split = client.take_keys();
      check(server_split && client_split && !server.take_keys() && !client.take_keys());
      check(server_keys.calls == 1 && client_keys.calls == 1);
      check(server_keys.id == client_keys.id && server_keys.c2s == client_keys.c2s && server_keys.s2c == client_keys.s2c);
      natter::crypto::session_cipher_v2 server_cipher(std::move(server_split->server_to_client),
                                                      std::move(server_split->client_to_server),
                                                      natter::crypto::direction::server_to_client);
      natter::crypto::session_cipher_v2 client_cipher(std::move(client_split->client_to_server),
                                                      std::move(client_split->server_to_client),
                                                      natter::crypto::direction::client_to_server);
      // A real sealed frame must open; then the fuzzed ones must be handled without harm.
      std::vector<std::uint8_t> wire;
      natter::append_sealed_frame(client_cipher, "{\"type\":\"ping\"}", wire);
      const auto opened = server_cipher.open(std::span(wire).subspan(natter::frame_header_size));
      check(opened.status == natter::crypto::session_cipher_v2::open_status::ok &&
            opened.plaintext == "{\"type\":\"ping\"}");
      open_all(server_cipher, frames, next_mask);
      open_all(client_cipher, frames, next_mask);
      feed_all(server, role::server, frames, next_mask);
      feed_all(client, role::client, frames, next_mask);
      break;
    }
  }
  return 0;
}
