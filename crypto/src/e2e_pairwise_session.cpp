#include "natter/crypto/e2e_pairwise_session.hpp"

#include <sodium.h>

#include <algorithm>
#include <tuple>

namespace natter::crypto::e2e {

namespace {

constexpr std::string_view session_id_label = "natter/e2e session id 1";
constexpr std::size_t max_party_name = 255;  // the prologue's u8 length

void put_party(bytes& out, const party& p) {
  out.push_back(static_cast<std::uint8_t>(p.name.size()));
  out.insert(out.end(), p.name.begin(), p.name.end());
  out.insert(out.end(), p.key.bytes.begin(), p.key.bytes.end());
}

session_id session_id_of(const noise::hash& h) {
  std::array<std::uint8_t, crypto_generichash_BYTES_MIN> digest{};
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, digest.size());
  crypto_generichash_update(&state, reinterpret_cast<const std::uint8_t*>(session_id_label.data()),
                            session_id_label.size());
  crypto_generichash_update(&state, h.data(), h.size());
  crypto_generichash_final(&state, digest.data(), digest.size());
  session_id id{};
  std::copy_n(digest.begin(), id.size(), id.begin());
  return id;
}

}  // namespace

std::optional<bytes> pairwise_prologue(const public_key& server_static, const party& a, const party& b) {
  if (a.name.empty() || b.name.empty() || a.name.size() > max_party_name || b.name.size() > max_party_name) {
    return std::nullopt;
  }
  // Canonical order, so both sides build the same bytes: lower Ed25519 key first (keys differ:
  // create() refuses a session with oneself), the name breaking a tie that cannot occur.
  const bool a_first = std::tie(a.key, a.name) < std::tie(b.key, b.name);
  bytes out(pairwise_prologue_label.begin(), pairwise_prologue_label.end());
  out.insert(out.end(), server_static.begin(), server_static.end());
  put_party(out, a_first ? a : b);
  put_party(out, a_first ? b : a);
  return out;
}

// ---- session -------------------------------------------------------------------------------

std::optional<bytes> pairwise_session::seal(std::span<const std::uint8_t> plaintext) {
  return seal_with_nonce_for_testing(plaintext, random_nonce());
}

std::optional<bytes> pairwise_session::seal_with_nonce_for_testing(std::span<const std::uint8_t> plaintext,
                                                                   const aead_nonce& nonce) {
  if (plaintext.size() > max_plaintext_size) return std::nullopt;
  auto mk = send_.step();
  if (!mk) return std::nullopt;
  if (observer_) observer_->on_message_key({chain_kind::pairwise, id_, mk->n, own_name_, peer_name_}, mk->key);
  bytes body = write_pairwise_header({id_, mk->n});
  const auto sealed = e2e::seal(mk->key, nonce, body, plaintext);
  if (!sealed) return std::nullopt;  // unreachable: the size was checked
  body.insert(body.end(), nonce.begin(), nonce.end());
  body.insert(body.end(), sealed->begin(), sealed->end());
  return body;
}

pairwise_session::opened pairwise_session::open(std::span<const std::uint8_t> body, clock::time_point now) {
  opened out;
  const auto view = parse_pairwise_body(body);
  if (!view) return out;  // bad_format
  out.n = view->header.n;
  if (view->header.id != id_) {
    out.status = receive_status::wrong_session;
    return out;
  }
  std::optional<bytes> plaintext;
  out.status = receive_.receive(view->header.n, now, [&](const secret_key& mk) {
    plaintext = e2e::open(mk, view->nonce, view->header_bytes, view->ciphertext);
    if (plaintext && observer_) {
      observer_->on_message_key({chain_kind::pairwise, id_, view->header.n, peer_name_, own_name_}, mk);
    }
    return plaintext.has_value();
  });
  if (out.status == receive_status::ok) {
    out.plaintext = std::move(*plaintext);
    confirmed_ = true;
  }
  return out;
}

