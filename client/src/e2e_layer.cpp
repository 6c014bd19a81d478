#include "natter/client/e2e_layer.hpp"

#include <utility>

#include "natter/crypto/e2e_base64.hpp"
#include "natter/crypto/e2e_wire.hpp"
#include "natter/crypto/fingerprint_v2.hpp"
#include "natter/overloaded.hpp"
#include "natter/text.hpp"

namespace natter::client {

e2e_layer::e2e_layer(const crypto::identity_v2& own, e2e_settings settings)
    : own_(own), settings_(std::move(settings)), directory_(settings_.room_limit) {}

e2e_layer::~e2e_layer() {
  try {
    if (pins_dirty_) save_pins_now();  // on close: what was pinned is kept
  } catch (...) {  // NOLINT(bugprone-empty-catch): a destructor must not throw; save_pins reports its own errors
  }
  for (auto& held : held_) {
    std::visit(overloaded{[](say_request& m) { crypto::e2e::wipe(m.text); },
                          [](whisper_request& m) { crypto::e2e::wipe(m.text); }, [](auto&) {}},
               held.text);
  }
}

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

void e2e_layer::save_pins_now() {
  pins_dirty_ = false;
  pins_saved_at_ = settings_.now();
  if (settings_.save_pins) settings_.save_pins(pins());
}

// The order that matters: a key is *used* only once it is on disk. Until then, losing it in a
// crash costs nothing, since the next run meets it on first sight again just as this one did.
// Once we have sealed something for a key (a handshake, a key, a text) or shown a text opened
// with it, we have trusted it; if it were then lost, the next run would pin whatever key the
// server gave for that name without a word, and a substitution between the runs would go
// unseen. So: before any body leaves the layer (the session writes it to the socket after this
// returns) or any opened text is shown, the pins are saved. A pin notice may come first: it
// trusts nothing.
// Otherwise a pin is saved at once if the file was not saved in the last pins_save_interval:
// one peer joining costs one save, off the path of the handshake that follows (which would
// otherwise wait for the fsyncs), and only a storm is batched, by the tick.
void e2e_layer::settle_pins(const output& out) {
  if (!pins_dirty_) return;
  bool uses_keys = !out.send.empty();
  for (const auto& event : out.events) {
    const auto* shown = std::get_if<e2e_shown_event>(&event);
    uses_keys = uses_keys || (shown && shown->kind == e2e_shown::message);
  }
  if (uses_keys || !pins_saved_at_ || settings_.now() - *pins_saved_at_ >= pins_save_interval) save_pins_now();
}

void e2e_layer::on_welcome(const welcome_event& welcome, const crypto::public_key& server_key, output& out) {
  if (!settings_.enabled) return;
  own_name_ = welcome.name;
  engine_.emplace(own_, own_name_, server_key);
  engine_->observe_keys(settings_.keylog);
  std::size_t pinned = 0;
  for (const auto& user : welcome.users) pinned += saw_key(user.name, user.key, false, out) ? 1 : 0;
  if (directory_.on_welcome(welcome, settings_.now())) {
    // The rest come in pages: one pin notice and one room code once they are all known.
    pinned_while_paging_ = pinned;
    notice(out, "the server lists " + std::to_string(welcome.users.size()) + " of " +
                    std::to_string(welcome.user_count) +
                    " members at first; room texts wait until the rest are listed");
    report_room_change(out);
    return;
  }
  if (pinned > 0) {
    notice(out, "pinned the end-to-end keys of " + std::to_string(pinned) + " users seen here for the first time");
  }
  report_room_change(out);
  e2e_output e;
  engine_->flush(e);
  drain(e, out);
  settle_pins(out);
}

void e2e_layer::on_directory_page(const users_event& page, output& out) {
  if (!engine_) return;
  directory_.on_listed(page.users);
  for (const auto& user : page.users) pinned_while_paging_ += saw_key(user.name, user.key, false, out) ? 1 : 0;
  if (!page.more) directory_done(out);
  settle_pins(out);
}

void e2e_layer::on_directory_refused(output& out) {
  if (!engine_ || directory_.is_complete()) return;
  warning(out, "the server did not list every member (" + std::to_string(directory_.members()) +
                   " counted): those it did not list cannot read our room texts");
  directory_done(out);
  settle_pins(out);
}

void e2e_layer::directory_done(output& out) {
  directory_.complete();
  if (const std::size_t pinned = std::exchange(pinned_while_paging_, 0); pinned > 0) {
    notice(out, "pinned the end-to-end keys of " + std::to_string(pinned) + " users seen here for the first time");
  }
  report_room_change(out);
  e2e_output e;
  engine_->flush(e);
  drain(e, out);
  release_held(out);
}

void e2e_layer::report_room_change(output& out) {
  const auto open = directory_.take_change();
  if (!open) return;
  const std::size_t members = directory_.members();
  const std::string count = "lobby has " + std::to_string(members) + " members, ";
  const std::string limit = std::to_string(directory_.limit());
  if (*open) {
    out.events.emplace_back(e2e_shown_event{e2e_shown::room_open, {},
                                            count + "more than " + limit +
                                                ": room texts are NOT end-to-end, the server can read them"
                                                " (whispers still are)",
                                            false, 0, false, {}, false, members});
  } else {
    out.events.emplace_back(e2e_shown_event{e2e_shown::room_end_to_end, {},
                                            count + limit + " at most: room texts are end-to-end again", false, 0,
                                            false, {}, false, members});
  }
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
      pins_dirty_ = true;
      if (announce) {
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
    pins_dirty_ = true;
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
                   directory_.on_listed(m.users);
                   for (const auto& u : m.users) saw_key(u.name, u.key, true, out);
                 },
                 [&](const presence_event& m) {
                   if (m.joined) {
                     directory_.on_joined(m.name);
                     saw_key(m.name, m.key, true, out);
                   } else {
                     directory_.on_left(m.name);
                     engine_->on_left(m.name);
                   }
                   report_room_change(out);
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
  // While paging, the room code waits for the whole directory.
  if (directory_.is_complete()) engine_->flush(e);
  drain(e, out);
  release_held(out);  // an event may have let the engine's queue go, and a plain say behind it
  settle_pins(out);
  return consumed;
}

bool e2e_layer::send_text(const client_message& text, std::uint64_t ref, room_route route, output& out) {
  if (!engine_) return false;
  const bool is_say = std::holds_alternative<say_request>(text);
  if (!is_say && !std::holds_alternative<whisper_request>(text)) return false;
  const bool in_the_clear = is_say && route == room_route::in_the_clear;
  if (in_the_clear && settings_.require_e2e) {
    out.dropped.push_back({ref, require_e2e_refusal(directory_.members())});
    return true;
  }
  if (held_.size() + engine_->waiting() >= max_waiting_texts) {
    out.dropped.push_back({ref, "too many texts waiting for end-to-end sessions"});
    return true;
  }
  held_.push_back({ref, text, in_the_clear});
  release_held(out);
  settle_pins(out);
  return true;
}

void e2e_layer::release_held(output& out) {
  if (!engine_) return;
  const auto now = settings_.now();
  while (!held_.empty()) {
    held_text& head = held_.front();
    if (head.in_the_clear) {
      // A plain say needs no keys, only its turn: everything given before it has left.
      if (engine_->waiting() > 0) return;
      say_request say = std::get<say_request>(std::move(head.text));
      say.ref = head.ref;
      out.send.push_back({std::move(say), head.ref});
      held_.pop_front();
      continue;
    }
    if (!directory_.is_complete()) return;  // sealed now, the unlisted members could not read it
    e2e_output e;
    bool ok = false;
    std::visit(overloaded{
                   [&](say_request& m) {
                     ok = engine_->send_room(m.action ? std::string(e2e_action_prefix) + m.text : std::move(m.text),
                                             head.ref, now, e);
                     crypto::e2e::wipe(m.text);
                   },
                   [&](whisper_request& m) {
                     ok = engine_->send_whisper(m.to, m.action ? std::string(e2e_action_prefix) + m.text : std::move(m.text),
                                                head.ref, now, e);
                     crypto::e2e::wipe(m.text);
                   },
                   [&](auto&) { ok = true; },
               },
               head.text);
    if (!ok) e.dropped.push_back({head.ref, "too many texts waiting for end-to-end sessions"});
    held_.pop_front();
    drain(e, out);
  }
}

void e2e_layer::on_control_refused(const std::string& to, std::string_view kind, std::string_view code,
                                   output& out) {
  if (!engine_) return;
  e2e_output e;
  engine_->on_refused(to, kind, code, settings_.now(), e);
  drain(e, out);
  release_held(out);
  settle_pins(out);
}

void e2e_layer::tick(output& out) {
  if (!engine_) return;
  const auto now = settings_.now();
  if (directory_.overdue(now)) {
    warning(out, "the server did not finish listing the members in " + std::to_string(directory_timeout.count()) +
                     " s: room texts go to the " + std::to_string(directory_.listed()) +
                     " it listed; any others cannot read them");
    directory_done(out);
  }
  e2e_output e;
  engine_->tick(now, e);
  drain(e, out);
  release_held(out);
  if (pins_dirty_) save_pins_now();  // a second at most after the pins of a join storm
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
  save_pins_now();  // the user's own decision: kept at once
  engine_->release(cmd.name);
  notice(out, "accepted " + who + "'s new end-to-end key; /verify " + who + " to compare the safety number");
}

void e2e_layer::drain(e2e_output& from, output& out) {
  for (auto& s : from.send) {
    trace(out, true, s.request.to, s.request.kind, s.request.body);
    out.send.push_back({std::move(s.request), s.tag});
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
