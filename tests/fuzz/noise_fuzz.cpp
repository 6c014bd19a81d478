// Fuzzes noise::handshake_state::read_message (Noise_XK, docs/NOISE.md) on both sides, at each
// of the three messages, and with near-valid messages.
//
// Input format (fuzz_support.hpp): byte 0 picks the mode, then u16-length-prefixed frames.
//   0  a fresh responder reads frame 0 as message 1; if it accepts, it answers and reads frame 1
//      as message 3
//   1  an initiator that wrote message 1 reads frame 0 as message 2
//   2  a responder that read an honest message 1 and answered reads frame 0 as message 3
//   3  an honest handshake whose three messages are each XORed with the next frame (a longer
//      frame also lengthens the message): bit flips, truncation aside, in every position
// Invariants: nothing crashes; a read returns a payload exactly when the state advances, and
// the payload is the message minus its keys and tags; a failed state stays failed and refuses
// every call; in mode 3 a message is accepted only if it is byte for byte the one written, and
// if all three are, both sides split the same keys.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <vector>

#include "fuzz_support.hpp"
#include "natter/crypto/noise_handshake_state.hpp"

namespace {

namespace noise = natter::crypto::noise;
using status = noise::handshake_state::status;
using frame_list = std::vector<std::vector<std::uint8_t>>;

using natter::fuzz::check;

const natter::crypto::key_pair& initiator_static() {
  static const auto keys = natter::fuzz::fixed_identity(0x11);
  return keys;
}
const natter::crypto::key_pair& responder_static() {
  static const auto keys = natter::fuzz::fixed_identity(0x22);
  return keys;
}
const std::vector<std::uint8_t> prologue = {'n', 'a', 't', 't', 'e', 'r'};
const std::vector<std::uint8_t> payload = {'h', 'i'};

// Fixed ephemerals, so an input replays exactly and mode 3's honest messages never change.
noise::handshake_state make(noise::role role) {
  auto state = role == noise::role::initiator
                   ? noise::handshake_state::initiator(initiator_static(), responder_static().public_key_bytes, prologue)
                   : noise::handshake_state::responder(responder_static(), prologue);
  auto e = natter::fuzz::fixed_identity(role == noise::role::initiator ? 0x33 : 0x44);
  check(state.set_ephemeral_for_testing(std::move(e.secret)));
  return state;
}

std::size_t overhead(std::size_t message_index) { return message_index == 2 ? 48 + 16 : 32 + 16; }

// Reads one message and checks the state machine's promises. Returns whether it was accepted.
bool feed(noise::handshake_state& state, std::span<const std::uint8_t> message) {
  const status before = state.current();
  const std::size_t index = state.messages_done();
  const auto read = state.read_message(message);
  const status after = state.current();
  if (before != status::read_next) {
    check(!read && after == before);
    return false;
  }
  if (!read) {
    check(after == status::failed && state.error() != noise::handshake_error::none);
    check(!state.write_message(payload) && !state.read_message(message) && !state.split());
    check(state.current() == status::failed);
    if (state.own_role() == noise::role::responder) check(!state.remote_static());
    return false;
  }
  check(state.messages_done() == index + 1);
  check(read->size() == message.size() - overhead(index));
  check(after == (index == 2 ? status::complete : status::write_next));
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  natter::fuzz::init_deterministic_sodium();
  (void)initiator_static();
  (void)responder_static();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  natter::fuzz::reset_random();
  const std::size_t mode = data[0] % 4;
  const frame_list frames = natter::fuzz::split_frames(std::span(data + 1, size - 1));
  const auto frame = [&frames](std::size_t i) {
    return i < frames.size() ? std::span<const std::uint8_t>(frames[i]) : std::span<const std::uint8_t>();
  };

  auto initiator = make(noise::role::initiator);
  auto responder = make(noise::role::responder);
  switch (mode) {
    case 0:
      if (feed(responder, frame(0))) {
        check(responder.write_message(payload).has_value());
        (void)feed(responder, frame(1));
      }
      break;
    case 1: {
      check(initiator.write_message(payload).has_value());
      (void)feed(initiator, frame(0));
      break;
    }
    case 2: {
      const auto m1 = initiator.write_message(payload);
      check(m1 && feed(responder, *m1) && responder.write_message(payload));
      (void)feed(responder, frame(0));
      break;
    }
    case 3: {
      std::size_t next_mask = 0;
      bool all = true;
      for (std::size_t i = 0; i < noise::xk_message_count && all; ++i) {
        auto& sender = i % 2 == 0 ? initiator : responder;
        auto& receiver = i % 2 == 0 ? responder : initiator;
        const auto written = sender.write_message(payload);
        check(written.has_value());
        auto delivered = *written;
        natter::fuzz::xor_next_mask(delivered, frames, next_mask);
        all = feed(receiver, delivered);
        if (all) check(delivered == *written);  // an altered message must never be accepted
      }
      if (all) {
        auto a = initiator.split();
        auto b = responder.split();
        check(a && b && a->handshake_hash == b->handshake_hash);
        check(std::equal(a->initiator_to_responder.data(), a->initiator_to_responder.data() + 32,
                         b->initiator_to_responder.data()));
        check(responder.remote_static() == initiator_static().public_key_bytes);
      }
      break;
    }
  }
  return 0;
}
