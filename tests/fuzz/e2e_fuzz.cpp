// Fuzzes the end-to-end layer's parsers and receivers (docs/E2E.md): handshake messages,
// pairwise bodies, room messages and sender key distributions.
//
// Input format (fuzz_support.hpp): byte 0 picks the mode, then u16-length-prefixed frames.
//   0  handshake messages: an idle responder and an initiator that has started each read a frame
//   1  pairwise bodies: an honest session's receiver opens every frame
//   2  room messages: an honest sender key receiver opens every frame
//   3  distributions: every frame is parsed, made a receiver of, and offered as a rotation
//   4  near-valid: honest pairwise bodies and room messages, each XORed with the next frame
// Invariants: nothing crashes; whatever parses writes back to the same bytes (one canonical
// form); a receiver returns plaintext exactly when the status is ok; in mode 4 an altered
// message is never accepted.
#include <cstdint>
#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <utility>
#include <vector>

#include "fuzz_support.hpp"
#include "natter/crypto/e2e_pairwise_session.hpp"
#include "natter/crypto/e2e_sender_key.hpp"

namespace {

namespace e2e = natter::crypto::e2e;
using frame_list = std::vector<std::vector<std::uint8_t>>;
const e2e::clock::time_point t0{};

using natter::fuzz::check;

const natter::crypto::identity_v2& alice() {
  static const auto id = natter::fuzz::fixed_identity_v2(0xa1);
  return id;
}
const natter::crypto::identity_v2& bob() {
  static const auto id = natter::fuzz::fixed_identity_v2(0xb0);
  return id;
}
const natter::crypto::public_key server_key{};

e2e::pairwise_setup setup(bool as_alice) {
  auto s = as_alice ? e2e::pairwise_setup::create(alice(), "alice", {"bob", bob().public_key()}, server_key)
                    : e2e::pairwise_setup::create(bob(), "bob", {"alice", alice().public_key()}, server_key);
  check(s.has_value());
  return std::move(*s);
}

std::pair<e2e::pairwise_session, e2e::pairwise_session> sessions() {
  auto a = setup(true);
  auto b = setup(false);
  auto reply = b.receive(*a.start());
  check(reply.reply.has_value() && a.receive(*reply.reply).status == e2e::pairwise_setup::setup_status::established);
  return {std::move(*a.take_session()), std::move(*b.take_session())};
}

template <typename Opened>
void check_opened(const Opened& o) {
  check((o.status == e2e::receive_status::ok) || o.plaintext.empty());
}

void check_pairwise_parse(std::span<const std::uint8_t> in) {
  const auto view = e2e::parse_pairwise_body(in);
  if (!view) return;
  const auto header = e2e::write_pairwise_header(view->header);
  check(std::equal(header.begin(), header.end(), view->header_bytes.begin(), view->header_bytes.end()));
  check(view->header_bytes.size() + e2e::aead_nonce_size + view->ciphertext.size() == in.size());
}

void check_room_parse(std::span<const std::uint8_t> in) {
  const auto view = e2e::parse_room_message(in);
  if (!view) return;
  const auto header = e2e::write_room_header(view->header);
  check(header && std::equal(header->begin(), header->end(), view->header_bytes.begin(), view->header_bytes.end()));
  check(view->signed_bytes.size() + natter::crypto::signature_size == in.size());
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  natter::fuzz::init_deterministic_sodium();
  (void)alice();
  (void)bob();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  natter::fuzz::reset_random();
  const std::size_t mode = data[0] % 5;
  const frame_list frames = natter::fuzz::split_frames(std::span(data + 1, size - 1));

  switch (mode) {
    case 0: {
      auto responder = setup(false);
      auto initiator = setup(true);
      check(initiator.start().has_value());
      for (const auto& f : frames) {
        const auto r = responder.receive(f);
        check((r.status == e2e::pairwise_setup::setup_status::reply) == r.reply.has_value());
        (void)initiator.receive(f);
      }
      break;
    }
    case 1: {
      auto [a, b] = sessions();
      for (int i = 0; i < 3; ++i) (void)a.seal(std::vector<std::uint8_t>(static_cast<std::size_t>(i) * 70, 'x'));
      for (const auto& f : frames) {
        check_pairwise_parse(f);
        check_opened(b.open(f, t0));
      }
      break;
    }
    case 2: {
      auto sender = e2e::sender_key_sender::create("lobby");
      auto receiver = e2e::sender_key_receiver::from_distribution(sender->distribution());
      check(receiver.has_value());
      for (const auto& f : frames) {
        check_room_parse(f);
        check_opened(receiver->open(f, t0));
      }
      break;
    }
    case 3: {
      auto sender = e2e::sender_key_sender::create("lobby");
      auto receiver = e2e::sender_key_receiver::from_distribution(sender->distribution());
      for (const auto& f : frames) {
        const auto d = e2e::parse_distribution(f);
        if (d) {
          const auto again = e2e::write_distribution(*d);
          check(again && *again == f);
          check(e2e::sender_key_receiver::from_distribution(f).has_value());
        }
        (void)receiver->accept_distribution(f);
      }
      break;
    }
    case 4: {
      std::size_t next_mask = 0;
      auto [a, b] = sessions();
      for (int i = 0; i < 3; ++i) {
        const auto honest = *a.seal(std::vector<std::uint8_t>(static_cast<std::size_t>(i) * 50, 'p'));
        auto delivered = honest;
        natter::fuzz::xor_next_mask(delivered, frames, next_mask);
        const auto o = b.open(delivered, t0);
        if (o.status == e2e::receive_status::ok) check(delivered == honest);
      }
      auto sender = e2e::sender_key_sender::create("lobby");
      auto receiver = e2e::sender_key_receiver::from_distribution(sender->distribution());
      for (int i = 0; i < 3; ++i) {
        const auto honest = *sender->seal(std::vector<std::uint8_t>(static_cast<std::size_t>(i) * 50, 'r'));
        auto delivered = honest;
        natter::fuzz::xor_next_mask(delivered, frames, next_mask);
        const auto o = receiver->open(delivered, t0);
        if (o.status == e2e::receive_status::ok) check(delivered == honest);
      }
      break;
    }
  }
  return 0;
}
