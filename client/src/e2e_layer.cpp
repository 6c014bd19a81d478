#include "natter/client/e2e_layer.hpp"

#include <utility>

#include "natter/crypto/e2e_base64.hpp"
#include "natter/crypto/e2e_wire.hpp"
#include "natter/crypto/fingerprint_v2.hpp"
#include "natter/overloaded.hpp"
#include "natter/text.hpp"

namespace natter::client {

e2e_layer::e2e_layer(const crypto::identity_v2& own, e2e_settings settings)
    : own_(own), settings_(std::move(settings)) {}

void e2e_layer::notice(output& out, std::string text) {
  out.events.emplace_back(e2e_shown_event{e2e_shown::notice, {}, std::move(text), false, 0, false});
}

void e2e_layer::warning(output& out, std::string text) {
  out.events.emplace_back(e2e_shown_event{e2e_shown::warning, {}, std::move(text), false, 0, false});
}

namespace {

// What the header of an end-to-end body says: the second layer of --trace. (The hop layer's
// trace shows the envelope, with the body as opaque base64.)
std::string describe_body(const std::string& kind, const std::string& body) {
  namespace e2e = crypto::e2e;
  const auto raw = e2e::from_base64(body);
  if (!raw) return "not base64";
  const std::string size = std::to_string(raw->size()) + " bytes";
  if (kind == e2e_kind::handshake) {
    const auto h = e2e::parse_handshake_message(*raw);
    if (!h) return "malformed handshake, " + size;
    return std::string("KK ") + (h->kind == e2e::handshake_kind::init ? "init" : "response") + ", " + size;
  }
  if (kind == e2e_kind::room) {
    const auto r = e2e::parse_room_message(*raw);
    if (!r) return "malformed room message, " + size;
    return "room " + printable(r->header.room) + " epoch " + std::to_string(r->header.epoch) + " sender key " +
           crypto::to_hex(r->header.key_id) + " n=" + std::to_string(r->header.n) + ", " + size + " (ciphertext " +
           std::to_string(r->ciphertext.size()) + ", signed)";
  }
  const auto p = e2e::parse_pairwise_body(*raw);
  if (!p) return "malformed pairwise body, " + size;
  return "pairwise session " + crypto::to_hex(p->header.id) + " n=" + std::to_string(p->header.n) + ", " + size +
         " (ciphertext " + std::to_string(p->ciphertext.size()) + ")";
}

}  // namespace

void e2e_layer::trace(output& out, bool outgoing, const std::string& peer, const std::string& kind,
                      const std::string& body) {
  if (!settings_.trace) return;
  const std::string who = peer.empty() ? std::string("the room") : printable(peer);
  out.events.emplace_back(e2e_shown_event{e2e_shown::trace, {},
                                          std::string("e2e ") + (outgoing ? "-> " : "<- ") + who + " " +
                                              printable(kind) + ": " + describe_body(kind, body),
                                          false, 0, false});
}

void e2e_layer::save() {
  if (settings_.save_pins) settings_.save_pins(pins());
}

void e2e_layer::on_welcome(const welcome_event& welcome, const crypto::public_key& server_key, output& out) {
  if (!settings_.enabled) return;
  own_name_ = welcome.name;
  engine_.emplace(own_, own_name_, server_key);
  engine_->observe_keys(settings_.keylog);
  std::size_t pinned = 0;
  for (const auto& user : welcome.users) pinned += saw_key(user.name, user.key, false, out) ? 1 : 0;
  if (pinned > 0) {
    save();
    notice(out, "pinned the end-to-end keys of " + std::to_string(pinned) + " users seen here for the first time");
  }
  e2e_output e;
  engine_->flush(e);
  drain(e, out);
}

bool e2e_layer::saw_key(const std::string& name, const std::string& key_hex, bool announce, output& out) {
  if (!engine_ || key_hex.empty()) return false;  // no key: a protocol 1 owner, no end-to-end possible
  const auto key = crypto::ed25519_public_key_from_hex(key_hex);
  const std::string who = printable(name);
  if (!key) {
    warning(out, "the server gave a malformed end-to-end key for " + who + "; ignored");
    return false;
  }
  if (fold_name(name) == fold_name(own_name_)) {
    // Others are told this key for us: a different one means the server is impersonating us.
    if (*key != own_.public_key()) {
      warning(out, "WARNING: the server lists another key than yours for you (" + crypto::fingerprint_v2(*key) +
                       "): it may be impersonating you to the others");
    }
    return false;
  }
  switch (pins().check(settings_.server, name, *key)) {
    case peer_pin_status::new_pin:
      if (announce) {
        save();
        notice(out, "pinned " + who + "'s end-to-end key on first sight: " + crypto::fingerprint_v2(*key));
      }
      engine_->on_directory(name, *key);
      return true;
    case peer_pin_status::pinned:
      engine_->on_directory(name, *key);
      if (changed_.erase(fold_name(name)) > 0) engine_->release(name);  // the pinned key is back
      return false;
    case peer_pin_status::changed:
      break;
  }
  const std::string pinned_fp = crypto::fingerprint_v2(*pins().pinned(settings_.server, name));
  if (settings_.accept_key_changes) {
    pins().accept(settings_.server, name, *key);
    save();
    engine_->on_directory(name, *key);
    warning(out, "WARNING: " + who + "'s end-to-end key CHANGED (was " + pinned_fp + ", now " +
                     crypto::fingerprint_v2(*key) + "); accepted because of --accept-peer-key-changes");
    return false;
  }
  if (const auto it = changed_.find(fold_name(name)); it != changed_.end() && it->second == *key) return false;
  changed_[fold_name(name)] = *key;
  engine_->on_directory(name, *key);
  engine_->hold(name);
  warning(out, "WARNING: the server gives a NEW end-to-end key for " + who + "\n" +  //
                   "  pinned: " + pinned_fp + "\n" +                                 //
                   "  now:    " + crypto::fingerprint_v2(*key) + "\n" +
                   "  Either " + who + " has a new identity, or the server is trying to read " + who +
                   "'s messages.\n  Nothing is sent to or read from " + who + " until you check with " + who +
                   " out of band and type /accept " + who);
  return false;
}

bool e2e_layer::on_message(const server_message& message, output& out) {
  if (!engine_) return false;
  const auto now = settings_.now();
  bool consumed = false;
  e2e_output e;
  std::visit(overloaded{
                 [&](const users_event& m) {
                   for (const auto& u : m.users) saw_key(u.name, u.key, true, out);
                 },
                 [&](const presence_event& m) {
                   if (m.joined) {
                     saw_key(m.name, m.key, true, out);
                   } else {
                     engine_->on_left(m.name);
                   }
                 },
                 [&](const whois_event& m) {
                   if (m.online) saw_key(m.name, m.key, true, out);
                 },
                 [&](const e2e_event& m) {
                   consumed = true;
                   trace(out, false, m.from, m.kind, m.body);
                   engine_->on_event(m, now, e);
                   // Keep the envelope's clock for what it carried.
                   for (auto& msg : e.messages) {
                     out.events.emplace_back(e2e_shown_event{e2e_shown::message, msg.from, std::move(msg.text),
                                                             msg.whisper, m.ts_ms, false});
                   }
                   e.messages.clear();
                 },
                 [&](const chat_event& m) {
                   // The server could read this one: say so on the line itself.
                   consumed = true;
                   out.events.emplace_back(e2e_shown_event{e2e_shown::not_end_to_end, m.from, m.text, m.whisper, m.ts_ms, false});
                 },
                 [](const auto&) {},
             },
             message);
  engine_->flush(e);
  drain(e, out);
  return consumed;
}

bool e2e_layer::send_text(const client_message& text, std::uint64_t ref, output& out) {
  if (!engine_) return false;
  const auto now = settings_.now();
  e2e_output e;
  bool ok = false;
  bool is_text = true;
  std::visit(overloaded{
                 [&](const say_request& m) {
                   ok = engine_->send_room(m.action ? std::string(e2e_action_prefix) + m.text : m.text, ref, now, e);
                 },
                 [&](const whisper_request& m) {
                   ok = engine_->send_whisper(m.to, m.action ? std::string(e2e_action_prefix) + m.text : m.text, ref,
                                              now, e);
                 },
                 [&](const auto&) { is_text = false; },
             },
             text);
  if (!is_text) return false;
  if (!ok) e.dropped.push_back({ref, "too many texts waiting for end-to-end sessions"});
  drain(e, out);
  return true;
}

void e2e_layer::on_control_refused(const std::string& to, output& out) {
  if (!engine_) return;
  e2e_output e;
  engine_->on_refused(to, settings_.now(), e);
  drain(e, out);
}

void e2e_layer::tick(output& out) {
  if (!engine_) return;
  e2e_output e;
  engine_->tick(settings_.now(), e);
  drain(e, out);
}

void e2e_layer::run(const e2e_user_command& cmd, output& out) {
  const std::string who = printable(cmd.name);
  if (!engine_) {
    notice(out, "end-to-end keys are not known yet (not joined)");
    return;
  }
  if (cmd.what == e2e_user_command::what::safety_number) {
    const auto number = engine_->safety_number(cmd.name);
    if (!number) {
      notice(out, "no end-to-end key known for " + who + " (not online?)");
      return;
    }
    // 12 groups of 5 on two lines, as the other side shows them.
    const std::string first = number->substr(0, 35);
    const std::string second = number->size() > 36 ? number->substr(36) : std::string();
    notice(out, "safety number with " + who + " (the same on both sides; compare it out of band):\n    " + first +
                    "\n    " + second);
    return;
  }
  const auto it = changed_.find(fold_name(cmd.name));
  if (it == changed_.end()) {
    notice(out, "no changed key to accept for " + who);
    return;
  }
  pins().accept(settings_.server, cmd.name, it->second);
  changed_.erase(it);
  save();
  engine_->release(cmd.name);
  notice(out, "accepted " + who + "'s new end-to-end key; /verify " + who + " to compare the safety number");
}

void e2e_layer::drain(e2e_output& from, output& out) {
  for (auto& s : from.send) {
    trace(out, true, s.request.to, s.request.kind, s.request.body);
    out.send.push_back(std::move(s));
  }
  for (auto& m : from.messages) {
    out.events.emplace_back(e2e_shown_event{e2e_shown::message, m.from, std::move(m.text), m.whisper, 0, false});
  }
  for (auto& w : from.warnings) warning(out, std::move(w));
  for (auto& n : from.notices) notice(out, std::move(n));
  for (auto& d : from.dropped) out.dropped.push_back(std::move(d));
  from = {};
}

}  // namespace natter::client
