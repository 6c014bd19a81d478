// Fuzzes the client's end-to-end engine (client/…/e2e_engine.hpp) with what a hostile server can
// send it: e2e events of any kind, any sender name and any body, after honest sessions and sender
// keys exist (so the fuzzer reaches the opening paths, not only the parsers), and the base64
// body decoder (crypto/…/e2e_base64.hpp).
//
// Input (fuzz_support.hpp): byte 0 picks the mode, then frames.
//   0  each frame is a body string as the server sent it (base64 or not) for a kind and sender
//      chosen by its first byte
//   1  each frame's bytes are base64-encoded first (so every byte string reaches the parsers)
// Invariants: nothing crashes; from_base64 accepts exactly what to_base64 writes back; every
// shown text passes text_problem; the engine never sends a text it was not asked to.
#include <cstdint>
#include <cstdlib>
#include <string>

#include "fuzz_support.hpp"
#include "natter/client/e2e_engine.hpp"
#include "natter/crypto/e2e_base64.hpp"
#include "natter/limits.hpp"
#include "natter/text.hpp"

namespace {

namespace e2e = natter::crypto::e2e;
using natter::client::e2e_engine;
using natter::client::e2e_output;

using natter::fuzz::check;

const char* const kinds[] = {"handshake", "key", "whisper", "room", "other"};
const char* const senders[] = {"alice", "bob", "carol", "nobody"};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const bool ready = (natter::fuzz::init_deterministic_sodium(), true);
  (void)ready;
  if (size < 1) return 0;
  natter::fuzz::reset_random();
  static const auto alice = natter::fuzz::fixed_identity_v2(0xa1);
  static const auto bob = natter::fuzz::fixed_identity_v2(0xb0);
  static const auto carol = natter::fuzz::fixed_identity_v2(0xc0);
  const natter::crypto::public_key server{};
  e2e_engine a(alice, "alice", server), b(bob, "bob", server), c(carol, "carol", server);
  a.on_directory("bob", bob.public_key());
  a.on_directory("carol", carol.public_key());
  b.on_directory("alice", alice.public_key());
  c.on_directory("alice", alice.public_key());
  // Honest set-up: bob and carol speak in the room, so alice holds their sessions and keys.
  const auto relay = [&](e2e_engine& from, const std::string& name, e2e_output& out) {
    for (int round = 0; round < 8 && !out.send.empty(); ++round) {
      e2e_output next;
      for (auto& s : out.send) {
        const natter::e2e_event ev{1, 0, name, s.request.kind, s.request.to, s.request.body};
        if (s.request.kind == "room" || s.request.to == "alice") {
          e2e_output reply;
          a.on_event(ev, {}, reply);
          for (auto& r : reply.send) {
            e2e_engine& to = r.request.to == "bob" ? b : c;
            e2e_output back;
            to.on_event({2, 0, "alice", r.request.kind, r.request.to, r.request.body}, {}, back);
            for (auto& x : back.send) next.send.push_back(std::move(x));
          }
        }
      }
      out = std::move(next);
    }
    (void)from;
  };
  e2e_output ob, oc;
  (void)b.send_room("hi from bob", 1, {}, ob);
  relay(b, "bob", ob);
  (void)c.send_room("hi from carol", 1, {}, oc);
  relay(c, "carol", oc);

  const bool encode = data[0] % 2 == 1;
  for (const auto& frame : natter::fuzz::split_frames({data + 1, size - 1})) {
    if (frame.empty()) continue;
    const std::span<const std::uint8_t> rest(frame.data() + 1, frame.size() - 1);
    std::string body = encode ? e2e::to_base64(rest) : std::string(rest.begin(), rest.end());
    if (const auto decoded = e2e::from_base64(body)) check(e2e::to_base64(*decoded) == body);
    const natter::e2e_event ev{3, 0, senders[(frame[0] >> 4) % 4], kinds[frame[0] % 5], "alice", body};
    e2e_output out;
    a.on_event(ev, {}, out);
    a.tick(natter::client::e2e_clock::time_point{} + std::chrono::seconds(frame[0]), out);
    for (const auto& m : out.messages) check(!natter::text_problem(m.text, natter::limits::max_text));
    for (const auto& s : out.send) check(s.request.kind == "handshake" || s.request.kind == "key");
  }
  return 0;
}
