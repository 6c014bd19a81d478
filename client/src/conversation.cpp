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

// The reason if `line` is a valid /quit.
std::optional<std::string> quit_reason(std::string_view line) {
  command cmd = parse_command(line, limits::max_text);
  if (auto* quit = std::get_if<quit_command>(&cmd)) return std::move(quit->reason);
  return std::nullopt;
}

// Each line made printable on its own: the key-change warning is several lines, and printable()
// of the whole text would turn its newlines into U+FFFD and the warning into one long line.
std::string printable_lines(std::string_view text) {
  std::string out;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find('\n', start);
    out += printable(text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) break;
    out += '\n';
    start = end + 1;
  }
  return out;
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
                   pin_ = e.pin;
                   show_formatted(event);
                 },
                 [&](const trust_request_event& t) {
                   out_.show(shown_kind::hint, "* the server " + printable(t.host) + " is not known. Its key fingerprint is");
                   out_.show(shown_kind::hint, "*   " + printable(t.fingerprint));
                   out_.show(shown_kind::hint, "* compare it with the one the server's operator gives you.");
                   ask(question{question_kind::trust_server, "", t.fingerprint});
                 },
                 [&](const failure_event& f) {
                   exit_code_ = std::max(exit_code_, f.kind == failure_kind::key_mismatch ? exit_key_mismatch : exit_failure);
                   failures_.push_back(printable_lines(f.message));
                   show_formatted(event);
                 },
                 [&](const closed_event& c) { on_closed(c); },
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
                     shown->highlight = (kind == shown_kind::whisper_in && !from_us) ||
                                        (kind == shown_kind::chat && mentions_name(c.text, config_.own_name));
                     shown->ring = shown->highlight && config_.bell_on_mention;
                   }
                 },
                 [&](const presence_event& p) {
                   if (p.joined) {
                     roster_.joined(p.name, p.fingerprint);
                   } else {
                     roster_.left(p.name);
                   }
                   show_formatted(message);
                 },
                 [&](const users_event& u) {
                   (void)outgoing_.on_answer(message, out_);
                   // The session hands over complete lists only (pages are joined), so replace.
                   roster_.replace(u.users, u.users.size());
                   show_formatted(message);
                 },
                 [&](const whois_event& w) {
                   (void)outgoing_.on_answer(message, out_);
                   roster_.saw_fingerprint(w.name, w.fingerprint);
                   show_formatted(message);
                   if (auto asked = verification_.on_whois(w, out_)) ask(std::move(*asked));
                 },
                 [&](const ack_event&) { (void)outgoing_.on_answer(message, out_); },
                 [&](const error_event& e) {
                   verification_.on_error(e);
                   fail_script();
                   // A refused say/whisper is marked or named; any other error is shown as it is.
                   if (!outgoing_.on_answer(message, out_)) show_formatted(message);
                 },
                 [&](const bye_event& b) {
                   // "quit" only ever answers our own quit (/quit, Ctrl-D, a signal): nothing to announce.
                   if (b.reason != "quit") show_formatted(message);
                 },
                 [&](const auto&) { show_formatted(message); },
             },
             message);
}

