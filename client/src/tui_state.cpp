#include "natter/client/tui_state.hpp"

#include <algorithm>
#include <utility>

#include "natter/client/command_parser.hpp"
#include "natter/client/completion.hpp"
#include "natter/client/formatter.hpp"
#include "natter/client/wide_text.hpp"
#include "natter/limits.hpp"
#include "natter/text.hpp"

namespace natter::client {

namespace {

template <typename... Ts>
struct overloaded : Ts... {
  using Ts::operator()...;
};

bool same_name(std::string_view a, std::string_view b) { return fold_name(a) == fold_name(b); }

bool is_yes(std::wstring_view answer) {
  return answer == L"y" || answer == L"Y" || answer == L"yes" || answer == L"Yes" || answer == L"YES";
}

constexpr std::string_view keys_help =
    "keys: Tab completes names and commands, Up/Down recall lines, PgUp/PgDn scroll,\n"
    "  Left/Right Home/End (Ctrl-A/E) move, Ctrl-U/K delete to start/end, Ctrl-W a word,\n"
    "  Ctrl-D on an empty line or Ctrl-C quits, Ctrl-L repaints";

}  // namespace

tui_state::tui_state(tui_config config, verified_store verified)
    : config_(std::move(config)), verified_(std::move(verified)), max_text_(limits::max_text) {}

// ---- events ----------------------------------------------------------------------------------

void tui_state::add(line_kind kind, const std::string& utf8) {
  // Multi-line texts (help, welcome with motd) become one log line each, so wrapping and
  // scrolling see real lines.
  std::size_t start = 0;
  while (true) {
    const std::size_t end = utf8.find('\n', start);
    log_.add(kind, widen(std::string_view(utf8).substr(start, end - start)));
    if (end == std::string::npos) break;
    start = end + 1;
  }
}

void tui_state::add_formatted(const client_event& event) {
  const auto line = format_event(event, format_options{config_.own_name, config_.utc});
  if (!line) return;
  const line_kind kind = line->where == channel::error   ? line_kind::error
                         : line->where == channel::trace ? line_kind::trace
                                                         : line_kind::system;
  if (kind == line_kind::trace && !config_.trace) return;
  add(kind, line->text);
}

void tui_state::on_event(const client_event& event) {
  std::visit(
      overloaded{
          [&](const server_message& m) { on_server_message(m); },
          [&](const established_event& e) {
            server_fingerprint_ = e.server_fingerprint;
            pin_ = e.pin;
            add_formatted(event);
          },
          [&](const trust_request_event& t) {
            add(line_kind::system, "* the server " + printable(t.host) + " is not known. Its key fingerprint is");
            add(line_kind::system, "*   " + printable(t.fingerprint));
            add(line_kind::system, "* compare it with the one the server's operator gives you.");
            confirm_ = confirm::trust;
          },
          [&](const failure_event& f) {
            exit_code_ = std::max(exit_code_, f.kind == failure_kind::key_mismatch ? 3 : 1);
            failures_.push_back(printable(f.message));
            add_formatted(event);
          },
          [&](const closed_event& c) {
            closed_ = true;
            confirm_ = confirm::none;
            if (c.after_quit) {
              finished_ = true;
              return;
            }
            if (c.bye_received) exit_code_ = std::max(exit_code_, 1);
            add(line_kind::error, "* disconnected (" + printable(c.reason) + "); press any key to leave");
          },
          [&](const auto&) { add_formatted(event); },
      },
      event);
}

void tui_state::on_server_message(const server_message& message) {
  std::visit(
      overloaded{
          [&](const welcome_event& w) {
            joined_ = true;
            config_.own_name = w.name;
            if (w.max_text > 0) max_text_ = std::min<std::size_t>(limits::max_text, w.max_text);
            users_.clear();
            for (const auto& u : w.users) users_[fold_name(u.name)] = u;
            online_count_ = std::max<std::size_t>(w.user_count, users_.size());
            add_formatted(message);
            add(line_kind::system, "* type /help for commands and keys, /quit to leave");
          },
          [&](const chat_event& c) { on_chat(c); },
          [&](const presence_event& p) {
            if (p.joined) {
              if (users_.emplace(fold_name(p.name), user_info{p.name, p.fingerprint, 0}).second) ++online_count_;
            } else if (users_.erase(fold_name(p.name)) > 0 && online_count_ > 0) {
              --online_count_;
            }
            add_formatted(message);
          },
          [&](const users_event& u) {
            // The session hands over complete lists only (pages are joined), so replace.
            users_.clear();
            for (const auto& user : u.users) users_[fold_name(user.name)] = user;
            online_count_ = users_.size();
            add_formatted(message);
          },
          [&](const whois_event& w) { on_whois(w); },
          [&](const error_event& e) {
            if (!awaiting_whois_.empty() && (e.code == errc::unknown_user || e.code == errc::bad_name)) {
              awaiting_whois_.clear();
            }
            add_formatted(message);
          },
          [&](const bye_event& b) {
            if (b.reason != "quit") add_formatted(message);  // "quit" only answers our own quit
          },
          [&](const auto&) { add_formatted(message); },
      },
      message);
}

void tui_state::on_chat(const chat_event& c) {
  const std::string clock = format_clock(c.ts_ms, config_.utc);
  if (!c.whisper) {
    add(line_kind::message, clock + " <" + printable(c.from) + "> " + printable(c.text));
  } else if (same_name(c.from, config_.own_name) && !same_name(c.to, config_.own_name)) {
    add(line_kind::whisper_out, clock + " →" + printable(c.to) + " " + printable(c.text));
  } else {
    add(line_kind::whisper_in, clock + " ←" + printable(c.from) + " " + printable(c.text));
  }
}

void tui_state::on_whois(const whois_event& w) {
  if (auto it = users_.find(fold_name(w.name)); it != users_.end()) it->second.fingerprint = w.fingerprint;
  add_formatted(server_message{w});
  if (awaiting_whois_.empty() || fold_name(w.name) != awaiting_whois_) return;
  awaiting_whois_.clear();
  if (verified_.user_verified(config_.server, w.name, w.fingerprint)) {
    add(line_kind::system, "* " + printable(w.name) + "'s key is already marked verified ✓");
    return;
  }
  add(line_kind::system, "* compare " + printable(w.fingerprint) + " with the fingerprint " +
                             printable(w.name) + " reads out from their /fingerprint");
  verify_name_ = w.name;
  verify_fingerprint_ = w.fingerprint;
  confirm_ = confirm::verify_user;
}

// ---- keys ------------------------------------------------------------------------------------

std::vector<tui_action> tui_state::on_key(key_press key, std::int64_t now_ms) {
  std::vector<tui_action> actions;
  if (closed_) {
    finished_ = true;  // any key leaves the "disconnected" screen
    return actions;
  }
  switch (key.code) {
    case key_code::character:
      // Control characters never enter the line (the server would refuse them anyway).
      if (key.ch >= 0x20 && key.ch != 0x7F) input_.insert(key.ch);
      break;
    case key_code::enter: submit(actions, now_ms); break;
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
    case key_code::ctrl_c:
      if (confirm_ == confirm::trust) {
        actions.push_back(trust_action{false});  // the driver closes without sending anything
        confirm_ = confirm::none;
      } else if (!quitting_) {
        quitting_ = true;
        actions.push_back(quit_action{""});
      }
      break;
    case key_code::none: break;
  }
  return actions;
}

void tui_state::submit(std::vector<tui_action>& actions, std::int64_t now_ms) {
  if (confirm_ != confirm::none) {
    const std::wstring answer_text = input_.text();
    input_.clear();  // a y/N answer is not worth keeping in the history
    answer(is_yes(answer_text), actions);
    return;
  }
  const std::string line = narrow(input_.submit());
  log_.to_bottom();  // sending something means looking at the conversation again
  run_command(line, actions, now_ms);
}

void tui_state::answer(bool yes, std::vector<tui_action>& actions) {
  const confirm what = std::exchange(confirm_, confirm::none);
  switch (what) {
    case confirm::trust:
      actions.push_back(trust_action{yes});
      break;
    case confirm::verify_server:
      if (!yes) break;
      verified_.mark_server(config_.server, server_fingerprint_);
      actions.push_back(save_verified_action{});
      add(line_kind::system, "* the key of " + config_.server + " is now marked verified ✓");
      break;
    case confirm::verify_user:
      if (!yes) break;
      verified_.mark_user(config_.server, verify_name_, verify_fingerprint_);
      actions.push_back(save_verified_action{});
      add(line_kind::system, "* " + printable(verify_name_) + "'s key is now marked verified ✓");
      break;
    case confirm::none:
      break;
  }
  if (!yes && what != confirm::none && what != confirm::trust) add(line_kind::system, "* not marked verified");
}

void tui_state::run_command(const std::string& line, std::vector<tui_action>& actions, std::int64_t now_ms) {
  // /verify belongs to this UI (it needs the verified store), everything else to the parser.
  if (line == "/verify" || line.starts_with("/verify ")) {
    start_verify(line.substr(std::min(line.size(), std::string_view("/verify ").size())), actions);
    return;
  }
  const std::string clock = format_clock(now_ms, config_.utc);
  command parsed = parse_command(line, max_text_);
  std::visit(
      overloaded{
          [&](say_command& c) {
            // Broadcasts are not echoed to their sender (PROTOCOL.md §5), so we show our own.
            add(line_kind::own_message, clock + " <" + config_.own_name + "> " + c.text);
            actions.push_back(send_action{say_request{std::move(c.text), {}}});
          },
          [&](whisper_command& c) {
            add(line_kind::whisper_out, clock + " →" + c.to + " " + c.text);
            actions.push_back(send_action{whisper_request{std::move(c.to), std::move(c.text), {}}});
          },
          [&](users_command&) { actions.push_back(send_action{users_request{}}); },
          [&](whois_command& c) { actions.push_back(send_action{whois_request{std::move(c.name), {}}}); },
          [&](fingerprint_command&) {
            add(line_kind::system, "* your fingerprint: " + config_.own_fingerprint);
            if (!server_fingerprint_.empty()) {
              add(line_kind::system, "* server " + config_.server + ": " + server_fingerprint_ + " (" + server_state() + ")");
            }
          },
          [&](help_command&) {
            add(line_kind::system, std::string(command_help()));
            add(line_kind::system, std::string(keys_help));
          },
          [&](quit_command& c) {
            if (quitting_) return;
            quitting_ = true;
            actions.push_back(quit_action{std::move(c.reason)});
          },
          [](empty_command&) {},
          [&](command_error& e) { add(line_kind::error, "! " + e.message); },
      },
      parsed);
}

void tui_state::start_verify(const std::string& argument, std::vector<tui_action>& actions) {
  const std::string name = argument.substr(0, argument.find(' '));
  if (name.empty()) {
    if (server_fingerprint_.empty()) {
      add(line_kind::error, "! not connected yet: there is no server key to verify");
      return;
    }
    add(line_kind::system, "* server " + config_.server + " key fingerprint: " + server_fingerprint_);
    if (verified_.server_verified(config_.server, server_fingerprint_)) {
      add(line_kind::system, "* already marked verified ✓");
      return;
    }
    add(line_kind::system, "* compare it with the one the server's operator gives you (natter-server --fingerprint)");
    confirm_ = confirm::verify_server;
    return;
  }
  if (!is_valid_name(name)) {
    add(line_kind::error, "! /verify NAME: \"" + printable(name) + "\" is not a valid name");
    return;
  }
  // The fingerprint to compare is the one the server vouches for: ask it (whois), then confirm.
  awaiting_whois_ = fold_name(name);
  actions.push_back(send_action{whois_request{name, {}}});
}

void tui_state::complete() {
  std::vector<std::wstring> names;
  names.reserve(users_.size());
  for (const auto& [folded, user] : users_) names.push_back(widen(user.name));
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
  switch (confirm_) {
    case confirm::trust: return L"Trust this server? [y/N] ";
    case confirm::verify_server: return L"Mark the server's key as verified? [y/N] ";
    case confirm::verify_user: return widen("Mark " + printable(verify_name_) + "'s key as verified? [y/N] ");
    case confirm::none: break;
  }
  return L"> ";
}

std::vector<user_row> tui_state::users() const {
  std::vector<user_row> rows;
  rows.reserve(users_.size());
  for (const auto& [folded, user] : users_) {  // std::map: sorted by folded name
    rows.push_back({printable(user.name), verified_.user_verified(config_.server, user.name, user.fingerprint),
                    folded == fold_name(config_.own_name)});
  }
  return rows;
}

std::string tui_state::server_state() const {
  if (verified_.server_verified(config_.server, server_fingerprint_)) return "verified ✓";
  return pin_ == pin_state::new_pin ? "new" : "pinned";
}

std::string tui_state::status() const {
  std::string text = config_.server + " | " + config_.own_name + " | ";
  // The pin state comes before the fingerprint: on a narrow terminal the end is what gets cut.
  text += server_fingerprint_.empty() ? "connecting…" : "key " + server_state() + " " + server_fingerprint_;
  if (closed_) text += " | disconnected";
  if (log_.offset() > 0) text += " | scrolled back " + std::to_string(log_.offset()) + " lines (PgDn)";
  return text;
}

}  // namespace natter::client
