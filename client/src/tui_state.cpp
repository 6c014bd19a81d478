#include "natter/client/tui_state.hpp"

#include <algorithm>
#include <utility>

#include "natter/client/completion.hpp"
#include "natter/client/wide_text.hpp"
#include "natter/text.hpp"

namespace natter::client {

namespace {

constexpr std::string_view keys_help =
    "keys: Tab completes names and commands (again: the next one), Up/Down recall lines,\n"
    "  PgUp/PgDn scroll, /clear empties the pane (PgUp still shows what was there),\n"
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
  out.can_clear = true;
  out.keys_help = keys_help;
  apply_preferences(out, config.preferences);
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
  return take_conversation_actions();
}

std::vector<tui_action> tui_state::take_actions() { return take_conversation_actions(); }

std::vector<tui_action> tui_state::take_conversation_actions() {
  auto actions = conversation_.take_actions();
  std::erase_if(actions, [this](const tui_action& action) {
    if (!std::holds_alternative<clear_view_action>(action)) return false;
    log_.clear_view();
    return true;
  });
  return actions;
}

void tui_state::set_pane_size(std::size_t columns, std::size_t rows) {
  page_rows_ = rows;
  log_.set_view(columns, rows);
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
    if (line.ring) ++bells_;
    const auto kind = log_kind(line.kind);
    if (!kind) continue;
    if (line.from.empty()) {
      add(*kind, line.text, line.id, to_line_state(line.state));
      continue;
    }
    // A chat line: one line, with its writer (for the name's colour) and whether it is about us.
    // Our own whispers name their recipient, not us, so they get no name colour.
    const bool named = line.kind != shown_kind::whisper_out;
    log_.add(log_line{*kind, widen(line.text), line.id, to_line_state(line.state), {},
                      named ? widen(line.from) : std::wstring{}, line.highlight});
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
      add(line_kind::error, "* disconnected (" + printable(closed->reason) + "); press Enter to leave (PgUp scrolls back)");
    }
  }
}

// ---- keys ------------------------------------------------------------------------------------

std::vector<tui_action> tui_state::on_key(key_press key, std::int64_t now_ms) {
  if (conversation_.closed()) {
    // The end for good (a kick, a changed key, reconnecting given up). A key typed mid-sentence
    // must not throw the log away unread: only Enter, Ctrl-C and Ctrl-D leave; PgUp/PgDn still
    // scroll, everything else waits.
    switch (key.code) {
      case key_code::enter:
      case key_code::ctrl_c:
      case key_code::ctrl_d: finished_ = true; break;
      case key_code::page_up: log_.page_up(std::max<std::size_t>(1, page_rows_ - 1)); break;
      case key_code::page_down: log_.page_down(std::max<std::size_t>(1, page_rows_ - 1)); break;
      default: break;
    }
    return take_conversation_actions();
  }
  if (key.code != key_code::tab) {
    completion_.reset();  // a round of Tab ends with any other key
    completion_hint_.clear();
  }
  if (pasting_ && key.code == key_code::ctrl_c) {
    // Ctrl-C always gets the person out, even if a paste's end marker was lost.
    pasting_ = false;
    pasted_.clear();
  } else if (pasting_ && key.code != key_code::paste_end) {
    on_pasted_key(key);
    return {};
  }
  switch (key.code) {
    case key_code::paste_begin:
      pasting_ = true;
      pasted_.clear();
      paste_cut_ = false;
      break;
    case key_code::paste_end: end_paste(now_ms); break;
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
  return take_conversation_actions();
}

void tui_state::on_pasted_key(key_press key) {
  // Enter is a line break and Tab a tab, not a command or a completion; editing keys and other
  // control characters in pasted text are dropped (the server would refuse them).
  wchar_t c = 0;
  if (key.code == key_code::enter) c = L'\n';
  if (key.code == key_code::tab) c = L'\t';
  if (key.code == key_code::character && key.ch >= 0x20 && key.ch != 0x7F) c = key.ch;
  if (c == 0) return;
  if (pasted_.size() >= max_paste_chars) {
    paste_cut_ = true;
    return;
  }
  pasted_ += c;
}

void tui_state::end_paste(std::int64_t now_ms) {
  pasting_ = false;
  std::wstring text = std::exchange(pasted_, {});
  if (paste_cut_) add(line_kind::error, "! the paste was cut at " + std::to_string(max_paste_chars) + " characters");
  while (!text.empty() && text.back() == L'\n') text.pop_back();  // a copied line often ends in one
  if (text.find(L'\n') == std::wstring::npos) {
    // One line goes into the input line, to be edited and sent with Enter like typed text.
    for (const wchar_t c : text) input_.insert(c);
    return;
  }
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = text.find(L'\n', start);
    lines.push_back(narrow(std::wstring_view(text).substr(start, end - start)));
    if (end == std::wstring::npos) break;
    start = end + 1;
  }
  log_.to_bottom();
  conversation_.on_paste(std::move(lines), now_ms);
  if (conversation_.waiting_question() && !input_.empty()) {
    // The y/N answer is typed in the input line: what was there waits until it is answered.
    set_aside_ = input_.text();
    input_.clear();
  }
}

