#include "natter/server/connection_core.hpp"

#include "natter/crypto/fingerprint_v2.hpp"
#include "natter/crypto/migration_proof.hpp"
#include "natter/limits.hpp"
#include "natter/message_build.hpp"
#include "natter/message_parse.hpp"
#include "natter/overloaded.hpp"
#include "natter/text.hpp"
#include "natter/server/batch_sealer.hpp"
#include "natter/server/log.hpp"
#include "natter/text.hpp"

namespace natter::server {

namespace {
crypto::server_parameters parameters_of(const connection_settings& settings) {
  return {static_cast<std::uint32_t>(settings.max_frame), static_cast<std::uint16_t>(settings.max_text)};
}

// A reason told to everyone online is bounded like a quit reason: cut to limits::max_reason
// bytes at a character boundary (the console's kick reason has no other limit), and dropped
// if it is not UTF-8 (which clients would drop anyway).
std::string bounded_reason(std::string text) {
  if (text.size() > limits::max_reason) {
    std::size_t end = limits::max_reason;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
    text.resize(end);
  }
  if (!is_valid_utf8(text)) text.clear();
  return text;
}
}  // namespace

connection_core::connection_core(const connection_context& context, std::string address,
                                 std::optional<std::string> admission_refusal)
    : context_(context),
      address_(std::move(address)),
      decoder_(context.settings.max_frame),
      admission_refusal_(std::move(admission_refusal)),
      handshake_(crypto::handshake_v2::server(context.identity, parameters_of(context.settings), context.keylog,
                                              context.conversions)) {}

std::string connection_core::who() const { return name_.empty() ? address_ : name_ + " (" + address_ + ")"; }

void connection_core::start(std::weak_ptr<participant> self) {
  self_ = std::move(self);
  self_raw_ = self_.lock().get();
  started_ms_ = last_frame_ms_ = context_.steady();
  append_handshake_frames(handshake_.start());
}

void connection_core::append_handshake_frames(std::vector<crypto::handshake_v2::frame_body> frames) {
  for (auto& frame : frames) {
    append_frame_header(raw_out_, frame.size());
    raw_out_.insert(raw_out_.end(), frame.begin(), frame.end());
  }
}

// ---- input -------------------------------------------------------------------------------------

input_result connection_core::on_bytes(std::span<const std::uint8_t> chunk) {
  input_result result;
  if (phase_ == phase::closing) return result;  // after quit or an error, input is ignored
  decoder_.feed(chunk);
  for (;;) {
    const decode_status status = decoder_.next(body_);
    if (status == decode_status::need_more) break;
    if (status != decode_status::frame) {
      log_warn("closing ", who(), ": ", to_string(status), " (limit ", decoder_.max_body(), " bytes)");
      result.close = close(leave_reason::protocol_error, std::string(to_string(status)), true);
      break;
    }
    last_frame_ms_ = context_.steady();
    handle_frame(body_, result);
    if (result.close) break;
  }
  return result;
}

void connection_core::handle_frame(std::span<const std::uint8_t> body, input_result& result) {
  if (phase_ == phase::handshake) {
    handle_handshake_frame(body, result);
    return;
  }
  using status = crypto::session_cipher_v2::open_status;
  const auto opened = cipher_->open_into(body, plaintext_);
  if (opened.status != status::ok) {
    // Every refusal ends the connection: with strict counters a frame can be neither skipped
    // nor retried, and what follows a lost frame may depend on it.
    std::string why(crypto::to_string(opened.status));
    if (opened.status == status::gap) {
      why = "frame " + std::to_string(opened.expected) + " missing (got frame " + std::to_string(opened.counter) + ")";
    }
    log_warn("closing ", who(), ": ", why);
    result.close = close(leave_reason::protocol_error, why, true);
    return;
  }
  for (auto& item : parse_client_frame(plaintext_, {context_.settings.max_text})) {
    if (auto* error = std::get_if<message_error>(&item)) {
      log_debug("refused a message from ", who(), ": ", error->code);
      send_error(*error);
    } else {
      handle_request(std::move(std::get<client_message>(item)), result);
    }
    if (result.close) return;
  }
}

void connection_core::handle_handshake_frame(std::span<const std::uint8_t> body, input_result& result) {
  using state = crypto::handshake_v2::state;
  if (admission_refusal_ && handshake_.current() == state::awaiting_message_1) {
    // The client has sent its hello and message 1, so it now waits for message 2 and will show
    // the refusal (as unauthenticated) instead of a bare handshake failure.
    append_handshake_frames(handshake_.refuse(*admission_refusal_));
    result.close = close(leave_reason::protocol_error, *admission_refusal_, true);  // flushes the refusal
    result.handshake_output = true;
    return;
  }
  append_handshake_frames(handshake_.on_frame(body));
  switch (handshake_.current()) {
    case state::failed:
      log_warn("handshake with ", address_, " failed: ", handshake_.error());
      result.close = close(leave_reason::protocol_error, handshake_.error(), true);  // flushes a refusal
      return;
    case state::established: {
      auto keys = handshake_.take_keys();
      const auto identity = handshake_.client_ed25519_key();
      const auto hash = handshake_.handshake_hash();
      if (!keys || !identity || !hash) {  // unreachable: established hands all three out
        result.close = close(leave_reason::protocol_error, "handshake incomplete", false);
        return;
      }
      cipher_.emplace(std::move(keys->server_to_client), std::move(keys->client_to_server),
                      crypto::direction::server_to_client);
      client_identity_ = *identity;
      std::copy(hash->begin(), hash->end(), handshake_hash_.begin());
      phase_ = phase::awaiting_join;
      // Checked here: the arguments (a SHA-256) would be computed even with debug off.
      if (logger::enabled(log_level::debug)) {
        log_debug("handshake with ", address_, " complete, client identity ", crypto::fingerprint_v2(client_identity_));
      }
      break;
    }
    default:
      break;
  }
  result.handshake_output = true;
}

// ---- requests ----------------------------------------------------------------------------------

void connection_core::handle_request(client_message&& request, input_result& result) {
  std::visit(overloaded{
                 [&](join_request& m) {
                   if (phase_ == phase::joined) {
                     send_error({std::string(errc::already_joined), "you have already joined as " + name_, m.ref});
                   } else {
                     handle_join(std::move(m), result);
                   }
                 },
                 [&](ping_request& m) { send(server_message{pong_event{m.ref}}); },
                 [&](quit_request& m) {
                   quit_reason_ = std::move(m.reason);
                   result.close = close(leave_reason::quit, "goodbye", true);
                 },
                 // Everything else needs a name: the one join check.
                 [&](auto& m) {
                   if (phase_ != phase::joined) {
                     send_error({std::string(errc::not_joined), "join first", m.ref});
                   } else {
                     handle_joined_request(m);
                   }
                 },
             },
             request);
}

bool connection_core::within_rate(const request_ref& ref) {
  if (rate_->allow(context_.steady())) return true;
  send_error({std::string(errc::rate_limited), "too many messages; slow down", ref});
  return false;
}

void connection_core::handle_joined_request(say_request& m) {
  if (within_rate(m.ref)) answer(context_.routes.say(name_, self_raw_, std::move(m.text), m.ref, m.action));
}

void connection_core::handle_joined_request(whisper_request& m) {
  if (within_rate(m.ref)) answer(context_.routes.whisper(name_, m.to, std::move(m.text), m.ref, m.action));
}

void connection_core::handle_joined_request(e2e_request& m) {
  const bool room = m.kind == e2e_kind::room;
  if (room != m.to.empty() || (!room && !is_valid_name(m.to))) {
    send_error({std::string(room ? errc::bad_message : errc::bad_name),
                room ? "a room body has no \"to\"" : "\"to\" must name a user", m.ref});
    return;
  }
  // Texts (whisper, room) count against the identity's chat rate; the keys and handshakes that
  // set sessions up have a larger budget of their own, per connection.
  const bool chat = room || m.kind == e2e_kind::whisper;
  if (chat ? !within_rate(m.ref) : !control_rate_.allow(context_.steady())) {
    if (!chat) send_error({std::string(errc::rate_limited), "too many end-to-end key messages; slow down", m.ref});
    return;
  }
  answer(context_.routes.relay(name_, self_raw_, std::move(m.kind), std::move(m.to), std::move(m.body), m.ref));
}

void connection_core::handle_joined_request(users_request& m) {
  for (auto& message : context_.routes.users(m.ref)) self_raw_->deliver(std::move(message));
}

void connection_core::handle_joined_request(whois_request& m) {
  const auto found = context_.routes.whois(m.name, m.ref);
  if (const auto* error = std::get_if<message_error>(&found)) send_error(*error);
  else send(server_message{std::get<whois_event>(found)});
}

// Not rate limited: it sends nothing to anyone, and changes one string of this member.
void connection_core::handle_joined_request(away_request& m) {
  context_.routes.set_away(name_, self_raw_, std::move(m.message));
}

void connection_core::handle_join(join_request&& request, input_result& result) {
  const auto self = self_.lock();
  if (!self) return;  // the connection is being destroyed
  std::optional<crypto::public_key> migrating_from;
  if (!request.migrate_from.empty() || !request.migration_proof.empty()) {
    migrating_from = checked_migration(request);
    if (!migrating_from) {
      log_info("refused join as ", request.name, " from ", address_, ": bad migration proof");
      send_error({std::string(errc::bad_migration), "the proof of your old key does not check out", request.ref});
      return;
    }
  }
  if (const auto refusal = ban_on_join()) {
    log_info("refused join as ", request.name, " from ", address_, ": banned");
    send_error({std::string(errc::banned), *refusal, request.ref});
    return;
  }
  auto outcome = context_.routes.join(self, request.name, client_identity_, address_, request.ref, migrating_from);
  if (const auto* error = std::get_if<message_error>(&outcome)) {
    log_info("refused join as ", request.name, " from ", address_, ": ", error->code);
    send_error(*error);
    return;
  }
  auto& accepted = std::get<joined>(outcome);
  name_ = accepted.name;
  phase_ = phase::joined;
  rate_ = context_.rates.bucket_for(client_identity_);
  if (accepted.migrated) {
    log_info(name_, " moved from the protocol 1 key ", crypto::to_hex(*migrating_from), " to ", accepted.fingerprint);
  }
  log_info(name_, " joined from ", address_, " key ", accepted.fingerprint);
  for (auto& message : accepted.welcome_messages) self_raw_->deliver(std::move(message));
  result.joined = true;
}

// The refusal text if this identity or this address is banned. The address is checked again here
// (the listener checked it at accept): a ban made while this connection was in its handshake
// would otherwise let it in.
std::optional<std::string> connection_core::ban_on_join() const {
  if (context_.bans == nullptr) return std::nullopt;
  auto found = context_.bans->find({ban_kind::identity, crypto::fingerprint_v2(client_identity_)});
  if (!found) found = context_.bans->find({ban_kind::address, address_host(address_)});
  if (!found) return std::nullopt;
  return "you are banned from this server" + (found->reason.empty() ? std::string() : ": " + found->reason);
}

// The v1 key a join's migration fields name, if its proof opens for this handshake; nullopt
// for malformed fields or a proof that does not check out.
std::optional<crypto::public_key> connection_core::checked_migration(const join_request& request) {
  crypto::public_key v1_key{};
  crypto::migration_proof proof{};
  if (!crypto::from_hex(request.migrate_from, v1_key) || !crypto::from_hex(request.migration_proof, proof)) {
    return std::nullopt;
  }
  if (!crypto::check_migration_proof(proof, v1_key, context_.identity, handshake_hash_)) return std::nullopt;
  return v1_key;
}

void connection_core::send(const server_message& message) {
  self_raw_->deliver(std::make_shared<const std::string>(build(message)));
}

void connection_core::answer(const send_result& result) {
  if (const auto* error = std::get_if<message_error>(&result)) send_error(*error);
  else send(server_message{std::get<ack_event>(result)});
}

void connection_core::send_error(const message_error& error) {
  send(server_message{error_event{error.code, error.message, error.ref}});
}

// ---- time and closing --------------------------------------------------------------------------

std::int64_t connection_core::deadline_ms() const {
  return phase_ == phase::joined ? last_frame_ms_ + context_.settings.idle_timeout_ms
                                 : started_ms_ + context_.settings.handshake_timeout_ms;
}

std::optional<close_request> connection_core::on_deadline() {
  const std::int64_t now = context_.steady();
  switch (phase_) {
    case phase::handshake:
    case phase::awaiting_join:
      if (now < deadline_ms()) return std::nullopt;
      log_info("closing ", address_, ": no handshake and join within ", context_.settings.handshake_timeout_ms, " ms");
      return close(leave_reason::timeout, "handshake timed out", true);
    case phase::joined:
      if (now < deadline_ms()) return std::nullopt;
      log_info("closing ", who(), ": idle for ", context_.settings.idle_timeout_ms, " ms");
      return close(leave_reason::timeout, "idle timeout", true);
    case phase::closing:
      break;
  }
  return std::nullopt;
}

std::optional<close_request> connection_core::close(leave_reason reason, std::string message, bool say_bye) {
  if (phase_ == phase::closing) return std::nullopt;
  const bool was_joined = phase_ == phase::joined;
  phase_ = phase::closing;
  if (was_joined) {
    // The others hear why, where there are words for it: the leaver's own or the operator's.
    std::string told = reason == leave_reason::quit                                  ? std::move(quit_reason_)
                       : reason == leave_reason::kicked && message != kick_without_reason ? message
                                                                                          : std::string{};
    context_.routes.leave(name_, self_raw_, reason, bounded_reason(std::move(told)));
    log_info(name_, " left (", to_string(reason), ")");
  }
  close_request request;
  request.say_bye = say_bye;
  if (say_bye && cipher_) {
    request.bye = std::make_shared<const std::string>(
        build(server_message{bye_event{std::string(to_string(reason)), std::move(message)}}));
  }
  return request;
}

// ---- output ------------------------------------------------------------------------------------

std::optional<close_request> connection_core::write_output(std::span<const shared_message> batch, bytes& out) {
  out.clear();
  if (!raw_out_.empty()) {
    // Handshake frames go first; the swap must not leave a second large buffer in raw_out_.
    // (Assigning bytes{}, not {}: `v = {}` picks the initializer_list overload, keeping capacity.)
    out.swap(raw_out_);
    raw_out_ = bytes{};
  }
  // Without a cipher (the handshake failed before it) there is no way to send sealed messages.
  if (batch.empty() || !cipher_) return std::nullopt;
  if (seal_batch(*cipher_, batch, out) == crypto::session_cipher_v2::seal_status::ok) return std::nullopt;
  log_warn("closing ", who(), ": the session's send counter is used up");
  auto request = close(leave_reason::protocol_error, "send counter exhausted", false);
  if (request) request->bye = nullptr;  // nothing more can be sealed
  return request;
}

}  // namespace natter::server