void conversation::on_e2e_shown(e2e_shown_event e) {
  end_to_end_ = true;
  if (!e.to.empty()) {
    // Our own whisper, acknowledged: the full screen's echo already shows it.
    if (!config_.echo_sent) show_formatted(client_event{e}, shown_kind::whisper_out);
    return;
  }
  const bool text = e.kind == e2e_shown::message || e.kind == e2e_shown::not_end_to_end;
  // ✓ only for a text the body authenticated, from a key the user compared (/verify).
  e.verified = e.kind == e2e_shown::message && [&] {
    const auto it = roster_.users().find(fold_name(e.from));
    return it != roster_.users().end() && verification_.user_verified(e.from, it->second.fingerprint);
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
}

void conversation::on_welcome(const welcome_event& welcome) {
  joined_ = true;
  config_.own_name = welcome.name;
  if (welcome.max_text > 0) max_text_ = std::min<std::size_t>(limits::max_text, welcome.max_text);
  roster_.replace(welcome.users, welcome.user_count);
  outgoing_.follow(welcome);
  show_formatted(server_message{welcome});
  if (config_.interactive) {
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
  question_.reset();
  paste_.clear();
  // A server that sends us away (kicked, stopping, timeout) is a failure, but the expected end
  // for a --stay receiver.
  if (closed.bye_received && !closed.after_quit && !config_.stay) exit_code_ = std::max(exit_code_, exit_failure);
}

shown_line* conversation::show_formatted(const client_event& event, std::optional<shown_kind> kind) {
  const auto line = format_event(event, format_options{config_.own_name, config_.utc});
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

// ---- questions -------------------------------------------------------------------------------

void conversation::ask(question asked) {
  out_.show(shown_kind::prompt, prompt_text(asked));
  question_ = std::move(asked);
}

void conversation::answer(bool yes) {
  const question asked = std::move(*question_);
  question_.reset();
  if (asked.kind == question_kind::trust_server) {
    out_.act(trust_action{yes});
  } else if (asked.kind == question_kind::send_paste) {
    auto lines = std::exchange(paste_, {});
    if (!yes) {
      out_.show(shown_kind::info, "* the " + std::to_string(lines.size()) + " pasted lines were not sent");
      return;
    }
    for (auto& line : lines) run_command(parse_text(line, max_text_), pasted_at_ms_);
  } else {
    verification_.answer(asked, yes, out_);
  }
}

void conversation::on_reply(std::string line, std::int64_t typed_at_ms) {
  const reply r = read_reply(line);
  if (r != reply::not_an_answer) {
    answer(r == reply::yes);
    return;
  }
  if (question_->kind == question_kind::trust_server) {
    // Nothing can be sent before the server is trusted, so the line cannot be what the person
    // meant to do now: ask again rather than read it as an answer.
    out_.show(shown_kind::hint, "* please answer y or n; \"" + printable(line) + "\" was not sent");
    out_.show(shown_kind::prompt, prompt_text(*question_));
    return;
  }
  // After the join the person has moved on ("hello" typed at a /verify question): the question
  // gets the safe answer, and the line does what it would have done without it.
  answer(false);
  run_line(std::move(line), typed_at_ms);
}

void conversation::leave() {
  if (question_ && question_->kind == question_kind::trust_server) {
    question_.reset();
    out_.act(trust_action{false});  // the driver closes without sending anything
    return;
  }
  quit("");
}

void conversation::quit(std::string reason) {
  if (quitting_) return;
  quitting_ = true;
  out_.act(quit_action{std::move(reason)});
}

// ---- input ---------------------------------------------------------------------------------

void conversation::on_line(std::string line, std::int64_t typed_at_ms) {
  ++held_lines_;
  if (question_) {
    on_reply(std::move(line), typed_at_ms);
  } else if (closed_) {
    // Nothing to do with it: the UI is about to end.
  } else if (joined_) {
    run_line(std::move(line), typed_at_ms);
  } else if (auto reason = quit_reason(line); reason && config_.interactive) {
    quit(std::move(*reason));  // a person who types /quit while connecting means now
  } else if (waiting_for_join_.size() >= max_waiting_lines) {
    out_.show(shown_kind::error, "! not joined yet and too many lines waiting; line dropped");
    fail_script();
  } else {
    waiting_for_join_.push_back({std::move(line), typed_at_ms});
  }
  release_finished_lines();
}

void conversation::run_line(std::string line, std::int64_t typed_at_ms) {
  // /verify needs a person to answer (in a script the next line would); the parser knows all else.
  // /accept NAME: a peer's changed end-to-end key is accepted (the end-to-end layer held it).
  if (line.starts_with("/accept ")) {
    out_.act(e2e_command_action{{e2e_user_command::what::accept_key, line.substr(8)}});
    return;
  }
  if (config_.interactive && (line == "/verify" || line.starts_with("/verify "))) {
    const std::string_view argument = std::string_view(line).substr(std::min(line.size(), std::string_view("/verify ").size()));
    auto asked = verification_.start(argument, server_fingerprint_, out_);
    // With a name: also the pair's safety number, to compare out of band (E2E.md §7).
    if (!argument.empty()) out_.act(e2e_command_action{{e2e_user_command::what::safety_number, std::string(argument)}});
    if (asked) ask(std::move(*asked));
    return;
  }
  run_command(parse_command(line, max_text_), typed_at_ms);
}

void conversation::run_command(command cmd, std::int64_t typed_at_ms) {
  std::visit(
      overloaded{
          [&](say_command& c) {
            // Broadcasts are not echoed to their sender (PROTOCOL.md §5), so we show our own,
            // pending until the server's ack.
            const auto id = outgoing_.show(
                shown_kind::own_chat, format_clock(typed_at_ms, config_.utc) + " <" + config_.own_name + "> " + c.text,
                config_.own_name, out_);
            if (!outgoing_.send(say_request{std::move(c.text), {}}, id, out_)) fail_script();
          },
          [&](whisper_command& c) {
            // The server's spelling of the name, as the recipient's own lines show it.
            const std::string to = roster_.spelling_of(c.to);
            const auto id = outgoing_.show(
                shown_kind::whisper_out,
                format_clock(typed_at_ms, config_.utc) + " " + whisper_out_text(printable(to), c.text),
                config_.own_name, out_);
            if (!outgoing_.send(whisper_request{std::move(c.to), std::move(c.text), {}}, id, out_)) fail_script();
          },
          [&](users_command&) { out_.act(send_action{users_request{}}); },
          [&](whois_command& c) { out_.act(send_action{whois_request{std::move(c.name), {}}}); },
          [&](fingerprint_command&) { show_fingerprints(); },
          [&](help_command&) {
            out_.show(shown_kind::info, std::string(command_help()));
            if (!config_.keys_help.empty()) out_.show(shown_kind::info, config_.keys_help);
          },
          [&](clear_command&) {
            if (config_.can_clear) {
              out_.act(clear_view_action{});
            } else {
              out_.show(shown_kind::hint, "* /clear empties the full screen's pane; here the terminal keeps the lines");
            }
          },
          [&](quit_command& c) { quit(std::move(c.reason)); },
          [](empty_command&) {},
          [&](command_error& e) {
            out_.show(shown_kind::error, "! " + e.message);
            fail_script();
          },
      },
      cmd);
}

void conversation::show_fingerprints() {
  out_.show(shown_kind::info, "* your fingerprint: " + config_.own_fingerprint);
  if (server_fingerprint_.empty()) return;
  out_.show(shown_kind::info, "* server " + config_.server + ": " + server_fingerprint_ + " (" + server_key_state() + ")");
}

void conversation::on_paste(std::vector<std::string> lines, std::int64_t pasted_at_ms) {
  // Blank lines would be refused one by one ("nothing to send"); they are not worth asking about.
  std::erase_if(lines, [](const std::string& line) { return line.find_first_not_of(" \t\r") == std::string::npos; });
  if (lines.empty() || closed_) return;
  if (!joined_ || question_) {
    out_.show(shown_kind::error, question_ ? "! answer the question first; the paste was not sent"
                                           : "! not joined yet; the paste was not sent");
    return;
  }
  paste_ = std::move(lines);
  pasted_at_ms_ = pasted_at_ms;
  ask(question{question_kind::send_paste, "", "", paste_.size()});
}

void conversation::on_input_end() {
  if (config_.interactive) {
    leave();  // Ctrl-D is /quit
    return;
  }
  input_ended_ = true;  // tick() decides when to leave
}

void conversation::tick() {
  outgoing_.release(out_);
  release_finished_lines();
  // A script's end of input: once joined (lines read early are sent on welcome), linger for
  // --wait-ms if asked, then quit as soon as every say/whisper is acknowledged. --stay never
  // quits by itself: the server or a signal ends it.
  if (!input_ended_ || !joined_ || quitting_ || config_.stay || !outgoing_.idle()) return;
  const std::int64_t now = probes_.steady();
  if (config_.wait_ms && !linger_until_ms_) linger_until_ms_ = now + *config_.wait_ms;
  if (linger_until_ms_ && now < *linger_until_ms_) return;
  quit("");
}

void conversation::release_finished_lines() {
  // A line is finished once nothing of it waits here and the send window has room: only then
  // may the reader hand over more (a huge piped file never piles up in memory).
  while (held_lines_ > 0 && waiting_for_join_.empty() && outgoing_.idle() &&
         (config_.interactive || probes_.progress().unacknowledged < send_window)) {
    --held_lines_;
    ++finished_lines_;
  }
}

std::vector<conversation_action> conversation::take_actions() {
  // The UI hands these to the session in this order, so this is the order answers come in.
  outgoing_.handed_over(out_.actions);
  return std::exchange(out_.actions, {});
}

// ---- views -----------------------------------------------------------------------------------

bool conversation::user_verified(const user_info& user) const {
  return verification_.user_verified(user.name, user.fingerprint);
}

std::string conversation::server_key_state() const {
  if (verification_.server_verified(server_fingerprint_)) return "verified ✓";
  return pin_ == pin_state::new_pin ? "new" : "pinned";
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
