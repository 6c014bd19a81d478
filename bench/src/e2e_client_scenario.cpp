// The end-to-end layer's cost on the client (docs/E2E.md §11), with no server: what a sender and
// a receiver do per message (sender key seal + sign, verify + open; pairwise seal, open), one KK
// setup per side, the safety number and room code, and what a 200-byte text (--size) costs on the
// wire, broken down from the bytes the real code makes. CPU time per operation is the calling
// thread's (CLOCK_THREAD_CPUTIME_ID) over the whole loop, divided by its count.
#include <sodium.h>

#include <cmath>

#include "natter/crypto/e2e_base64.hpp"
#include "natter/crypto/e2e_pairwise_session.hpp"
#include "natter/crypto/e2e_safety_number.hpp"
#include "natter/crypto/e2e_sender_key.hpp"
#include "natter/crypto/e2e_wire.hpp"
#include "natter/crypto/session_cipher_v2.hpp"
#include "natter/frame.hpp"
#include "natter/message_build.hpp"
#include "scenarios.hpp"

namespace natter::bench {

namespace {

namespace e2e = crypto::e2e;

std::span<const std::uint8_t> as_bytes(std::string_view text) {
  return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

// Times `count` calls of `op` (given the call's index) on this thread's CPU clock; adds
// NAME_us (CPU µs per call) and NAME_per_cpu_s to `r`.
template <typename Op>
void time_op(report& r, const std::string& name, std::size_t count, Op&& op) {
  const std::int64_t start = thread_cpu_ns();
  for (std::size_t i = 0; i < count; ++i) op(i);
  const double ns = static_cast<double>(thread_cpu_ns() - start);
  r.add(name + "_us", ns / static_cast<double>(count) / 1000, 2);
  r.add(name + "_per_cpu_s", static_cast<double>(count) * 1e9 / ns);
}

struct kk_pair {
  crypto::identity_v2 a = crypto::identity_v2::generate();
  crypto::identity_v2 b = crypto::identity_v2::generate();
};

// The server key bound into the prologue: any fixed value does for a measurement.
const crypto::public_key prologue_server_key{};

// One KK run between `pair`'s two identities; the initiator's session, or nullopt on failure.
// `initiator_ns` and `responder_ns` collect the CPU time of each side's part.
std::optional<e2e::pairwise_session> kk_setup(const kk_pair& pair, std::int64_t& initiator_ns, std::int64_t& responder_ns,
                                              std::optional<e2e::pairwise_session>* responder_session = nullptr) {
  std::int64_t t0 = thread_cpu_ns();
  auto a = e2e::pairwise_setup::create(pair.a, "alice", {"bob", pair.b.public_key()}, prologue_server_key);
  auto init = a ? a->start() : std::nullopt;
  std::int64_t t1 = thread_cpu_ns();
  initiator_ns += t1 - t0;
  auto b = e2e::pairwise_setup::create(pair.b, "bob", {"alice", pair.a.public_key()}, prologue_server_key);
  if (!init || !b) return std::nullopt;
  const auto reply = b->receive(*init);
  auto b_session = b->take_session();
  t0 = thread_cpu_ns();
  responder_ns += t0 - t1;
  if (!reply.reply) return std::nullopt;
  const auto done = a->receive(*reply.reply);
  auto a_session = a->take_session();
  initiator_ns += thread_cpu_ns() - t0;
  if (done.status != e2e::pairwise_setup::setup_status::established || !a_session || !b_session) return std::nullopt;
  if (responder_session) *responder_session = std::move(b_session);
  return a_session;
}

// The frame a message costs on its own (length prefix + sealed body; the server batches several
// into one frame under load, which shares the prefix, nonce, MAC and padding among them).
double lone_frame_bytes(std::size_t json_size) {
  return static_cast<double>(frame_header_size + crypto::session_cipher_v2::sealed_size(json_size));
}

}  // namespace

report run_e2e_client(const bench_options& options) {
  report r;
  r.scenario = "e2e_client";
  const std::string text(options.size, 'x');
  const std::size_t n = options.iterations;
  const std::size_t setups = std::max<std::size_t>(1, n / 20);
  const auto now = e2e::clock::now();
  r.add("message_bytes", static_cast<double>(options.size));
  r.add("iterations", static_cast<double>(n));
  r.add("kk_setups", static_cast<double>(setups));
  std::size_t failures = 0;

  // Sender key: the sender seals every message once for the room; every reader verifies it.
  auto sender = e2e::sender_key_sender::create(std::string("lobby"));
  if (!sender) throw std::runtime_error("sender key refused");
  e2e::bytes distribution = sender->distribution();  // holds the chain key: wiped below
  auto receiver = e2e::sender_key_receiver::from_distribution(distribution);
  if (!receiver) throw std::runtime_error("distribution refused");
  std::vector<e2e::bytes> room_messages(n);
  time_op(r, "sender_key_seal_sign", n, [&](std::size_t i) {
    auto sealed = sender->seal(as_bytes(text));
    if (!sealed) ++failures;
    else room_messages[i] = std::move(*sealed);
  });
  time_op(r, "sender_key_verify_open", n, [&](std::size_t i) {
    if (receiver->open(room_messages[i], now).status != e2e::receive_status::ok) ++failures;
  });
  std::vector<std::string> encoded(n);
  time_op(r, "base64_encode_room", n, [&](std::size_t i) { encoded[i] = e2e::to_base64(room_messages[i]); });
  time_op(r, "base64_decode_room", n, [&](std::size_t i) {
    if (!e2e::from_base64(encoded[i])) ++failures;
  });

  // Pairwise: a whisper (and the sender key distributions) sealed in a KK session.
  kk_pair pair;
  std::int64_t unused_a = 0, unused_b = 0;
  std::optional<e2e::pairwise_session> bob;
  auto alice = kk_setup(pair, unused_a, unused_b, &bob);
  if (!alice || !bob) throw std::runtime_error("KK setup failed");
  std::vector<e2e::bytes> bodies(n);
  time_op(r, "pairwise_seal", n, [&](std::size_t i) {
    auto sealed = alice->seal(as_bytes(text));
    if (!sealed) ++failures;
    else bodies[i] = std::move(*sealed);
  });
  time_op(r, "pairwise_open", n, [&](std::size_t i) {
    if (bob->open(bodies[i], now).status != e2e::receive_status::ok) ++failures;
  });
  time_op(r, "distribution_seal", n, [&](std::size_t) {
    if (!alice->seal(distribution)) ++failures;
  });
  e2e::wipe(distribution);

  // KK setup: fresh ephemerals, three DH-class operations per side plus the key conversions.
  std::int64_t initiator_ns = 0, responder_ns = 0;
  const std::int64_t kk_start = thread_cpu_ns();
  for (std::size_t i = 0; i < setups; ++i) {
    if (!kk_setup(pair, initiator_ns, responder_ns)) ++failures;
  }
  const double kk_ns = static_cast<double>(thread_cpu_ns() - kk_start);
  r.add("kk_setup_both_sides_us", kk_ns / static_cast<double>(setups) / 1000, 1);
  r.add("kk_setup_initiator_us", static_cast<double>(initiator_ns) / static_cast<double>(setups) / 1000, 1);
  r.add("kk_setup_responder_us", static_cast<double>(responder_ns) / static_cast<double>(setups) / 1000, 1);

  // Verification figures: once per peer (safety number), once per membership change (room code).
  const e2e::party pa{"alice", pair.a.public_key()}, pb{"bob", pair.b.public_key()};
  const std::size_t safety_runs = std::max<std::size_t>(1, n / 1000);
  time_op(r, "safety_number", safety_runs, [&](std::size_t) {
    if (!e2e::safety_number(pa, pb)) ++failures;
  });
  std::vector<e2e::party> room(1000);
  for (std::size_t i = 0; i < room.size(); ++i) {
    crypto::ed25519_public_key key;
    randombytes_buf(key.bytes.data(), key.bytes.size());
    room[i] = {"m" + std::to_string(i), key};
  }
  time_op(r, "room_code_1000_members", safety_runs, [&](std::size_t) {
    if (!e2e::room_code("lobby", room)) ++failures;
  });

  // The body overhead of one --size text, from the real bytes.
  const auto view = e2e::parse_room_message(room_messages.front());
  const auto pview = e2e::parse_pairwise_body(bodies.front());
  if (!view || !pview) throw std::runtime_error("own bodies do not parse");
  const double plain = static_cast<double>(options.size);
  const double padded = static_cast<double>(view->ciphertext.size() - e2e::aead_tag_size);
  r.add("room_header_bytes", static_cast<double>(view->header_bytes.size()));
  r.add("room_nonce_bytes", static_cast<double>(e2e::aead_nonce_size));
  r.add("room_padding_bytes", padded - plain);
  r.add("room_mac_bytes", static_cast<double>(e2e::aead_tag_size));
  r.add("room_signature_bytes", static_cast<double>(view->sig.size()));
  const double room_body = static_cast<double>(room_messages.front().size());
  const double room_b64 = static_cast<double>(encoded.front().size());
  r.add("room_body_bytes", room_body);
  r.add("room_base64_bytes", room_b64);
  r.add("room_base64_overhead_bytes", room_b64 - room_body);
  r.add("pairwise_header_bytes", static_cast<double>(pview->header_bytes.size()));
  r.add("pairwise_body_bytes", static_cast<double>(bodies.front().size()));
  const std::string pairwise_b64 = e2e::to_base64(bodies.front());
  r.add("pairwise_base64_bytes", static_cast<double>(pairwise_b64.size()));

  // The envelopes, client → server and server → client, against the plaintext say/chat of
  // protocol 2 (a 16-character name, a realistic id and timestamp).
  const std::string from = "b0123456789abcde";
  const std::int64_t ts = 1'764'590'000'000;
  const std::string say_json = build(client_message{say_request{text, 12345}});
  const std::string chat_json = build(server_message{chat_event{1234567, ts, from, "", text, false, false}});
  const std::string e2e_up = build(client_message{e2e_request{"room", "", encoded.front(), 12345}});
  const std::string e2e_down = build(server_message{e2e_event{1234567, ts, from, "room", "", encoded.front()}});
  const std::string whisper_down = build(server_message{e2e_event{1234567, ts, from, "whisper", "c0123456789abcde", pairwise_b64}});
  const std::string plain_whisper_down =
      build(server_message{chat_event{1234567, ts, from, "c0123456789abcde", text, true, false}});
  r.add("room_envelope_up_json_bytes", static_cast<double>(e2e_up.size()));
  r.add("room_envelope_down_json_bytes", static_cast<double>(e2e_down.size()));
  r.add("room_envelope_down_overhead_bytes", static_cast<double>(e2e_down.size()) - room_b64);
  r.add("say_json_bytes", static_cast<double>(say_json.size()));
  r.add("chat_json_bytes", static_cast<double>(chat_json.size()));
  r.add("whisper_e2e_down_json_bytes", static_cast<double>(whisper_down.size()));
  r.add("whisper_plain_down_json_bytes", static_cast<double>(plain_whisper_down.size()));
  // What a receiver's lone frame weighs, and what the e2e layer adds to it.
  r.add("chat_lone_frame_bytes", lone_frame_bytes(chat_json.size()));
  r.add("room_lone_frame_bytes", lone_frame_bytes(e2e_down.size()));
  r.add("room_e2e_added_bytes", static_cast<double>(e2e_down.size()) - static_cast<double>(chat_json.size()));
  r.add("whisper_plain_lone_frame_bytes", lone_frame_bytes(plain_whisper_down.size()));
  r.add("whisper_e2e_lone_frame_bytes", lone_frame_bytes(whisper_down.size()));

  r.add("failures", static_cast<double>(failures));
  if (failures > 0) {
    r.ok = false;
    r.problem = std::to_string(failures) + " operations failed";
  }
  return r;
}

}  // namespace natter::bench
