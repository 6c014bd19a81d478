#include "natter/crypto/handshake.hpp"

#include <sodium.h>

#include <algorithm>
#include <stdexcept>

namespace natter::crypto {

namespace {
const char* role_name(role r) { return r == role::client ? "client" : "server"; }
}  // namespace

handshake::handshake(role own_role, const key_pair& identity, shared_key_cache* long_term_keys,
                     handshake_observer* observer)
    : role_(own_role), identity_(identity), long_term_keys_(long_term_keys), observer_(observer) {
  if (long_term_keys_ && long_term_keys_->identity().public_key_bytes != identity.public_key_bytes) {
    throw std::logic_error("shared key cache made for another identity");
  }
}

std::vector<handshake::frame_body> handshake::start() {
  if (role_ == role::server) return {encode_hello(role::server, identity_.public_key_bytes)};
  return {};
}

std::vector<handshake::frame_body> handshake::fail(std::string reason,
                                                   std::optional<std::string> refusal) {
  state_ = state::failed;
  error_ = std::move(reason);
  ephemeral_.secret.wipe();
  long_term_shared_.reset();
  // Only a server explains itself in plaintext, a client simply closes; and only in place of its
  // key exchange frame (PROTOCOL.md §2): once that is sent, the client expects sealed frames.
  if (refusal && role_ == role::server && !sent_key_exchange_) return {encode_refusal(*refusal)};
  return {};
}

std::vector<handshake::frame_body> handshake::on_frame(std::span<const std::uint8_t> body) {
  if (role_ == role::client) {
    if (auto reason = decode_refusal(body)) {
      refused_by_peer_ = true;
      return fail("server refused the connection: " + *reason);
    }
  }
  switch (state_) {
    case state::awaiting_hello: return on_hello(body);
    case state::awaiting_key_exchange: return on_key_exchange(body);
    case state::awaiting_verdict: return fail("peer sent a frame before the client answered its hello");
    case state::established: return fail("handshake already complete");
    case state::failed: return {};
  }
  return {};
}

std::vector<handshake::frame_body> handshake::on_hello(std::span<const std::uint8_t> body) {
  const role expected = role_ == role::server ? role::client : role::server;
  if (!has_hello_magic(body)) return fail("not a natter peer (no hello)", "expected a natter hello");
  const auto peer_hello = decode_hello(body);
  if (!peer_hello) return fail("malformed hello (wrong size)", "malformed hello");
  if (peer_hello->version != protocol_version) {
    const std::string why = "unsupported protocol version " + std::to_string(peer_hello->version) +
                            " (this side speaks version " + std::to_string(protocol_version) + ")";
    return fail(why, why);
  }
  if (peer_hello->role_byte != static_cast<std::uint8_t>(expected)) {
    const std::uint8_t r = peer_hello->role_byte;
    return fail(std::string("hello from a ") + (r == 1 ? "client" : r == 2 ? "server" : "peer of unknown role") +
                    ", expected a " + role_name(expected),
                "wrong role in hello");
  }
  peer_long_term_ = peer_hello->key;
  long_term_shared_ = long_term_keys_ ? long_term_keys_->derive(peer_long_term_)
                                     : shared_key::derive(peer_long_term_, identity_.secret);
  if (!long_term_shared_) {
    return fail("peer public key refused (zero or low-order point)", "public key refused");
  }
  if (role_ == role::client) {
    state_ = state::awaiting_verdict;  // the pin check happens before we say anything
    return {};
  }
  state_ = state::awaiting_key_exchange;
  return {make_key_exchange()};
}

std::vector<handshake::frame_body> handshake::accept_peer_key() {
  if (role_ != role::client || state_ != state::awaiting_verdict) {
    throw std::logic_error("accept_peer_key() outside awaiting_verdict");
  }
  state_ = state::awaiting_key_exchange;
  std::vector<frame_body> out;
  out.push_back(encode_hello(role::client, identity_.public_key_bytes));
  out.push_back(make_key_exchange());
  return out;
}

handshake::frame_body handshake::make_key_exchange() {
  ephemeral_ = key_pair::generate();
  nonce n{};
  random_bytes(n);  // random: the long-term shared key repeats across connections
  if (role_ == role::client) connection_id_ = n;
  frame_body body(key_exchange_size);
  std::copy(n.begin(), n.end(), body.begin());
  crypto_box_easy_afternm(body.data() + nonce_size, ephemeral_.public_key_bytes.data(), key_size,
                          n.data(), long_term_shared_->data());
  sent_key_exchange_ = true;
  return body;
}

std::vector<handshake::frame_body> handshake::on_key_exchange(std::span<const std::uint8_t> body) {
  if (body.size() != key_exchange_size) return fail("malformed key exchange (wrong size)", "malformed key exchange");
  public_key peer_ephemeral{};
  if (crypto_box_open_easy_afternm(peer_ephemeral.data(), body.data() + nonce_size,
                                   body.size() - nonce_size, body.data(), long_term_shared_->data()) != 0) {
    return fail("key exchange failed authentication (bad MAC)", "key exchange failed authentication");
  }
  if (role_ == role::server) std::copy(body.begin(), body.begin() + nonce_size, connection_id_.begin());
  // The MAC proved the peer holds the secret of the key it announced: worth remembering.
  if (long_term_keys_) long_term_keys_->remember(peer_long_term_, *long_term_shared_);
  auto session = shared_key::derive(peer_ephemeral, ephemeral_.secret);
  // The ephemeral secret has done its only job; wiping it now is what gives forward secrecy.
  ephemeral_.secret.wipe();
  long_term_shared_.reset();
  if (!session) return fail("peer ephemeral key refused (zero or low-order point)", "ephemeral key refused");
  if (observer_) observer_->on_session_key(connection_id_, *session);
  cipher_.emplace(std::move(*session),
                  role_ == role::client ? direction::client_to_server : direction::server_to_client);
  state_ = state::established;
  return {};
}

session_cipher handshake::take_cipher() {
  if (!cipher_) throw std::logic_error("take_cipher() before the handshake is established");
  session_cipher out = std::move(*cipher_);
  cipher_.reset();
  return out;
}

}  // namespace natter::crypto
