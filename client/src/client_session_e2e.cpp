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
  // The pages answering our own `users` request are the layer's: the conversation never asked.
  if (const auto* page = std::get_if<users_event>(&message); page && directory_ref_ && page->ref == directory_ref_) {
    e2e_.on_directory_page(*page, out);
    if (!page->more) directory_ref_.reset();
    return true;
  }
  if (const auto* error = std::get_if<error_event>(&message); error && directory_ref_ && error->ref == directory_ref_) {
    directory_ref_.reset();
    e2e_.on_directory_refused(out);
    return true;
  }
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
    const control_sent sent = std::move(it->second);
    control_refs_.erase(it);
    e2e_.on_control_refused(sent.to, sent.kind, error->code, out);
    return true;
  }
  return e2e_.on_message(message, out);
}

void client_session::apply(e2e_layer::output& out) {
  for (auto& s : out.send) {
    client_message request;
    if (auto* plain = std::get_if<say_request>(&s.request)) {
      // An open room's text, in the clear: under its own ref, answered like any say.
      plain->ref = s.tag;
      if (s.tag) texts_sent_.insert(*s.tag);
      request = std::move(*plain);
    } else {
      e2e_request body = std::get<e2e_request>(std::move(s.request));
      if (s.tag) {
        body.ref = *s.tag;  // the say/whisper's own ref, so its ack and errors find it
        texts_sent_.insert(*s.tag);
      } else {
        body.ref = next_ref_++;
        control_refs_[*body.ref] = {body.to, body.kind};
      }
      request = std::move(body);
    }
    const std::string plaintext = build(request);
    if (crypto::session_cipher_v2::sealed_size(plaintext.size()) > server_max_frame_) {
      if (s.tag) {
        texts_sent_.erase(*s.tag);
        texts_dropped_[*s.tag] = "too large for the server's frame limit once sealed";
      }
      continue;
    }
    if (phase_ == phase::closed) return;
    seal(request);
  }
  for (auto& d : out.dropped) texts_dropped_[d.tag] = std::move(d.reason);
  for (auto& e : out.events) events_.push_back(std::move(e));
  out = {};
}

void client_session::request_directory() {
  if (!e2e_.enabled() || !e2e_.wants_directory() || directory_ref_) return;
  directory_ref_ = next_ref_++;
  seal(client_message{users_request{directory_ref_}});
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
