// Fuzzes session_cipher_v2::open_into (docs/PROTOCOL.md §3) with arbitrary bodies and with
// honest frames the fuzzer corrupts.
//
// Input format (fuzz_support.hpp): byte 0 picks the mode, then u16-length-prefixed frames.
//   0  a fresh server opens every frame as a client's body
//   1  frames come in pairs (plaintext, mask): the client seals the plaintext, the mask is XORed
//      over the body (a longer mask also lengthens it), and the server opens the result
// Invariants: nothing crashes; a refusal leaves the buffer empty and the counter where it was;
// an acceptance advances the counter by exactly one; in mode 0 nothing opens (no key); in mode
// 1 a body opens exactly when it is byte for byte the one sealed, sealed bodies are
// sealed_size(plaintext) bytes, and the plaintext comes back exact.
#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "natter/crypto/session_cipher_v2.hpp"

namespace {

using natter::crypto::direction;
using natter::crypto::session_cipher_v2;
using open_status = session_cipher_v2::open_status;

using natter::fuzz::check;

natter::crypto::secret_key fixed_key(std::uint8_t fill) {
  natter::crypto::secret_key key;
  std::memset(key.data(), fill, key.size());
  return key;
}

// Opens one body and checks the failure contract. Returns whether it was accepted.
bool deliver(session_cipher_v2& receiver, std::span<const std::uint8_t> body, std::string& plaintext) {
  const std::uint64_t before = receiver.last_received_counter();
  const auto result = receiver.open_into(body, plaintext);
  if (result.status != open_status::ok) {
    check(plaintext.empty() && receiver.last_received_counter() == before);
    return false;
  }
  check(result.counter == before + 1 && receiver.last_received_counter() == before + 1);
  check(body.size() == session_cipher_v2::sealed_size(plaintext.size()));
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  natter::fuzz::init_deterministic_sodium();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::size_t mode = data[0] % 2;
  const auto frames = natter::fuzz::split_frames(std::span(data + 1, size - 1));
  session_cipher_v2 client(fixed_key(0x11), fixed_key(0x22), direction::client_to_server);
  session_cipher_v2 server(fixed_key(0x22), fixed_key(0x11), direction::server_to_client);
  std::string plaintext;

  if (mode == 0) {
    for (const auto& frame : frames) check(!deliver(server, frame, plaintext));
    return 0;
  }
  for (std::size_t i = 0; i < frames.size(); i += 2) {
    const std::string sent(frames[i].begin(), frames[i].end());
    std::vector<std::uint8_t> sealed;
    check(client.seal(sent, sealed) == session_cipher_v2::seal_status::ok);
    check(sealed.size() == session_cipher_v2::sealed_size(sent.size()));
    auto delivered = sealed;
    if (i + 1 < frames.size()) {
      const auto& mask = frames[i + 1];
      if (mask.size() > delivered.size()) delivered.resize(mask.size(), 0);
      for (std::size_t j = 0; j < mask.size(); ++j) delivered[j] ^= mask[j];
    }
    const bool accepted = deliver(server, delivered, plaintext);
    check(accepted == (delivered == sealed));
    if (accepted) check(plaintext == sent);
    // A refused frame leaves a gap; the stream is over, as a connection would be closed.
    if (!accepted) break;
  }
  return 0;
}
