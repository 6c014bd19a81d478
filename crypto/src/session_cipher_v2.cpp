#include "natter/crypto/session_cipher_v2.hpp"

#include <sodium.h>

#include <algorithm>
#include <stdexcept>

namespace natter::crypto {

nonce session_nonce(direction dir, std::uint64_t counter) {
  nonce n{};
  n[0] = static_cast<std::uint8_t>(dir);
  for (int i = 0; i < 8; ++i) n[16 + i] = static_cast<std::uint8_t>(counter >> (56 - 8 * i));
  return n;
}

static_assert(session_cipher_v2::header_size == crypto_box_NONCEBYTES + crypto_box_MACBYTES);
static_assert(key_size == crypto_box_BEFORENMBYTES);  // a split() key is a precomputed box key

// v1's natter::crypto::open_status is a different type; the member types are meant here.
using v2_open = session_cipher_v2::open_status;
using v2_seal = session_cipher_v2::seal_status;

std::string_view to_string(v2_open status) {
  switch (status) {
    case v2_open::ok: return "ok";
    case v2_open::too_short: return "sealed frame too short";
    case v2_open::wrong_direction: return "frame has our own direction (reflected)";
    case v2_open::bad_nonce: return "malformed nonce";
    case v2_open::bad_mac: return "frame failed authentication (bad MAC)";
    case v2_open::replayed: return "frame counter already seen (replayed or reordered frame)";
    case v2_open::gap: return "frame counter skips ahead (a frame is missing)";
    case v2_open::bad_padding: return "authentic frame with malformed padding";
  }
  return "unknown";
}

std::string_view to_string(v2_seal status) {
  switch (status) {
    case v2_seal::ok: return "ok";
    case v2_seal::exhausted: return "send counter exhausted (close the connection)";
  }
  return "unknown";
}

namespace {

direction opposite(direction d) {
  return d == direction::client_to_server ? direction::server_to_client : direction::client_to_server;
}

}  // namespace

session_cipher_v2::session_cipher_v2(secret_key sending, secret_key receiving, direction outgoing)
    : sending_(std::move(sending)),
      receiving_(std::move(receiving)),
      outgoing_(outgoing),
      incoming_(opposite(outgoing)) {}

session_cipher_v2 session_cipher_v2::from_split(noise::split_keys keys, direction outgoing) {
  // Noise names the keys by role; the initiator is the client (docs/PROTOCOL.md).
  if (outgoing == direction::client_to_server) {
    return {std::move(keys.initiator_to_responder), std::move(keys.responder_to_initiator), outgoing};
  }
  return {std::move(keys.responder_to_initiator), std::move(keys.initiator_to_responder), outgoing};
}

session_cipher_v2 session_cipher_v2::resume(secret_key sending, secret_key receiving, direction outgoing,
                                            std::uint64_t sent, std::uint64_t received) {
  session_cipher_v2 cipher(std::move(sending), std::move(receiving), outgoing);
  cipher.send_counter_ = sent;
  cipher.receive_counter_ = received;
  return cipher;
}

session_cipher_v2::seal_status session_cipher_v2::seal(std::string_view plaintext, std::vector<std::uint8_t>& out) {
  // Checked before anything is appended, so an exhausted seal leaves `out` as it was.
  if (exhausted()) return seal_status::exhausted;
  const std::size_t body_start = begin_body(out);
  out.insert(out.end(), plaintext.begin(), plaintext.end());
  return end_body(out, body_start);
}

std::size_t session_cipher_v2::begin_body(std::vector<std::uint8_t>& out) {
  const std::size_t start = out.size();
  out.resize(start + header_size);
  return start;
}

session_cipher_v2::seal_status session_cipher_v2::end_body(std::vector<std::uint8_t>& out, std::size_t body_start) {
  if (body_start > out.size() || out.size() - body_start < header_size) {
    throw std::logic_error("session_cipher_v2::end_body without begin_body");
  }
  const std::size_t plaintext_size = out.size() - body_start - header_size;
  if (exhausted()) {
    // A wrapped counter would reuse a nonce under this key. Remove the plaintext so that no
    // unsealed byte can reach the wire, and wipe it (resize does not).
    sodium_memzero(out.data() + body_start, out.size() - body_start);
    out.resize(body_start);
    return seal_status::exhausted;
  }
  const std::size_t padded_size = sealed_size(plaintext_size) - header_size;
  out.resize(body_start + header_size + padded_size);
  std::uint8_t* body = out.data() + body_start;
  std::uint8_t* padded = body + header_size;
  std::size_t written = 0;
  if (sodium_pad(&written, padded, plaintext_size, padding_block, padded_size) != 0 || written != padded_size) {
    // Unreachable: padded_size is exactly what sodium_pad needs.
    throw std::logic_error("session_cipher_v2: sodium_pad refused a sized buffer");
  }
  const nonce n = session_nonce(outgoing_, ++send_counter_);
  std::copy(n.begin(), n.end(), body);
  // In place: the ciphertext (after the MAC) lands exactly where the plaintext is, which
  // crypto_secretbox (under crypto_box_easy_afternm) supports; only partial overlap is refused.
  std::uint8_t* box = body + nonce_size;
  crypto_box_easy_afternm(box, padded, padded_size, n.data(), sending_.data());
  return seal_status::ok;
}

session_cipher_v2::opened_frame session_cipher_v2::open(std::span<const std::uint8_t> body) {
  opened_frame result;
  const open_result r = open_into(body, result.plaintext);
  result.status = r.status;
  result.counter = r.counter;
  result.expected = r.expected;
  return result;
}

session_cipher_v2::open_result session_cipher_v2::open_into(std::span<const std::uint8_t> body,
                                                            std::string& plaintext) {
  open_result result;
  result.expected = receive_counter_ == max_counter ? 0 : receive_counter_ + 1;
  // Not cleared up front: resize() below would then zero-fill the whole buffer on every frame.
  // A refusal after decryption wipes what was decrypted before emptying the buffer.
  bool decrypted = false;
  const auto refuse = [&](open_status why) {
    if (decrypted) sodium_memzero(plaintext.data(), plaintext.size());
    plaintext.clear();
    result.status = why;
    return result;
  };

  // Structure first, from bytes anyone can write.
  if (body.size() < min_body_size) return refuse(open_status::too_short);
  for (std::size_t i = 16; i < nonce_size; ++i) result.counter = (result.counter << 8) | body[i];
  if (body[0] != static_cast<std::uint8_t>(incoming_)) {
    return refuse(body[0] == static_cast<std::uint8_t>(outgoing_) ? open_status::wrong_direction
                                                                   : open_status::bad_nonce);
  }
  if (!std::all_of(body.begin() + 1, body.begin() + 16, [](std::uint8_t b) { return b == 0; })) {
    return refuse(open_status::bad_nonce);
  }

  // Then authenticity: the nonce (and so the counter) is authenticated with the ciphertext.
  const std::size_t box_size = body.size() - nonce_size;
  plaintext.resize(box_size - mac_size);
  if (crypto_box_open_easy_afternm(reinterpret_cast<unsigned char*>(plaintext.data()), body.data() + nonce_size,
                                   box_size, body.data(), receiving_.data()) != 0) {
    return refuse(open_status::bad_mac);  // libsodium writes no plaintext when the MAC fails
  }
  decrypted = true;

  // The counter of an authentic frame: exactly the next one, or the connection is broken.
  if (result.counter <= receive_counter_) return refuse(open_status::replayed);
  if (result.counter != result.expected) return refuse(open_status::gap);

  // The padding: whole blocks (a conforming sender always pads) and valid ISO/IEC 7816-4 within
  // the last block (sodium_unpad looks no further), so each plaintext has one encoding only.
  std::size_t unpadded = 0;
  if (plaintext.size() % padding_block != 0 ||
      sodium_unpad(&unpadded, reinterpret_cast<const unsigned char*>(plaintext.data()), plaintext.size(),
                   padding_block) != 0) {
    return refuse(open_status::bad_padding);
  }
  plaintext.resize(unpadded);

  // Only an authentic, in-order, well-formed frame moves the counter.
  receive_counter_ = result.counter;
  return result;
}

}  // namespace natter::crypto
