#include "natter/client/tui_state.hpp"

#include <algorithm>
#include <utility>

#include "natter/client/completion.hpp"
#include "natter/client/wide_text.hpp"
#include "natter/text.hpp"

namespace natter::client {

namespace {

constexpr std::string_view keys_help =
    "keys: Tab completes names and commands, Up/Down recall lines, PgUp/PgDn scroll,\n"
    "  Left/Right Home/End (Ctrl-A/E) move, Ctrl-U/K delete to start/end, Ctrl-W a word,\n"
    "  Ctrl-D on an empty line or Ctrl-C quits, Ctrl-L repaints";

conversation_config full_screen_config(tui_config config) {
  conversation_config out;
  out.server = std::move(config.server);
  out.own_name = std::move(config.own_name);
  out.own_fingerprint = std::move(config.own_fingerprint);
  out.interactive = true;
  out.trace = config.trace;
  out.utc = config.utc;
  out.echo_sent = true;            // the input line is cleared on Enter, so the log shows what went
  out.keys_help = keys_help;
  return out;
}

// The pane's colour for each kind of line; a prompt is shown in the input line, not the log.
std::optional<line_kind> log_kind(shown_kind kind) {
  switch (kind) {
    case shown_kind::chat: return line_kind::message;
    case shown_kind::own_chat: return line_kind::own_message;
    case shown_kind::whisper_in: return line_kind::whisper_in;
    case shown_kind::whisper_out: return line_kind::whisper_out;
    case shown_kind::info:
    case shown_kind::hint: return line_kind::system;
    case shown_kind::notice:
    case shown_kind::error: return line_kind::error;
    case shown_kind::trace: return line_kind::trace;
    case shown_kind::prompt: return std::nullopt;
  }
  return line_kind::system;
}

line_state to_line_state(send_state state) {
  switch (state) {
    case send_state::none: return line_state::none;
    case send_state::pending: return line_state::pending;
    case send_state::sent: return line_state::sent;
    case send_state::failed: return line_state::failed;
  }
  return line_state::none;
}

}  // namespace

tui_state::tui_state(tui_config config, verified_store verified, conversation_probes probes)
    : conversation_(full_screen_config(std::move(config)), std::move(verified), std::move(probes)) {}

std::vector<tui_action> tui_state::tick() {
  conversation_.tick();
  take_lines();
  return conversation_.take_actions();
}

// ---- events ----------------------------------------------------------------------------------

void tui_state::add(line_kind kind, const std::string& utf8, std::uint64_t id, line_state state) {
  // Multi-line texts (help, welcome with motd) become one log line each, so wrapping and
  // scrolling see real lines. (Lines we send, the ones with an id, are single lines.)
  std::size_t start = 0;
  while (true) {
    const std::size_t end = utf8.find('\n', start);
    log_.add(kind, widen(std::string_view(utf8).substr(start, end - start)), id, state);
    if (end == std::string::npos) break;
    start = end + 1;
  }
}

void tui_state::take_lines() {
  for (const auto& line : conversation_.take_lines()) {
    if (const auto kind = log_kind(line.kind)) add(*kind, line.text, line.id, to_line_state(line.state));
  }
  for (const auto& mark : conversation_.take_marks()) log_.mark(mark.id, to_line_state(mark.state), widen(mark.reason));
}

void tui_state::on_event(const client_event& event) {
  conversation_.on_event(event);
  take_lines();
  if (const auto* closed = std::get_if<closed_event>(&event)) {
    if (closed->after_quit) {
      finished_ = true;
    } else {
      add(line_kind::error, "* disconnected (" + printable(closed->reason) + "); press any key to leave");
    }
  }
}

// ---- keys ------------------------------------------------------------------------------------

std::vector<tui_action> tui_state::on_key(key_press key, std::int64_t now_ms) {
  if (conversation_.closed()) {
    finished_ = true;  // any key leaves the "disconnected" screen
    return conversation_.take_actions();
  }
  switch (key.code) {
    case key_code::character:
      // Control characters never enter the line (the server would refuse them anyway).
      if (key.ch >= 0x20 && key.ch != 0x7F) input_.insert(key.ch);
      break;
    case key_code::enter: submit(now_ms); break;
    case key_code::tab: complete(); break;
    case key_code::backspace: input_.backspace(); break;
    case key_code::del: input_.del(); break;
    case key_code::left: input_.left(); break;
    case key_code::right: input_.right(); break;
    case key_code::home: input_.home(); break;
    case key_code::end: input_.end(); break;
    case key_code::up: input_.history_prev(); break;
    case key_code::down: input_.history_next(); break;
    case key_code::page_up: log_.page_up(std::max<std::size_t>(1, page_rows_ - 1)); break;
    case key_code::page_down: log_.page_down(std::max<std::size_t>(1, page_rows_ - 1)); break;
    case key_code::ctrl_k: input_.kill_to_end(); break;
    case key_code::ctrl_u: input_.kill_to_start(); break;
    case key_code::ctrl_w: input_.kill_word_back(); break;
    case key_code::ctrl_d:
      if (!input_.empty()) {
        input_.del();
        break;
      }
      [[fallthrough]];  // Ctrl-D on an empty line is /quit, as in a shell
    case key_code::ctrl_c: conversation_.leave(); break;
    case key_code::none: break;
  }
  take_lines();
  return conversation_.take_actions();
}

void tui_state::submit(std::int64_t now_ms) {
  if (conversation_.waiting_question()) {
    const std::wstring answer = input_.text();
    input_.clear();  // a y/N answer is not worth keeping in the history
    conversation_.on_line(narrow(answer), now_ms);
    return;
  }
  const std::string line = narrow(input_.submit());
  log_.to_bottom();  // sending something means looking at the conversation again
  conversation_.on_line(line, now_ms);
}

void tui_state::complete() {
  std::vector<std::wstring> names;
  names.reserve(conversation_.online().users().size());
  for (const auto& [folded, user] : conversation_.online().users()) names.push_back(widen(user.name));
  auto result = natter::client::complete(input_.text(), input_.cursor(), names);
  input_.set(std::move(result.text), result.cursor);
  if (result.candidates.size() > 1) {
    std::wstring list = L"* ";
    for (const auto& c : result.candidates) list += c + L"  ";
    log_.add(line_kind::system, std::move(list));
  }
}

// ---- views -----------------------------------------------------------------------------------

std::wstring tui_state::prompt() const {
  if (const auto& asked = conversation_.waiting_question()) return widen(prompt_text(*asked));
  return L"> ";
}

std::vector<user_row> tui_state::users() const {
  std::vector<user_row> rows;
  const auto& online = conversation_.online().users();
  rows.reserve(online.size());
  const std::string self = fold_name(conversation_.own_name());
  for (const auto& [folded, user] : online) {  // std::map: sorted by folded name
    rows.push_back({printable(user.name), conversation_.user_verified(user), folded == self});
  }
  return rows;
}

std::string tui_state::status() const {
  std::string text = conversation_.server() + " | " + conversation_.own_name() + " | ";
  // The pin state comes before the fingerprint: on a narrow terminal the end is what gets cut.
  const std::string& fingerprint = conversation_.server_fingerprint();
  text += fingerprint.empty() ? "connecting…" : "key " + conversation_.server_key_state() + " " + fingerprint;
  if (conversation_.closed()) text += " | disconnected";
  if (log_.offset() > 0) text += " | scrolled back " + std::to_string(log_.offset()) + " lines (PgDn)";
  return text;
}

}  // namespace natter::client