// ---- setup ---------------------------------------------------------------------------------

std::optional<pairwise_setup> pairwise_setup::create(const identity_v2& own, std::string own_name, party peer,
                                                     const public_key& server_static) {
  if (peer.key == own.public_key()) return std::nullopt;
  const auto peer_x25519 = x25519_of(peer.key);
  if (!peer_x25519) return std::nullopt;
  party self{std::move(own_name), own.public_key()};
  auto prologue = pairwise_prologue(server_static, self, peer);
  if (!prologue) return std::nullopt;
  return pairwise_setup(own, std::move(self), std::move(peer), *peer_x25519, std::move(*prologue));
}

void pairwise_setup::inject_ephemeral(noise::handshake_state& state) {
  if (test_ephemeral_) {
    (void)state.set_ephemeral_for_testing(std::move(*test_ephemeral_));
    test_ephemeral_.reset();
  }
}

std::optional<bytes> pairwise_setup::start() {
  if (phase_ != phase::idle) return std::nullopt;
  auto state = noise::handshake_state::initiator_kk(identity_->x25519(), peer_x25519_, prologue_);
  inject_ephemeral(state);
  const auto m1 = state.write_message({});
  if (!m1) return std::nullopt;  // unreachable: an empty payload, the first message
  initiator_.emplace(std::move(state));
  phase_ = phase::initiated;
  return write_handshake_message(handshake_kind::init, *m1);
}

void pairwise_setup::finish(noise::handshake_state& state) {
  auto keys = state.split();  // complete: split() cannot refuse here
  const bool initiator = state.own_role() == noise::role::initiator;
  chain_key send(std::move(initiator ? keys->initiator_to_responder : keys->responder_to_initiator), 0,
                 chain_kind::pairwise);
  chain_key receive(std::move(initiator ? keys->responder_to_initiator : keys->initiator_to_responder), 0,
                    chain_kind::pairwise);
  session_.emplace(
      pairwise_session(session_id_of(keys->handshake_hash), std::move(send), std::move(receive), initiator,
                       own_.name, peer_.name));
  initiator_.reset();
  phase_ = phase::ready;
}

pairwise_setup::result pairwise_setup::receive(std::span<const std::uint8_t> message) {
  const auto view = parse_handshake_message(message);
  if (!view) return {setup_status::bad_message, std::nullopt};

  if (view->kind == handshake_kind::response) {
    if (phase_ != phase::initiated) return {setup_status::out_of_turn, std::nullopt};
    if (!initiator_->read_message(view->noise_message)) {
      initiator_.reset();
      phase_ = phase::failed;
      return {setup_status::failed, std::nullopt};
    }
    finish(*initiator_);
    return {setup_status::established, std::nullopt};
  }

  if (phase_ != phase::idle && phase_ != phase::initiated) return {setup_status::out_of_turn, std::nullopt};
  if (phase_ == phase::initiated && wins_simultaneous()) return {setup_status::ignored, std::nullopt};
  // A fresh responder per init: a forged init fails alone and leaves our own pending init as
  // it was; only an init that authenticates as the peer's replaces it.
  auto responder = noise::handshake_state::responder_kk(identity_->x25519(), peer_x25519_, prologue_);
  inject_ephemeral(responder);
  if (!responder.read_message(view->noise_message)) return {setup_status::bad_message, std::nullopt};
  const auto m2 = responder.write_message({});
  if (!m2) return {setup_status::bad_message, std::nullopt};  // unreachable after a good read
  finish(responder);
  return {setup_status::reply, write_handshake_message(handshake_kind::response, *m2)};
}

std::optional<pairwise_session> pairwise_setup::take_session() {
  if (phase_ != phase::ready) return std::nullopt;
  phase_ = phase::done;
  auto out = std::move(session_);
  session_.reset();
  return out;
}

}  // namespace natter::crypto::e2e
