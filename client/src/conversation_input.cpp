// The conversation's side of what the person does: answers to its y/N questions, typed lines
// and commands, pastes, the end of input, and the pacing of what waits to be sent. What the
// session reports is conversation.cpp.
#include <utility>

#include "natter/client/conversation.hpp"
#include "natter/limits.hpp"
#include "natter/overloaded.hpp"
#include "natter/text.hpp"

namespace natter::client {

namespace {

// The reason if `line` is a valid /quit.
std::optional<std::string> quit_reason(std::string_view line) {
  command cmd = parse_command(line, limits::max_text);
  if (auto* quit = std::get_if<quit_command>(&cmd)) return std::move(quit->reason);
  return std::nullopt;
}

}  // namespace

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
  } else if (auto reason = quit_reason(line); reason && (config_.interactive || away_)) {
    // A person who types /quit while connecting means now; so does anyone while reconnecting
    // (there is nobody to say it to, and nothing else would end the wait).
    quit(std::move(*reason));
  } else if (waiting_for_join_.size() >= max_waiting_lines) {
    out_.show(shown_kind::error, "! not joined yet and too many lines waiting; line dropped");
    fail_script();
  } else {
    if (away_ && config_.interactive && waiting_for_join_.empty()) {
      out_.show(shown_kind::hint, "* not connected: lines are sent once reconnected");
    }
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
    auto asked = verification_.start(argument, server_fingerprint_, server_key_, out_);
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
            // The route is decided here, with the label, and the session keeps to it: a line is
            // never shown as end to end when it went out in the clear.
            const room_route route = end_to_end_ && room_open_ ? room_route::in_the_clear : room_route::end_to_end;
            if (route == room_route::in_the_clear && config_.require_e2e) {
              out_.show(shown_kind::error, "! " + require_e2e_refusal(room_members_) + ": " + printable(c.text));
              fail_script();
              return;
            }
            // Broadcasts are not echoed to their sender (PROTOCOL.md §5), so we show our own,
            // pending until the server's ack.
            const std::string clock = format_clock(typed_at_ms, config_.utc, config_.clock_format) + " " +
                                      own_room_label(route);
            const auto id = outgoing_.show(shown_kind::own_chat,
                                           c.action ? clock + action_text(config_.own_name, c.text)
                                                    : clock + "<" + config_.own_name + "> " + c.text,
                                           config_.own_name, out_);
            if (!outgoing_.send(say_request{std::move(c.text), {}, c.action}, id, out_, route)) fail_script();
          },
          [&](whisper_command& c) {
            // The server's spelling of the name, as the recipient's own lines show it.
            const std::string to = roster_.spelling_of(c.to);
            const auto id = outgoing_.show(
                shown_kind::whisper_out,
                format_clock(typed_at_ms, config_.utc, config_.clock_format) + " " + whisper_out_text(printable(to), c.text),
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
          [&](away_command& c) {
            out_.show(shown_kind::info, c.message.empty() ? std::string("* you are back (no longer marked away)")
                                                          : "* you are marked away: " + printable(c.message));
            out_.act(send_action{away_request{std::move(c.message), {}}});
          },
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
  ask(question{question_kind::send_paste, "", "", paste_.size(), {}});
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
  // may the reader hand over more (a huge piped file never piles up in memory). The window
  // counts what this conversation knows it sent as well as what the session reports: the
  // session's count (probes_) lags behind the requests still on their way to it, and a script
  // faster than the I/O thread would otherwise hand over thousands of texts in that lag, which
  // then leave at once (end to end: when their sessions are ready) and overflow the client's
  // outgoing buffer.
  const auto in_flight = [this] {
    std::size_t ours = outgoing_.awaiting_answer();
    for (const auto& action : out_.actions) ours += std::holds_alternative<send_action>(action) ? 1 : 0;
    return std::max(probes_.progress().unacknowledged, ours);
  };
  while (held_lines_ > 0 && waiting_for_join_.empty() && outgoing_.idle() &&
         (config_.interactive || in_flight() < send_window)) {
    --held_lines_;
    ++finished_lines_;
  }
}

std::vector<conversation_action> conversation::take_actions() {
  // The UI hands these to the session in this order, so this is the order answers come in.
  outgoing_.handed_over(out_.actions);
  return std::exchange(out_.actions, {});
}

}  // namespace natter::client
