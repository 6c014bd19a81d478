// client_session's end-to-end part (e2e_layer.hpp): which server answers are the layer's own,
// how the layer's requests get their refs, and the order in which texts it will not send are
// reported. Kept apart from client_session.cpp, which moves frames; the keys live in the layer.
#include <utility>

#include "natter/client/client_session.hpp"
#include "natter/crypto/e2e_base64.hpp"
#include "natter/message_build.hpp"

namespace natter::client {

bool client_session::e2e_before(const server_message& message, e2e_layer::output& out) {
  if (const auto* w = std::get_if<welcome_event>(&message)) {
    if (phase_ == phase::joining) e2e_.on_welcome(*w, server_key(), out);
    return false;
  }
  if (phase_ != phase::joined) return false;
  // Answers to our handshake and key bodies are the layer's: the conversation never sent them.
  if (const auto* ack = std::get_if<ack_event>(&message)) {
    texts_sent_.erase(ack->ref);
    if (auto it = whispers_sent_.find(ack->ref); it != whispers_sent_.end()) {
      e2e_shown_event shown{e2e_shown::message, settings_.name, it->second.second, true, ack->ts_ms, false, it->second.first};
      out.events.emplace_back(std::move(shown));
      crypto::e2e::wipe(it->second.second);
      whispers_sent_.erase(it);
    }
    return control_refs_.erase(ack->ref) > 0;
  }
  if (const auto* error = std::get_if<error_event>(&message); error && error->ref) {
    texts_sent_.erase(*error->ref);
    if (auto w = whispers_sent_.find(*error->ref); w != whispers_sent_.end()) {
      crypto::e2e::wipe(w->second.second);
      whispers_sent_.erase(w);
    }
    const auto it = control_refs_.find(*error->ref);
    if (it == control_refs_.end()) return false;
    const std::string to = it->second;
    control_refs_.erase(it);
    e2e_.on_control_refused(to, out);
    return true;
  }
  return e2e_.on_message(message, out);
}

void client_session::apply(e2e_layer::output& out) {
  for (auto& s : out.send) {
    e2e_request request = std::move(s.request);
    if (s.tag) {
      request.ref = *s.tag;  // the say/whisper's own ref, so its ack and errors find it
      texts_sent_.insert(*s.tag);
    } else {
      request.ref = next_ref_++;
      control_refs_[*request.ref] = request.to;
    }
    const std::string plaintext = build(client_message{request});
    if (crypto::session_cipher_v2::sealed_size(plaintext.size()) > server_max_frame_) {
      if (s.tag) {
        texts_sent_.erase(*s.tag);
        texts_dropped_[*s.tag] = "too large for the server's frame limit once sealed";
      }
      continue;
    }
    if (phase_ == phase::closed) return;
    seal(client_message{std::move(request)});
  }
  for (auto& d : out.dropped) texts_dropped_[d.tag] = std::move(d.reason);
  for (auto& e : out.events) events_.push_back(std::move(e));
  out = {};
}

void client_session::report_dropped_texts() {
  while (!texts_dropped_.empty()) {
    const auto first = texts_dropped_.begin();
    if (!texts_sent_.empty() && *texts_sent_.begin() < first->first) return;  // an earlier answer is due first
    if (pending_acks_.erase(first->first) > 0) ++refused_;
    if (auto w = whispers_sent_.find(first->first); w != whispers_sent_.end()) {
      crypto::e2e::wipe(w->second.second);
      whispers_sent_.erase(w);
    }
    events_.push_back(server_message{error_event{"e2e", first->second, first->first}});
    texts_dropped_.erase(first);
  }
}

void client_session::e2e_command(const e2e_user_command& cmd) {
  e2e_layer::output out;
  if (!e2e_.enabled()) {
    events_.push_back(notice_event{"end-to-end encryption is off for this session"});
    return;
  }
  e2e_.run(cmd, out);
  apply(out);
  report_dropped_texts();
}

void client_session::tick() {
  if (!e2e_.enabled() || phase_ != phase::joined) return;
  e2e_layer::output out;
  e2e_.tick(out);
  apply(out);
  report_dropped_texts();
}

}  // namespace natter::client
