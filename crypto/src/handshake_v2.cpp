#include "natter/crypto/handshake_v2.hpp"

#include <sodium.h>

#include <algorithm>

namespace natter::crypto {

namespace {

constexpr std::size_t connection_id_size = key_size;  // the client's ephemeral: bytes 0..31 of message 1

std::string role_name(std::uint8_t r) {
  if (r == static_cast<std::uint8_t>(role::client)) return "client";
  if (r == static_cast<std::uint8_t>(role::server)) return "server";
  return "peer of unknown role " + std::to_string(r);
}

}  // namespace

std::string_view to_string(handshake_v2::state s) {
  using st = handshake_v2::state;
  switch (s) {
    case st::awaiting_hello: return "awaiting the server hello";
    case st::awaiting_verdict: return "awaiting the verdict on the server key";
    case st::awaiting_message_1: return "awaiting the client hello";
    case st::awaiting_message_2: return "awaiting handshake message 2";
    case st::awaiting_message_3: return "awaiting handshake message 3";
    case st::established: return "established";
    case st::failed: return "failed";
  }
  return "unknown";
}

handshake_v2::handshake_v2(role own_role, const key_pair& noise_static, const ed25519_public_key& own_ed25519,
                           server_parameters parameters, handshake_v2_observer* observer)
    : role_(own_role),
      noise_static_(&noise_static),
      own_ed25519_(own_ed25519),
      parameters_(parameters),
      observer_(observer),
      state_(own_role == role::server ? state::awaiting_message_1 : state::awaiting_hello) {
  if (role_ == role::server) {
    server_static_ = noise_static.public_key_bytes;
    server_hello_ = encode_hello(role::server, server_static_, protocol_version_2);
  }
}

handshake_v2 handshake_v2::server(const key_pair& identity, server_parameters parameters,
                                  handshake_v2_observer* observer, x25519_of_cache* conversions) {
  handshake_v2 out(role::server, identity, ed25519_public_key{}, parameters, observer);
  out.conversions_ = conversions;
  return out;
}

handshake_v2 handshake_v2::client(const client_identity_v2& identity, handshake_v2_observer* observer) {
  return handshake_v2(role::client, identity.x25519, identity.ed25519_public, server_parameters{}, observer);
}

handshake_v2 handshake_v2::client(const identity_v2& identity, handshake_v2_observer* observer) {
  return handshake_v2(role::client, identity.x25519(), identity.public_key(), server_parameters{}, observer);
}

handshake_v2::~handshake_v2() = default;  // every secret member wipes itself

handshake_v2::handshake_v2(handshake_v2&& other) noexcept
    : role_(other.role_), noise_static_(other.noise_static_), observer_(other.observer_), state_(state::failed) {
  take_from(other);
}

handshake_v2& handshake_v2::operator=(handshake_v2&& other) noexcept {
  if (this != &other) take_from(other);
  return *this;
}

void handshake_v2::take_from(handshake_v2& other) noexcept {
  role_ = other.role_;
  noise_static_ = other.noise_static_;
  own_ed25519_ = other.own_ed25519_;
  parameters_ = other.parameters_;
  observer_ = other.observer_;
  conversions_ = other.conversions_;
  state_ = other.state_;
  error_ = std::move(other.error_);
  refused_unauthenticated_ = other.refused_unauthenticated_;
  refusal_text_ = std::move(other.refusal_text_);
  sent_message_2_ = other.sent_message_2_;
  server_hello_ = std::move(other.server_hello_);
  server_static_ = other.server_static_;
  connection_id_ = other.connection_id_;
  test_ephemeral_ = std::move(other.test_ephemeral_);
  noise_ = std::move(other.noise_);
  keys_ = std::move(other.keys_);
  handshake_hash_ = other.handshake_hash_;
  client_ed25519_ = other.client_ed25519_;
  // What is left behind refuses everything. The secret_key and Noise moves above already wiped
  // their sources; resetting the optionals drops the empty husks too.
  other.state_ = state::failed;
  other.error_ = "handshake moved away";
  other.sent_message_2_ = true;  // no plaintext refusal from a husk
  other.test_ephemeral_.reset();
  other.noise_.reset();
  other.keys_.reset();
}

bool handshake_v2::set_ephemeral_for_testing(secret_key ephemeral) {
  if (noise_ || state_ == state::failed || state_ == state::established) return false;
  test_ephemeral_.emplace(std::move(ephemeral));
  return true;
}

std::vector<handshake_v2::frame_body> handshake_v2::start() {
  if (role_ == role::server && state_ == state::awaiting_message_1) return {server_hello_};
  return {};
}

std::vector<handshake_v2::frame_body> handshake_v2::fail(std::string reason, std::optional<std::string> refusal) {
  if (state_ == state::failed) return {};  // the first reason stands
  state_ = state::failed;
  error_ = std::move(reason);
  noise_.reset();  // wipes the ephemerals, ck, k and h
  test_ephemeral_.reset();
  keys_.reset();
  // Only the server explains itself in plaintext, and only in place of message 2: once that is
  // out, the client expects Noise message 3's answer to be sealed.
  if (refusal && role_ == role::server && !sent_message_2_) return {encode_refusal(*refusal, protocol_version_2)};
  return {};
}

std::vector<handshake_v2::frame_body> handshake_v2::fail_noise(std::string_view what) {
  const auto why = noise_ ? noise_->error() : noise::handshake_error::none;
  return fail(std::string(what) + ": " + std::string(noise::to_string(why)), "handshake failed");
}

std::vector<handshake_v2::frame_body> handshake_v2::on_frame(std::span<const std::uint8_t> body) {
  if (role_ == role::client && state_ != state::failed) {
    if (const auto reason = decode_refusal(body)) {
      if (state_ != state::awaiting_message_2) {
        return fail("unexpected refusal frame from the server (" + std::string(to_string(state_)) + ")");
      }
      // Unauthenticated by nature: a refusal replaces message 2, so no key vouches for it.
      refused_unauthenticated_ = true;
      refusal_text_ = *reason;
      return fail("the server said, unverified: " + *reason);
    }
  }
  switch (state_) {
    case state::awaiting_hello: return on_server_hello(body);
    case state::awaiting_verdict: return fail("server sent a frame before the client answered its hello");
    case state::awaiting_message_1: return on_message_1(body);
    case state::awaiting_message_2: return on_message_2(body);
    case state::awaiting_message_3: return on_message_3(body);
    case state::established: return fail("frame after the handshake was complete");
    case state::failed: return {};
  }
  return {};
}

void handshake_v2::start_noise(std::span<const std::uint8_t> client_header) {
  // Sized once and copied into (vector::insert from a string_view trips GCC 12's -Warray-bounds).
  const std::size_t label = handshake_v2_prologue_label.size();
  frame_body prologue(label + server_hello_.size() + client_header.size());
  std::copy_n(handshake_v2_prologue_label.data(), label, prologue.data());
  std::copy(server_hello_.begin(), server_hello_.end(), prologue.begin() + static_cast<std::ptrdiff_t>(label));
  std::copy(client_header.begin(), client_header.end(),
            prologue.begin() + static_cast<std::ptrdiff_t>(label + server_hello_.size()));
  noise_.emplace(role_ == role::client ? noise::handshake_state::initiator(*noise_static_, server_static_, prologue)
                                       : noise::handshake_state::responder(*noise_static_, prologue));
  if (test_ephemeral_) {
    (void)noise_->set_ephemeral_for_testing(std::move(*test_ephemeral_));  // a fresh state: cannot refuse
    test_ephemeral_.reset();
  }
}

// --- client ---------------------------------------------------------------------------------

std::vector<handshake_v2::frame_body> handshake_v2::on_server_hello(std::span<const std::uint8_t> body) {
  if (!has_hello_magic(body)) return fail("not a natter server (no hello)");
  const auto hello = decode_hello(body);
  if (!hello) return fail("malformed server hello (" + std::to_string(body.size()) + " bytes, expected 40)");
  if (hello->version != protocol_version_2) {
    return fail("the server speaks protocol version " + std::to_string(hello->version) +
                "; this client speaks version 2");
  }
  if (hello->role_byte != static_cast<std::uint8_t>(role::server)) {
    return fail("hello from a " + role_name(hello->role_byte) + ", expected a server");
  }
  // The reserved bytes are not judged: the prologue carries them, so a change fails message 1.
  server_hello_.assign(body.begin(), body.end());
  server_static_ = hello->key;
  state_ = state::awaiting_verdict;  // the pin check happens before we send anything
  return {};
}

std::vector<handshake_v2::frame_body> handshake_v2::accept_peer_key() {
  if (role_ != role::client || state_ != state::awaiting_verdict) {
    return fail("accept_peer_key() called " + std::string(to_string(state_)) + " on a " +
                (role_ == role::client ? "client" : "server"));
  }
  // The server would refuse a mismatched identity at message 3; saying so here names the real
  // fault (a badly built identity) and sends nothing for it.
  const auto own_x25519 = x25519_of(own_ed25519_);
  if (!own_x25519 || *own_x25519 != noise_static_->public_key_bytes) {
    return fail("own identity is inconsistent: its X25519 key is not its Ed25519 key's");
  }
  const frame_body header = encode_hello_header(role::client, protocol_version_2);
  start_noise(header);
  const auto message_1 = noise_->write_message({});  // the payload is empty in v2.0
  if (!message_1) {
    // Only an all-zero es: the server's key is a low-order point.
    return fail_noise("server key refused at message 1");
  }
  std::copy_n(message_1->begin(), connection_id_size, connection_id_.begin());
  frame_body out = header;
  out.insert(out.end(), message_1->begin(), message_1->end());
  state_ = state::awaiting_message_2;
  return {out};
}

std::vector<handshake_v2::frame_body> handshake_v2::on_message_2(std::span<const std::uint8_t> body) {
  const auto payload = noise_->read_message(body);
  if (!payload) return fail_noise("handshake message 2 refused");
  const auto parameters = decode_server_parameters(*payload);
  if (!parameters) {
    return fail("malformed server parameters in message 2 (" + std::to_string(payload->size()) +
                " bytes, expected at least 6)");
  }
  parameters_ = *parameters;
  const auto message_3 = noise_->write_message(encode_client_identity(own_ed25519_));
  if (!message_3) return fail_noise("handshake message 3 not written");
  establish();
  return {*message_3};
}

// --- server ---------------------------------------------------------------------------------

std::vector<handshake_v2::frame_body> handshake_v2::on_message_1(std::span<const std::uint8_t> body) {
  if (!has_hello_magic(body)) return fail("not a natter client (no hello)", "expected a natter hello");
  const auto header = decode_hello_header(body);
  if (!header) return fail("malformed client hello (shorter than its header)", "malformed hello");
  if (header->version != protocol_version_2) {
    const std::string why = "unsupported protocol version " + std::to_string(header->version) +
                            ": this server speaks version 2";
    return fail("client speaks protocol version " + std::to_string(header->version) +
                    "; this server speaks version 2",
                why + (header->version < protocol_version_2 ? " (upgrade natter)" : ""));
  }
  if (header->role_byte != static_cast<std::uint8_t>(role::client)) {
    return fail("hello from a " + role_name(header->role_byte) + ", expected a client", "wrong role in hello");
  }
  start_noise(body.first(hello_header_size));
  const auto message_1 = body.subspan(hello_header_size);
  // The payload of message 1 is empty in v2.0, and anything in it could be replayed (XK §7.7),
  // so it is not read at all; a later version that uses it is a new protocol version.
  if (!noise_->read_message(message_1)) return fail_noise("handshake message 1 refused");
  std::copy_n(message_1.begin(), connection_id_size, connection_id_.begin());
  const auto message_2 = noise_->write_message(encode_server_parameters(parameters_));
  if (!message_2) return fail_noise("handshake message 2 not written");
  sent_message_2_ = true;
  state_ = state::awaiting_message_3;
  return {*message_2};
}

std::vector<handshake_v2::frame_body> handshake_v2::on_message_3(std::span<const std::uint8_t> body) {
  const auto payload = noise_->read_message(body);
  if (!payload) return fail_noise("handshake message 3 refused");
  const auto identity = decode_client_identity(*payload);
  if (identity.error == identity_payload_error::unknown_version) {
    return fail("client identity of unknown version " + std::to_string(identity.version));
  }
  if (identity.error != identity_payload_error::none) {
    return fail("malformed client identity in message 3 (" + std::to_string(payload->size()) + " bytes)");
  }
  // Noise proved the client holds the secret of remote_static(); the Ed25519 key names the user
  // only if it is the same key, so the X25519 form of the one must be the other.
  const auto derived = conversions_ ? conversions_->convert(identity.key) : x25519_of(identity.key);
  if (!derived) return fail("client identity is not a valid Ed25519 public key");
  const auto proven = noise_->remote_static();
  if (!proven || sodium_memcmp(derived->data(), proven->data(), key_size) != 0) {
    return fail("client's Ed25519 key does not match the static key its handshake proved");
  }
  client_ed25519_ = identity.key;
  establish();
  return {};
}

// --- both -----------------------------------------------------------------------------------

void handshake_v2::establish() {
  auto split = noise_->split();
  noise_.reset();  // nothing of the handshake is needed again; its secrets go now
  if (!split) {
    (void)fail("handshake split refused");  // unreachable: split() follows message 3 once
    return;
  }
  handshake_hash_ = split->handshake_hash;
  keys_.emplace();
  keys_->client_to_server = std::move(split->initiator_to_responder);
  keys_->server_to_client = std::move(split->responder_to_initiator);
  if (observer_) observer_->on_session_keys(connection_id_, keys_->client_to_server, keys_->server_to_client);
  state_ = state::established;
}

std::vector<handshake_v2::frame_body> handshake_v2::refuse(std::string_view reason) {
  if (role_ != role::server) return fail("refuse() called on a client");
  if (state_ != state::awaiting_message_1) return fail("refused: " + std::string(reason));
  return fail("refused: " + std::string(reason), std::string(reason));
}

std::optional<noise::hash> handshake_v2::handshake_hash() const {
  if (state_ != state::established) return std::nullopt;
  return handshake_hash_;
}

std::optional<ed25519_public_key> handshake_v2::client_ed25519_key() const {
  if (role_ != role::server || state_ != state::established) return std::nullopt;
  return client_ed25519_;
}

std::optional<server_parameters> handshake_v2::peer_parameters() const {
  if (role_ != role::client || state_ != state::established) return std::nullopt;
  return parameters_;
}

std::optional<session_keys_v2> handshake_v2::take_keys() {
  if (state_ != state::established || !keys_) return std::nullopt;
  std::optional<session_keys_v2> out(std::move(*keys_));
  keys_.reset();
  return out;
}

}  // namespace natter::crypto
