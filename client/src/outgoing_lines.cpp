#include "natter/client/outgoing_lines.hpp"

#include <utility>

#include "natter/crypto/session_cipher_v2.hpp"
#include "natter/message_build.hpp"
#include "natter/text.hpp"

namespace natter::client {

outgoing_lines::outgoing_lines(bool echo, ms_clock steady) : echo_(echo), pacer_(std::move(steady)) {}

void outgoing_lines::follow(const welcome_event& welcome) {
  pacer_.follow(welcome.rate, welcome.burst);
  max_frame_ = welcome.max_frame;
}

std::uint64_t outgoing_lines::show(shown_kind kind, std::string text, const std::string& from, outbox& out) {
  if (!echo_) return 0;
  const std::uint64_t id = next_line_id_++;
  out.show(kind, std::move(text));
  shown_line& shown = out.lines.back();
  shown.id = id;
  shown.state = send_state::pending;
  shown.from = printable(from);
  return id;
}

bool outgoing_lines::send(client_message request, std::uint64_t line_id, outbox& out, room_route route) {
  // The session refuses a request whose JSON would not fit the server's frame with a notice and
  // no answer; unanswered, it would shift every later answer in sent_requests' order. So it is
  // refused here first, by the session's measure plus room for the ref the session adds.
  constexpr std::size_t room_for_ref = 32;  // ,"ref":9007199254740991 and then some
  if (max_frame_ > 0 && crypto::session_cipher_v2::sealed_size(build(request).size() + room_for_ref) > max_frame_) {
    const std::string reason = "too large for the server's frame limit of " + std::to_string(max_frame_) + " bytes";
    if (line_id != 0) {
      out.mark(line_id, send_state::failed, reason);
    } else {
      out.show(shown_kind::error, "! not sent: " + reason);
    }
    return false;
  }
  if (pacer_.may_send_now()) {
    out.act(send_action{std::move(request), line_id, route});
  } else {
    pacer_.hold({std::move(request), line_id, route});  // release() sends it as the server's rate allows
  }
  return true;
}

void outgoing_lines::release(outbox& out) {
  while (auto next = pacer_.release()) out.act(send_action{std::move(next->message), next->line_id, next->route});
}

void outgoing_lines::handed_over(const std::vector<conversation_action>& actions) {
  for (const auto& action : actions) {
    if (const auto* send = std::get_if<send_action>(&action)) sent_.sent(send->message, send->line_id, send->route);
  }
}

bool outgoing_lines::on_answer(const server_message& message, outbox& out) {
  const auto request = sent_.on_answer(message);
  if (!request || request->kind != request_kind::chat) return false;
  if (const auto* ack = std::get_if<ack_event>(&message)) {
    if (request->line_id != 0) out.mark(request->line_id, send_state::sent);
    // As irssi does: a whisper to someone away is delivered, and says so.
    if (!ack->away.empty() && !request->to.empty()) {
      out.show(shown_kind::info, "* " + request->to + " is away: " + printable(ack->away));
    }
    acknowledged_.push_back(*request);
    return false;
  }
  const auto* error = std::get_if<error_event>(&message);
  if (error == nullptr) return false;
  const std::string reason = printable(error->message.empty() ? error->code : error->message);
  if (request->line_id != 0) {
    out.mark(request->line_id, send_state::failed, reason);  // the marked line says it all
  } else {
    // No echo to mark (line mode): name the line the error is about.
    out.show(shown_kind::error, "! not sent (" + printable(error->code) + ": " + reason + "): " + request->summary);
  }
  return true;
}

void outgoing_lines::on_closed(outbox& out) {
  // Whatever still waits was never acknowledged: it may or may not have reached anyone.
  for (auto& held : pacer_.take_held()) {
    if (held.line_id != 0) out.mark(held.line_id, send_state::failed, "not sent: disconnected");
  }
  for (const auto& request : sent_.take_unanswered()) {
    if (request.line_id != 0) out.mark(request.line_id, send_state::failed, "no acknowledgement: disconnected");
  }
}

}  // namespace natter::client
