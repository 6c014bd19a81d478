// The conversation's side of what the session reports: server messages, the connection's
// progress and end, reconnecting, and how each event is shown. What the person types (lines,
// commands, answers to questions, pastes) is conversation_input.cpp.
#include "natter/client/conversation.hpp"

#include <utility>

#include "natter/client/app.hpp"
#include "natter/client/mentions.hpp"
#include "natter/limits.hpp"
#include "natter/overloaded.hpp"
#include "natter/text.hpp"

namespace natter::client {

namespace {

bool same_name(std::string_view a, std::string_view b) { return fold_name(a) == fold_name(b); }

int exit_code_for(failure_kind kind) {
  switch (kind) {
    case failure_kind::runtime: return exit_failure;
    case failure_kind::key_mismatch: return exit_key_mismatch;
    case failure_kind::connection_lost: return exit_disconnected;
  }
  return exit_failure;
}

// "0.5 s", "4 s", "30 s": tenths only where they matter.
std::string format_delay(std::int64_t ms) {
  if (ms >= 9950) return std::to_string((ms + 500) / 1000) + " s";
  const std::int64_t tenths = (ms + 50) / 100;
  return std::to_string(tenths / 10) + (tenths % 10 ? "." + std::to_string(tenths % 10) : "") + " s";
}

}  // namespace

conversation::conversation(conversation_config config, verified_store verified, conversation_probes probes)
    : config_(std::move(config)),
      probes_(std::move(probes)),
      verification_(config_.server, std::move(verified)),
      outgoing_(config_.echo_sent, probes_.steady),
      max_text_(limits::max_text) {}

// ---- events ----------------------------------------------------------------------------------

void conversation::on_event(const client_event& event) {
  std::visit(overloaded{
                 [&](const server_message& m) { on_server_message(m); },
                 [&](const established_event& e) {
                   server_fingerprint_ = e.server_fingerprint;
                   server_key_ = e.server_key;
                   pin_ = e.pin;
                   show_formatted(event);
                 },
                 [&](const trust_request_event& t) {
                   out_.show(shown_kind::hint, "* the server " + printable(t.host) + " is not known. Its key fingerprint is");
                   out_.show(shown_kind::hint, "*   " + printable(t.fingerprint));
                   out_.show(shown_kind::hint, "* compare it with the one the server's operator gives you.");
                   ask(question{question_kind::trust_server, "", t.fingerprint, 0, {}});
                 },
                 [&](const failure_event& f) {
                   exit_code_ = std::max(exit_code_, exit_code_for(f.kind));
                   failures_.push_back(printable_lines(f.message));
                   show_formatted(event);
                 },
                 [&](const closed_event& c) { on_closed(c); },
                 [&](const reconnecting_event& r) { on_reconnecting(r); },
                 [&](const e2e_shown_event& e) { on_e2e_shown(e); },
                 [&](const auto&) { show_formatted(event); },
             },
             event);
}

void conversation::on_server_message(const server_message& message) {
  std::visit(overloaded{
                 [&](const welcome_event& w) { on_welcome(w); },
                 [&](const chat_event& c) {
                   const bool from_us = same_name(c.from, config_.own_name);
                   // A whisper to ourselves comes back; the echo, marked by its ack, already shows it.
                   if (c.whisper && from_us && same_name(c.to, config_.own_name) && config_.echo_sent) return;
                   const bool outgoing = from_us && !same_name(c.to, config_.own_name);
                   const shown_kind kind = !c.whisper ? shown_kind::chat
                                           : outgoing ? shown_kind::whisper_out
                                                      : shown_kind::whisper_in;
                   if (shown_line* shown = show_formatted(message, kind)) {
                     shown->from = printable(c.from);
                     const bool whispered = kind == shown_kind::whisper_in && !from_us;
                     shown->highlight = whispered || (kind == shown_kind::chat && mentions_name(c.text, config_.own_name));
                     shown->ring = shown->highlight && (whispered ? config_.bell_on_whisper : config_.bell_on_mention);
                   }
                   log(kind == shown_kind::chat          ? "<" + printable(c.from) + "> " + printable(c.text)
                       : kind == shown_kind::whisper_out ? whisper_out_text(printable(c.to), printable(c.text))
                                                         : "*" + printable(c.from) + "* (whisper) " + printable(c.text));
                 },
                 [&](const presence_event& p) {
                   if (p.joined) {
                     roster_.joined(p.name, p.fingerprint, p.key);
                   } else {
                     const auto it = roster_.users().find(fold_name(p.name));
                     if (p.reason == to_string(leave_reason::server_stopping) && it != roster_.users().end() &&
                         stopping_.size() < max_stopping_users) {
                       stopping_.emplace(it->first, it->second);
                     }
                     roster_.left(p.name);
                   }
                   show_formatted(message);
                   // The log keeps who came and went, not their fingerprints.
                   log("* " + printable(p.name) + (p.joined ? " joined" : " left (" + printable(p.reason) + ")"));
                 },
                 [&](const users_event& u) {
                   (void)outgoing_.on_answer(message, out_);
                   // The session hands over complete lists only (pages are joined), so replace.
                   roster_.replace(u.users, u.users.size());
                   show_formatted(message);
                 },
                 [&](const whois_event& w) {
                   (void)outgoing_.on_answer(message, out_);
                   roster_.saw_key(w.name, w.fingerprint, w.key);
                   show_formatted(message);
                   if (auto asked = verification_.on_whois(w, out_)) ask(std::move(*asked));
                 },
                 [&](const ack_event& a) {
                   (void)outgoing_.on_answer(message, out_);
                   // Our own lines are logged once the server took them, as others saw them.
                   for (const auto& said : outgoing_.take_acknowledged()) {
                     if (said.whisper) {
                       log(said.summary);
                       continue;
                     }
                     const std::string line =
                         own_room_label(said.route) + (said.action ? action_text(config_.own_name, said.summary)
                                                                   : "<" + config_.own_name + "> " + said.summary);
                     log(line);
                     // Line mode shows no echo of what was typed; a text the server could read
                     // is repeated, labelled, so a pipe's output says so too.
                     if (!config_.echo_sent && said.route == room_route::in_the_clear) {
                       out_.show(shown_kind::own_chat, format_clock(a.ts_ms, config_.utc, config_.clock_format) + " " + line);
                     }
                   }
                 },
                 [&](const error_event& e) {
                   verification_.on_error(e);
                   fail_script();
                   // A refused say/whisper is marked or named; any other error is shown as it is.
                   if (!outgoing_.on_answer(message, out_)) show_formatted(message);
                 },
                 [&](const bye_event& b) {
                   bye_ = b;
                   // "quit" only ever answers our own quit (/quit, Ctrl-D, a signal): nothing to announce.
                   if (b.reason != "quit") show_formatted(message);
                 },
                 [&](const auto&) { show_formatted(message); },
             },
             message);
}

void conversation::on_room_state(const e2e_shown_event& e) {
  room_open_ = e.kind == e2e_shown::room_open;
  room_members_ = e.room_members;
  // Loud either way: what the next room text is worth changed.
  show_formatted(client_event{e}, room_open_ ? shown_kind::error : shown_kind::notice);
  log((room_open_ ? "[not e2e] " : "[e2e] ") + printable(e.text));
  if (room_open_ && config_.require_e2e) {
    out_.show(shown_kind::error, "! --require-e2e is set: room texts are not sent while the room is open (whispers are)");
  }
}

std::string conversation::own_room_label(room_route route) const {
  if (!end_to_end_) return {};
  return route == room_route::in_the_clear ? "[not e2e] " : "[e2e] ";
}

void conversation::on_e2e_shown(e2e_shown_event e) {
  end_to_end_ = true;
  if (e.kind == e2e_shown::room_open || e.kind == e2e_shown::room_end_to_end) {
    on_room_state(e);
    return;
  }
  if ((e.kind == e2e_shown::message || e.kind == e2e_shown::not_end_to_end) && e.text.starts_with(e2e_action_prefix)) {
    e.action = true;
    e.text.erase(0, e2e_action_prefix.size());
  }
  if (!e.to.empty()) {
    // Our own whisper, acknowledged: the full screen's echo already shows it.
    if (!config_.echo_sent) show_formatted(client_event{e}, shown_kind::whisper_out);
    return;
  }
  const bool text = e.kind == e2e_shown::message || e.kind == e2e_shown::not_end_to_end;
  // ✓ only for a text the body authenticated, from a key the user compared (/verify).
  e.verified = e.kind == e2e_shown::message && [&] {
    const auto it = roster_.users().find(fold_name(e.from));
    return it != roster_.users().end() && verification_.user_verified(e.from, it->second.key);
  }();
  const shown_kind kind = e.kind == e2e_shown::trace ? shown_kind::trace
                          : !text ? (e.kind == e2e_shown::warning ? shown_kind::error : shown_kind::info)
                          : e.whisper ? shown_kind::whisper_in
                                      : shown_kind::chat;
  if (shown_line* shown = show_formatted(client_event{e}, kind); shown && text) {
    shown->from = printable(e.from);
    shown->highlight = e.whisper || mentions_name(e.text, config_.own_name);
    shown->ring = shown->highlight && config_.bell_on_mention;
  }
  if (text) {
    // The chat log keeps what the screen said, the label included.
    const std::string label = e.kind == e2e_shown::message ? "[e2e] " : "[not e2e] ";
    log(label + (e.action ? action_text(printable(e.from), printable(e.text))
                          : (e.whisper ? "*" + printable(e.from) + "* (whisper) " : "<" + printable(e.from) + "> ") +
                                printable(e.text)));
  }
}

void conversation::on_welcome(const welcome_event& welcome) {
  joined_ = true;
  config_.own_name = welcome.name;
  if (welcome.max_text > 0) max_text_ = std::min<std::size_t>(limits::max_text, welcome.max_text);
  roster_.replace(welcome.users, welcome.user_count);
  outgoing_.follow(welcome);
  const auto away = std::exchange(away_, std::nullopt);
  stopping_.clear();
  if (away) out_.show(shown_kind::notice, "* reconnected to " + printable(config_.server));
  if (std::exchange(open_before_reconnect_, false) && !room_open_) {
    out_.show(shown_kind::notice, "* [e2e] lobby has " + std::to_string(welcome.user_count) +
                                      " members: room texts are end-to-end again");
  }
  show_formatted(server_message{welcome});
  if (away) {
    const std::string changed = away_summary(*away, {welcome.users, welcome.user_count <= welcome.users.size()});
    if (!changed.empty()) out_.show(shown_kind::info, "* while you were away: " + changed);
  } else if (config_.interactive) {
    out_.show(shown_kind::hint, std::string("* type /help for commands") + (config_.keys_help.empty() ? "" : " and keys") +
                                    ", /quit to leave");
  }
  // Lines typed (or piped) before the join run now, in order.
  while (!waiting_for_join_.empty()) {
    waiting_line line = std::move(waiting_for_join_.front());
    waiting_for_join_.pop_front();
    run_line(std::move(line.text), line.typed_at_ms);
  }
  release_finished_lines();
}

void conversation::on_closed(const closed_event& closed) {
  outgoing_.on_closed(out_);
  closed_ = true;
  closed_after_quit_ = closed.after_quit;
  away_.reset();
  question_.reset();
  paste_.clear();
  if (!closed.bye_received || closed.after_quit) return;
  // The server sent us away for good (a kick; or a stop that was not retried: a pipe, or the
  // reconnecting gave up, which said so itself). The reason is repeated on the normal screen.
  const bool kicked = bye_ && bye_->reason == to_string(leave_reason::kicked);
  exit_code_ = std::max(exit_code_, kicked ? exit_kicked : exit_disconnected);
  // Shown now (line mode's last line on stderr) and kept for the normal screen after the full one.
  const auto say_why = [this](std::string why) {
    out_.show(shown_kind::error, "natter: " + why);
    failures_.push_back(std::move(why));
  };
  if (kicked) {
    const bool said_why = !bye_->message.empty() && bye_->message != kick_without_reason;
    say_why("kicked by the operator" + (said_why ? ": " + printable(bye_->message) : std::string{}));
  } else if (bye_ && bye_->reason == to_string(leave_reason::server_stopping)) {
    say_why("the server stopped");
  } else {
    say_why("the server closed the connection" + (bye_ ? " (" + printable(bye_->reason) + ")" : std::string{}));
  }
}

void conversation::on_reconnecting(const reconnecting_event& reconnecting) {
  const bool first = !away_;
  if (first) {
    // Who was here, to tell after the welcome who came and went meanwhile.
    away_ = user_list_view{{}, roster_.online_count() <= roster_.users().size()};
    for (const auto& [folded, user] : roster_.users()) away_->users.push_back(user);
    for (const auto& [folded, user] : std::exchange(stopping_, {})) away_->users.push_back(user);
    outgoing_.on_closed(out_);  // unacknowledged lines may or may not have arrived: failed
    joined_ = false;
    // The next connection's session says again if the room is open (before its welcome).
    open_before_reconnect_ = room_open_;
    room_open_ = false;
    bye_.reset();
  }
  // A question about this connection (a paste, /verify, the trust of a failed attempt) cannot
  // be answered on the next one.
  question_.reset();
  paste_.clear();
  reconnect_at_ms_ = probes_.steady() + reconnecting.delay_ms;
  const std::string wait = "in " + format_delay(reconnecting.delay_ms);
  if (first) {
    out_.show(shown_kind::notice, "* " + printable(reconnecting.reason) + "; reconnecting " + wait +
                                      (config_.interactive ? " (/quit leaves)" : ""));
  } else {
    out_.show(shown_kind::notice, "* attempt " + std::to_string(reconnecting.attempt - 1) + " failed: " +
                                      printable(reconnecting.reason) + "; next " + wait);
  }
}

std::optional<std::int64_t> conversation::reconnect_wait_ms() const {
  if (!away_) return std::nullopt;
  return std::max<std::int64_t>(0, reconnect_at_ms_ - probes_.steady());
}

shown_line* conversation::show_formatted(const client_event& event, std::optional<shown_kind> kind) {
  const auto line = format_event(event, format_options{config_.own_name, config_.utc, config_.clock_format});
  if (!line) return nullptr;
  if (!kind) {
    switch (line->where) {
      case channel::chat: kind = shown_kind::info; break;
      case channel::trace: kind = shown_kind::trace; break;
      case channel::error:
        kind = std::holds_alternative<notice_event>(event) ? shown_kind::notice : shown_kind::error;
        break;
    }
  }
  if (kind == shown_kind::trace && !config_.trace) return nullptr;
  out_.show(*kind, line->text);
  return &out_.lines.back();
}

// ---- views -----------------------------------------------------------------------------------

bool conversation::user_verified(const user_info& user) const {
  return verification_.user_verified(user.name, user.key);
}

std::string conversation::server_key_state() const {
  if (verification_.server_verified(server_key_)) return "verified ✓";
  return pin_ == pin_state::new_pin ? "new" : "pinned";
}

void conversation::log(const std::string& text) {
  if (!config_.log) return;
  if (auto error = config_.log(text)) {
    // Said once: a log that cannot be written must not fill the screen with the same error.
    config_.log = nullptr;
    out_.show(shown_kind::error, "! chat log: " + printable(*error) + "; nothing more is logged");
  }
}

void conversation::fail_script() {
  if (!config_.interactive) exit_code_ = std::max(exit_code_, exit_failure);
}

int conversation::exit_code() const {
  // A script learns that some of its lines were refused (by the server or as too large).
  if (!config_.interactive && probes_.progress().refused > 0) return std::max(exit_code_, exit_failure);
  return exit_code_;
}

}  // namespace natter::client
