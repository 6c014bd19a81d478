#include "natter/server/connection_core.hpp"

#include "natter/crypto/fingerprint.hpp"
#include "natter/message_build.hpp"
#include "natter/message_parse.hpp"
#include "natter/overloaded.hpp"
#include "natter/server/batch_sealer.hpp"
#include "natter/server/log.hpp"

namespace natter::server {

connection_core::connection_core(const connection_context& context, rate_limiter rate, std::string address)
    : context_(context),
      address_(std::move(address)),
      decoder_(context.settings.max_frame),
      handshake_(crypto::role::server, context.identity, context.long_term_keys, context.keylog),
      rate_(rate) {}

std::string connection_core::who() const { return name_.empty() ? address_ : name_ + " (" + address_ + ")"; }

void connection_core::start(std::weak_ptr<participant> self) {
  self_ = std::move(self);
  self_raw_ = self_.lock().get();
  started_ms_ = last_frame_ms_ = context_.steady();
  append_handshake_frames(handshake_.start());
}

void connection_core::append_handshake_frames(std::vector<crypto::handshake::frame_body> frames) {
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
  crypto::opened_frame opened = cipher_->open(body);
  if (opened.status != crypto::open_status::ok) {
    log_warn("closing ", who(), ": ", crypto::to_string(opened.status));
    result.close = close(leave_reason::protocol_error, std::string(crypto::to_string(opened.status)), true);
    return;
  }
  for (auto& item : parse_client_frame(opened.plaintext, {context_.settings.max_text})) {
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
  append_handshake_frames(handshake_.on_frame(body));
  switch (handshake_.current()) {
    case crypto::handshake::state::failed:
      log_warn("handshake with ", address_, " failed: ", handshake_.error());
      result.close = close(leave_reason::protocol_error, handshake_.error(), true);  // flushes a refusal
      return;
    case crypto::handshake::state::established:
      cipher_.emplace(handshake_.take_cipher());
      phase_ = phase::awaiting_join;
      // Checked here: the arguments (a SHA-256) would be computed even with debug off.
      if (logger::enabled(log_level::debug)) {
        log_debug("handshake with ", address_, " complete, client key ", crypto::fingerprint(handshake_.peer_key()));
      }
      break;
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
                 [&](quit_request&) { result.close = close(leave_reason::quit, "goodbye", true); },
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
  if (rate_.allow(context_.steady())) return true;
  send_error({std::string(errc::rate_limited), "too many messages; slow down", ref});
  return false;
}

void connection_core::handle_joined_request(say_request& m) {
  if (within_rate(m.ref)) answer(context_.routes.say(name_, self_raw_, std::move(m.text), m.ref));
}

void connection_core::handle_joined_request(whisper_request& m) {
  if (within_rate(m.ref)) answer(context_.routes.whisper(name_, m.to, std::move(m.text), m.ref));
}

void connection_core::handle_joined_request(users_request& m) {
  for (auto& message : context_.routes.users(m.ref)) self_raw_->deliver(std::move(message));
}

void connection_core::handle_joined_request(whois_request& m) {
  const auto found = context_.routes.whois(m.name, m.ref);
  if (const auto* error = std::get_if<message_error>(&found)) send_error(*error);
  else send(server_message{std::get<whois_event>(found)});
}

void connection_core::handle_join(join_request&& request, input_result& result) {
  const auto self = self_.lock();
  if (!self) return;  // the connection is being destroyed
  auto outcome = context_.routes.join(self, request.name, handshake_.peer_key(), address_, request.ref);
  if (const auto* error = std::get_if<message_error>(&outcome)) {
    log_info("refused join as ", request.name, " from ", address_, ": ", error->code);
    send_error(*error);
    return;
  }
  auto& accepted = std::get<joined>(outcome);
  name_ = accepted.name;
  phase_ = phase::joined;
  log_info(name_, " joined from ", address_, " key ", accepted.fingerprint);
  for (auto& message : accepted.welcome_messages) self_raw_->deliver(std::move(message));
  result.joined = true;
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
    context_.routes.leave(name_, self_raw_, reason);
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

void connection_core::write_output(std::span<const shared_message> batch, bytes& out) {
  out.clear();
  if (!raw_out_.empty()) {
    // Handshake frames go first; the swap must not leave a second large buffer in raw_out_.
    // (Assigning bytes{}, not {}: `v = {}` picks the initializer_list overload, keeping capacity.)
    out.swap(raw_out_);
    raw_out_ = bytes{};
  }
  // Without a cipher (the handshake failed before it) there is no way to send sealed messages.
  if (!batch.empty() && cipher_) seal_batch(*cipher_, batch, out);
}

}  // namespace natter::server