void tui_state::submit(std::int64_t now_ms) {
  if (conversation_.waiting_question()) {
    const std::wstring answer = input_.text();
    input_.clear();  // a y/N answer is not worth keeping in the history
    conversation_.on_line(narrow(answer), now_ms);
    if (!conversation_.waiting_question() && set_aside_) {
      const std::size_t end = set_aside_->size();
      input_.set(std::exchange(set_aside_, std::nullopt).value(), end);
    }
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
  auto result = completion_.next(input_.text(), input_.cursor(), names);
  input_.set(std::move(result.text), result.cursor);
  // The candidates go to the status line, not the log: they matter only until the next key.
  completion_hint_.clear();
  if (completion_.cycling()) {
    completion_hint_ = L"Tab:";
    for (std::size_t i = 0; i < result.candidates.size(); ++i) {
      const bool current = i == completion_.current();
      completion_hint_ += (current ? L" [" : L" ") + result.candidates[i] + (current ? L"]" : L"");
    }
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

std::string tui_state::status(std::size_t columns) const {
  const auto fits = [columns](const std::string& text) { return columns == 0 || text_width(widen(text)) <= columns; };
  if (!completion_hint_.empty()) return narrow(completion_hint_);
  // "end-to-end" when the layer is on; on a narrow terminal "e2e", before the fingerprint goes.
  // An open room (more members than the end-to-end limit) says so instead: its room texts are
  // readable by the server, and nothing may claim otherwise.
  const bool open = conversation_.end_to_end() && conversation_.room_open();
  std::string head = conversation_.server() + " | " + conversation_.own_name() + " | " +
                     (open ? "open room | " : conversation_.end_to_end() ? "end-to-end | " : "");
  const std::string& fingerprint = conversation_.server_fingerprint();
  std::string attention;
  if (conversation_.closed()) attention += " | disconnected";
  if (const auto wait = conversation_.reconnect_wait_ms()) {
    // Whole seconds, rounded up, so the countdown never shows 0 before the attempt starts.
    attention += *wait > 0 ? " | reconnecting in " + std::to_string((*wait + 999) / 1000) + " s…" : " | reconnecting…";
  }
  if (log_.unseen() > 0) {
    attention += " | " + std::to_string(log_.unseen()) + " new below (PgDn)";
  } else if (log_.offset() > 0) {
    attention += " | scrolled back " + std::to_string(log_.offset()) + " lines (PgDn)";
  }
  if (fingerprint.empty()) return head + "connecting…" + attention;
  // The pin state comes before the fingerprint, and the fingerprint goes first when space is
  // short: the state and the hints matter more on a narrow terminal.
  const std::string key = "key " + conversation_.server_key_state();
  std::string text = head + key + " " + fingerprint + attention;
  if (!fits(text) && conversation_.end_to_end()) {
    head = conversation_.server() + " | " + conversation_.own_name() + (open ? " | open | " : " | e2e | ");
    text = head + key + " " + fingerprint + attention;
  }
  if (!fits(text)) text = head + key + attention;
  return text;
}

}  // namespace natter::client
