// Fuzzes the handshake state machine (docs/PROTOCOL.md §2-3) on both sides, at every state, and
// the session cipher once a handshake is established.
//
// Input format (fuzz_support.hpp): byte 0 picks the mode, then u16-length-prefixed frames.
//   0  a server from its start, fed the frames
//   1  a client from its start, fed the frames
//   2  a server that accepted a valid client hello (awaiting the key exchange), fed the frames
//   3  a client that accepted the server's hello and sent its own, fed the frames
//   4  a completed handshake; frames go to both handshakes and to both session ciphers
//   5  a real handshake whose frames are each XORed with the next input frame: near-valid
//      hellos and key exchanges, which random bytes would almost never produce
// Invariants: nothing throws, a client never answers a frame with frames, a failed machine stays
// failed and silent, a server refuses at most once and only before its key exchange, and a
// session cipher never returns plaintext for a frame that did not open.
#include <cstdint>
#include <cstdlib>

#include "fuzz_support.hpp"
#include "natter/crypto/handshake.hpp"
#include "../key_recorder.hpp"
#include "natter/crypto/session_cipher.hpp"
#include "natter/frame.hpp"

namespace {

using natter::crypto::handshake;
using natter::crypto::role;
using state = natter::crypto::handshake::state;
using frame_list = std::vector<std::vector<std::uint8_t>>;

void check(bool ok) {
  if (!ok) std::abort();
}

const natter::crypto::key_pair& client_identity() {
  static const auto keys = natter::fuzz::fixed_identity(0x11);
  return keys;
}
const natter::crypto::key_pair& server_identity() {
  static const auto keys = natter::fuzz::fixed_identity(0x22);
  return keys;
}

// Feeds one frame and checks what came back against the state machine's promises.
frame_list feed(handshake& h, role own, std::span<const std::uint8_t> frame) {
  const state before = h.current();
  frame_list out = h.on_frame(frame);
  const state after = h.current();
  if (before == state::failed) check(out.empty() && after == state::failed);
  if (own == role::client) check(out.empty());  // a client speaks only through accept_peer_key
  if (own == role::server) {
    check(out.size() <= 1);
    // The only frames a server sends here: its key exchange (accepting a hello) or a refusal.
    if (out.size() == 1 && after == state::failed) check(natter::crypto::decode_refusal(out[0]).has_value());
    if (out.size() == 1 && after != state::failed) {
      check(before == state::awaiting_hello && after == state::awaiting_key_exchange);
      check(out[0].size() == natter::crypto::key_exchange_size);
    }
  }
  if (after == state::failed) check(!h.error().empty());
  // A client that got a hello answers with its own once the pin is accepted, as the real one does.
  if (own == role::client && after == state::awaiting_verdict) {
    const frame_list opening = h.accept_peer_key();
    check(opening.size() == 2 && h.current() == state::awaiting_key_exchange);
  }
  return out;
}

void feed_all(handshake& h, role own, const frame_list& frames, std::size_t first = 0) {
  for (std::size_t i = first; i < frames.size(); ++i) (void)feed(h, own, frames[i]);
}

// Opens arbitrary frames: status ok iff plaintext is meaningful, and never partial plaintext.
void open_all(natter::crypto::session_cipher& cipher, const frame_list& frames, std::size_t first) {
  for (std::size_t i = first; i < frames.size(); ++i) {
    const auto before = cipher.last_received_counter();
    const auto opened = cipher.open(frames[i]);
    if (opened.status != natter::crypto::open_status::ok) {
      check(opened.plaintext.empty() && cipher.last_received_counter() == before);
    } else {
      check(opened.counter > before && cipher.last_received_counter() == opened.counter);
    }
  }
}

void xor_into(std::vector<std::uint8_t>& frame, const frame_list& masks, std::size_t& next_mask) {
  if (next_mask >= masks.size()) return;
  const auto& mask = masks[next_mask++];
  // A mask longer than the frame appends bytes (xor with 0), so the length can change too.
  if (mask.size() > frame.size()) frame.resize(mask.size(), 0);
  for (std::size_t i = 0; i < mask.size(); ++i) frame[i] ^= mask[i];
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

  natter::testing::key_recorder server_key, client_key;
  handshake server(role::server, server_identity(), nullptr, &server_key);
  handshake client(role::client, client_identity(), nullptr, &client_key);
  const frame_list server_hello = server.start();
  check(server_hello.size() == 1 && client.start().empty());

  switch (mode) {
    case 0: feed_all(server, role::server, frames); break;
    case 1: feed_all(client, role::client, frames); break;
    case 2: {
      const frame_list client_hello = {natter::crypto::encode_hello(role::client, client_identity().public_key_bytes)};
      check(feed(server, role::server, client_hello[0]).size() == 1);
      feed_all(server, role::server, frames);
      break;
    }
    case 3: {
      (void)feed(client, role::client, server_hello[0]);
      check(client.current() == state::awaiting_key_exchange);
      feed_all(client, role::client, frames);
      break;
    }
    case 4:
    case 5: {
      std::size_t next_mask = 0;
      std::vector<std::uint8_t> hello = server_hello[0];
      if (mode == 5) xor_into(hello, frames, next_mask);
      check(client.on_frame(hello).empty());
      if (client.current() != state::awaiting_verdict) break;
      frame_list opening = client.accept_peer_key();
      for (auto& frame : opening) {
        if (mode == 5) xor_into(frame, frames, next_mask);
        frame_list reply = feed(server, role::server, frame);
        for (auto& r : reply) {
          if (mode == 5) xor_into(r, frames, next_mask);
          (void)feed(client, role::client, r);
        }
      }
      const bool both = server.current() == state::established && client.current() == state::established;
      if (mode == 4) check(both);  // unmodified frames must always succeed
      if (!both) break;
      check(server.connection_id() == client.connection_id());
      auto server_cipher = server.take_cipher();
      auto client_cipher = client.take_cipher();
      check(server_key.key.has_value() && client_key.same_key_as(server_key.key->data()));
      // A real sealed frame must open; then the fuzzed ones must be handled without harm.
      std::vector<std::uint8_t> wire;
      natter::append_sealed_frame(client_cipher, "{\"type\":\"ping\"}", wire);
      const auto opened = server_cipher.open(std::span(wire).subspan(natter::frame_header_size));
      check(opened.status == natter::crypto::open_status::ok && opened.plaintext == "{\"type\":\"ping\"}");
      open_all(server_cipher, frames, next_mask);
      open_all(client_cipher, frames, next_mask);
      feed_all(server, role::server, frames, next_mask);
      break;
    }
  }
  return 0;
}
