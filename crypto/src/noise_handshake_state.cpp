#include "natter/crypto/noise_handshake_state.hpp"

#include <sodium.h>

#include <algorithm>
#include <array>

namespace natter::crypto::noise {

static_assert(dh_size == crypto_scalarmult_BYTES);
static_assert(dh_size == crypto_scalarmult_SCALARBYTES);
static_assert(dh_size == key_size);

// The patterns as the spec writes them (§7.4, §7.5), walked token by token as §5.3 says.
enum class pattern_token : std::uint8_t { e, s, ee, es, se, ss };

namespace {

inline constexpr std::size_t max_tokens = 4;  // IK's "-> e, es, s, ss"

struct message_pattern {
  role sender;
  std::size_t token_count;
  std::array<pattern_token, max_tokens> tokens;

  [[nodiscard]] std::span<const pattern_token> walk() const { return {tokens.data(), token_count}; }
};

struct pattern_table {
  std::string_view name;
  bool initiator_static_known;  // pre-message "-> s"
  bool responder_static_known;  // pre-message "<- s"
  std::size_t message_count;
  std::array<message_pattern, 3> messages;
};

using tk = pattern_token;
constexpr pattern_table xk_table = {xk_protocol_name, false, true, xk_message_count,
                                    {{{role::initiator, 2, {tk::e, tk::es}},
                                      {role::responder, 2, {tk::e, tk::ee}},
                                      {role::initiator, 2, {tk::s, tk::se}}}}};
constexpr pattern_table kk_table = {kk_protocol_name, true, true, kk_message_count,
                                    {{{role::initiator, 3, {tk::e, tk::es, tk::ss}},
                                      {role::responder, 3, {tk::e, tk::ee, tk::se}}}}};
constexpr pattern_table ik_table = {ik_protocol_name, false, true, ik_message_count,
                                    {{{role::initiator, 4, {tk::e, tk::es, tk::s, tk::ss}},
                                      {role::responder, 3, {tk::e, tk::ee, tk::se}}}}};

const pattern_table& table_of(handshake_pattern pattern) {
  switch (pattern) {
    case handshake_pattern::kk: return kk_table;
    case handshake_pattern::ik: return ik_table;
    case handshake_pattern::xk: break;
  }
  return xk_table;
}

std::span<const std::uint8_t> view(const public_key& key) { return {key.data(), key.size()}; }

// DH(own, peer) = X25519. libsodium's crypto_scalarmult returns -1 for an all-zero result; we
// check the output as well, so a low-order peer key is refused whatever the library version.
bool x25519(const secret_key& own, const public_key& peer, secret_key& out) {
  const bool ok = crypto_scalarmult(out.data(), own.data(), peer.data()) == 0;
  return ok && sodium_is_zero(out.data(), out.size()) == 0;
}

}  // namespace

std::string_view protocol_name(handshake_pattern pattern) { return table_of(pattern).name; }
std::size_t message_count(handshake_pattern pattern) { return table_of(pattern).message_count; }

std::string_view to_string(handshake_error error) {
  switch (error) {
    case handshake_error::none: return "no error";
    case handshake_error::out_of_turn: return "handshake call out of turn";
    case handshake_error::payload_too_large: return "payload too large for a Noise message";
    case handshake_error::bad_message_size: return "handshake message has the wrong size";
    case handshake_error::bad_public_key: return "peer public key gives an all-zero DH result";
    case handshake_error::decrypt_failed: return "handshake message failed authentication";
    case handshake_error::nonce_exhausted: return "cipher nonce exhausted";
  }
  return "unknown";
}

handshake_state::handshake_state(handshake_pattern pattern, role own_role, const key_pair& own_static,
                                 std::span<const std::uint8_t> prologue)
    : pattern_(pattern),
      role_(own_role),
      s_(&own_static),
      symmetric_(table_of(pattern).name),
      status_(own_role == role::initiator ? status::write_next : status::read_next) {
  symmetric_.mix_hash(prologue);
}

void handshake_state::mix_pre_messages() {
  // §7.1: the initiator's pre-message keys are hashed first, then the responder's. Each side
  // hashes its own key or the peer's, whichever that pre-message names.
  const pattern_table& table = table_of(pattern_);
  const bool initiator = role_ == role::initiator;
  if (table.initiator_static_known) symmetric_.mix_hash(view(initiator ? s_->public_key_bytes : *rs_));
  if (table.responder_static_known) symmetric_.mix_hash(view(initiator ? *rs_ : s_->public_key_bytes));
}

handshake_state handshake_state::initiator(const key_pair& own_static, const public_key& responder_static,
                                           std::span<const std::uint8_t> prologue) {
  handshake_state state(handshake_pattern::xk, role::initiator, own_static, prologue);
  state.rs_ = responder_static;
  state.rs_given_ = state.rs_shown_ = true;
  state.mix_pre_messages();
  return state;
}

handshake_state handshake_state::responder(const key_pair& own_static, std::span<const std::uint8_t> prologue) {
  handshake_state state(handshake_pattern::xk, role::responder, own_static, prologue);
  state.mix_pre_messages();
  return state;
}

handshake_state handshake_state::initiator_kk(const key_pair& own_static, const public_key& remote_static,
                                              std::span<const std::uint8_t> prologue) {
  handshake_state state(handshake_pattern::kk, role::initiator, own_static, prologue);
  state.rs_ = remote_static;
  state.rs_given_ = state.rs_shown_ = true;
  state.mix_pre_messages();
  return state;
}

handshake_state handshake_state::responder_kk(const key_pair& own_static, const public_key& remote_static,
                                              std::span<const std::uint8_t> prologue) {
  handshake_state state(handshake_pattern::kk, role::responder, own_static, prologue);
  state.rs_ = remote_static;
  state.rs_given_ = state.rs_shown_ = true;
  state.mix_pre_messages();
  return state;
}

handshake_state handshake_state::initiator_ik(const key_pair& own_static, const public_key& responder_static,
                                              std::span<const std::uint8_t> prologue) {
  handshake_state state(handshake_pattern::ik, role::initiator, own_static, prologue);
  state.rs_ = responder_static;
  state.rs_given_ = state.rs_shown_ = true;
  state.mix_pre_messages();
  return state;
}

handshake_state handshake_state::responder_ik(const key_pair& own_static, std::span<const std::uint8_t> prologue) {
  handshake_state state(handshake_pattern::ik, role::responder, own_static, prologue);
  state.mix_pre_messages();
  return state;
}

handshake_state::~handshake_state() { wipe_ephemerals(); }

handshake_state::handshake_state(handshake_state&& other) noexcept
    : pattern_(other.pattern_),
      role_(other.role_),
      s_(other.s_),
      e_(std::move(other.e_)),
      has_e_(other.has_e_),
      re_(other.re_),
      rs_(other.rs_),
      rs_given_(other.rs_given_),
      rs_shown_(other.rs_shown_),
      symmetric_(std::move(other.symmetric_)),
      status_(other.status_),
      error_(other.error_),
      message_index_(other.message_index_) {
  other.abandon();
}

handshake_state& handshake_state::operator=(handshake_state&& other) noexcept {
  if (this != &other) {
    pattern_ = other.pattern_;
    role_ = other.role_;
    s_ = other.s_;
    e_ = std::move(other.e_);
    has_e_ = other.has_e_;
    re_ = other.re_;
    rs_ = other.rs_;
    rs_given_ = other.rs_given_;
    rs_shown_ = other.rs_shown_;
    symmetric_ = std::move(other.symmetric_);
    status_ = other.status_;
    error_ = other.error_;
    message_index_ = other.message_index_;
    other.abandon();
  }
  return *this;
}

void handshake_state::abandon() {
  status_ = status::failed;
  error_ = handshake_error::out_of_turn;
  wipe_ephemerals();
  symmetric_.wipe();
  rs_.reset();
  rs_given_ = rs_shown_ = false;
}

bool handshake_state::set_ephemeral_for_testing(secret_key ephemeral) {
  if (has_e_ || (status_ != status::write_next && status_ != status::read_next)) return false;
  e_ = key_pair::from_secret(std::move(ephemeral));
  has_e_ = true;
  return true;
}

std::size_t handshake_state::message_overhead() const {
  bool keyed = symmetric_.has_key();
  std::size_t size = 0;
  for (const pattern_token t : table_of(pattern_).messages[message_index_].walk()) {
    if (t == pattern_token::e) size += dh_size;
    else if (t == pattern_token::s) size += dh_size + (keyed ? tag_size : 0);
    else keyed = true;  // every DH token ends in MixKey
  }
  return size + (keyed ? tag_size : 0);  // the payload's tag
}

bool handshake_state::mix_dh(pattern_token dh) {
  // The letters name the initiator's key, then the responder's (§5.3): es is DH(e, rs) for the
  // initiator and DH(s, re) for the responder; se the other way round.
  const bool initiator = role_ == role::initiator;
  bool own_ephemeral = true;
  bool peer_ephemeral = true;
  switch (dh) {
    case pattern_token::ee: break;
    case pattern_token::es:
      own_ephemeral = initiator;
      peer_ephemeral = !initiator;
      break;
    case pattern_token::se:
      own_ephemeral = !initiator;
      peer_ephemeral = initiator;
      break;
    case pattern_token::ss:
      own_ephemeral = false;
      peer_ephemeral = false;
      break;
    case pattern_token::e:
    case pattern_token::s: return false;  // not DH tokens: unreachable
  }
  if (!peer_ephemeral && !rs_) return false;  // unreachable: every pattern has rs before using it
  const secret_key& own = own_ephemeral ? e_.secret : s_->secret;
  const public_key& peer = peer_ephemeral ? re_ : *rs_;
  secret_key shared;
  if (!x25519(own, peer, shared)) return false;
  symmetric_.mix_key(std::span<const std::uint8_t>(shared.data(), shared.size()));
  return true;
}  // `shared` wiped by its destructor

void handshake_state::advance() {
  ++message_index_;
  if (rs_) rs_shown_ = true;  // a carried key counts once its whole message has authenticated
  const pattern_table& table = table_of(pattern_);
  if (message_index_ == table.message_count) {
    status_ = status::complete;
    wipe_ephemerals();  // only split() is left, and it needs ck alone
    return;
  }
  status_ = table.messages[message_index_].sender == role_ ? status::write_next : status::read_next;
}

std::nullopt_t handshake_state::refuse(handshake_error why) {
  if (status_ != status::failed) error_ = why;  // a failure's reason is never overwritten
  return std::nullopt;
}

std::nullopt_t handshake_state::fail(handshake_error why) {
  status_ = status::failed;
  error_ = why;
  wipe_ephemerals();
  symmetric_.wipe();
  if (!rs_given_) {
    rs_.reset();
    rs_shown_ = false;
  }
  return std::nullopt;
}

void handshake_state::wipe_ephemerals() {
  e_.secret.wipe();
  sodium_memzero(e_.public_key_bytes.data(), e_.public_key_bytes.size());
  sodium_memzero(re_.data(), re_.size());
  has_e_ = false;
}

std::optional<bytes> handshake_state::write_message(std::span<const std::uint8_t> payload) {
  if (status_ != status::write_next) return refuse(handshake_error::out_of_turn);
  const std::size_t overhead = message_overhead();
  if (payload.size() > max_message_size - overhead) return refuse(handshake_error::payload_too_large);

  bytes message;
  message.reserve(overhead + payload.size());
  for (const pattern_token t : table_of(pattern_).messages[message_index_].walk()) {
    if (t == pattern_token::e) {
      if (!has_e_) {
        e_ = key_pair::generate();
        has_e_ = true;
      }
      message.insert(message.end(), e_.public_key_bytes.begin(), e_.public_key_bytes.end());
      symmetric_.mix_hash(view(e_.public_key_bytes));
    } else if (t == pattern_token::s) {
      const auto sealed = symmetric_.encrypt_and_hash(view(s_->public_key_bytes));
      if (!sealed) return fail(handshake_error::nonce_exhausted);
      message.insert(message.end(), sealed->begin(), sealed->end());
    } else if (!mix_dh(t)) {
      return fail(handshake_error::bad_public_key);
    }
  }
  const auto sealed = symmetric_.encrypt_and_hash(payload);
  if (!sealed) return fail(handshake_error::nonce_exhausted);
  message.insert(message.end(), sealed->begin(), sealed->end());
  advance();
  return message;
}

std::optional<bytes> handshake_state::read_message(std::span<const std::uint8_t> message) {
  if (status_ != status::read_next) return refuse(handshake_error::out_of_turn);
  if (message.size() > max_message_size || message.size() < message_overhead()) {
    return fail(handshake_error::bad_message_size);
  }

  std::size_t at = 0;
  for (const pattern_token t : table_of(pattern_).messages[message_index_].walk()) {
    if (t == pattern_token::e) {
      std::copy_n(message.begin() + static_cast<std::ptrdiff_t>(at), dh_size, re_.begin());
      symmetric_.mix_hash(view(re_));
      at += dh_size;
    } else if (t == pattern_token::s) {
      const std::size_t length = dh_size + (symmetric_.has_key() ? tag_size : 0);
      const auto opened = symmetric_.decrypt_and_hash(message.subspan(at, length));
      if (!opened) return fail(handshake_error::decrypt_failed);
      rs_.emplace();  // needed by se below; remote_static() shows it once the payload verifies
      std::copy(opened->begin(), opened->end(), rs_->begin());
      at += length;
    } else if (!mix_dh(t)) {
      return fail(handshake_error::bad_public_key);
    }
  }
  auto payload = symmetric_.decrypt_and_hash(message.subspan(at));
  if (!payload) return fail(handshake_error::decrypt_failed);
  advance();
  return payload;
}

std::optional<split_keys> handshake_state::split() {
  if (status_ != status::complete) return refuse(handshake_error::out_of_turn);
  status_ = status::split_done;
  return symmetric_.split();
}

std::optional<public_key> handshake_state::remote_static() const {
  if (!rs_shown_) return std::nullopt;
  return rs_;
}

}  // namespace natter::crypto::noise
