#include "natter/client/line_ui.hpp"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <variant>

#include "natter/client/command_parser.hpp"
#include "natter/client/event_queue.hpp"
#include "natter/client/formatter.hpp"
#include "natter/client/known_hosts.hpp"
#include "natter/client/verified_store.hpp"
#include "natter/client/stdin_reader.hpp"
#include "natter/limits.hpp"
#include "natter/rate_limiter.hpp"
#include "natter/text.hpp"

namespace natter::client {

namespace {

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

template <typename... Ts>
struct overloaded : Ts... {
  using Ts::operator()...;
};

// Non-interactive input is sent as fast as the server acknowledges it, with at most this many
// say/whisper requests unacknowledged (the server rate-limits; flooding it only earns errors).
constexpr std::size_t send_window = 16;
constexpr auto poll_interval = std::chrono::milliseconds(50);

struct input_line { std::string text; };
struct input_end {};
using ui_item = std::variant<client_event, input_line, input_end>;

// Prints one display line and flushes at once: tests read our stdout through a pipe.
void print(channel where, const std::string& text) {
  std::FILE* stream = where == channel::chat ? stdout : stderr;
  std::fputs(text.c_str(), stream);
  std::fputc('\n', stream);
  std::fflush(stream);
}

class line_ui {
 public:
  line_ui(const crypto::key_pair& identity, driver_config config, const ui_settings& settings)
      : settings_(settings),
        format_{config.session.name, false},
        server_(host_key(config.host, config.port)),
        driver_(identity, with_signals(std::move(config)), [this](client_event e) { queue_.push(std::move(e)); }),
        reader_(settings.interactive ? 1 : 4, [this](std::string line) { queue_.push(input_line{std::move(line)}); },
                [this] { queue_.push(input_end{}); }) {}

  int run() {
    driver_.start();
    reader_.start();
    while (!closed_) {
      if (auto item = queue_.pop(poll_interval)) {
        std::visit(overloaded{[this](client_event& e) { on_event(e); },
                              [this](input_line& l) { on_line(std::move(l.text)); },
                              [this](input_end&) { on_input_end(); }},
                   *item);
      }
      on_tick();
    }
    reader_.stop();
    // A script learns that some of its lines were refused (by the server or as too large).
    if (!settings_.interactive && driver_.refused() > 0) exit_code_ = std::max(exit_code_, 1);
    return exit_code_;
  }

 private:
  static driver_config with_signals(driver_config config) {
    config.handle_signals = true;
    return config;
  }

  void on_event(client_event& event) {
    if (auto* request = std::get_if<trust_request_event>(&event)) {
      trust_pending_ = true;
      print(channel::error, "The server " + request->host + " is not known.\n"
                            "Its key fingerprint is " + request->fingerprint + "\n"
                            "Compare it with the one the server's operator gives you.");
      std::fputs("Trust this server? [y/N] ", stderr);
      std::fflush(stderr);
      return;
    }
    if (auto* established = std::get_if<established_event>(&event)) server_fingerprint_ = established->server_fingerprint;
    if (auto* message = std::get_if<server_message>(&event)) {
      on_server_message(*message);
      if (std::holds_alternative<error_event>(*message)) awaiting_whois_.clear();  // e.g. unknown_user
      // The whois that answers /verify NAME is shown as the verify question instead.
      if (const auto* whois = std::get_if<whois_event>(message);
          whois && !awaiting_whois_.empty() && fold_name(whois->name) == awaiting_whois_) {
        awaiting_whois_.clear();
        ask_verify(whois->name, whois->fingerprint);
        return;
      }
    }
    if (auto* failure = std::get_if<failure_event>(&event)) {
      const int code = failure->kind == failure_kind::key_mismatch ? 3 : 1;
      exit_code_ = std::max(exit_code_, code);
    }
    if (auto* closed = std::get_if<closed_event>(&event)) {
      closed_ = true;
      // A server that sends us away (kicked, stopping, timeout) is a failure for a script, but
      // the expected end for a --stay receiver.
      if (closed->bye_received && !closed->after_quit && !settings_.stay) exit_code_ = std::max(exit_code_, 1);
    }
    // A "bye" with reason quit only ever answers our own quit (from /quit, Ctrl-D or a signal):
    // it needs no announcement.
    if (const auto* m = std::get_if<server_message>(&event)) {
      if (const auto* bye = std::get_if<bye_event>(m); bye && bye->reason == "quit") return;
    }
    if (auto line = format_event(event, format_)) {
      if (line->where == channel::trace && !settings_.trace) return;
      print(line->where, line->text);
    }
    if (settings_.interactive && std::holds_alternative<server_message>(event) &&
        std::holds_alternative<welcome_event>(std::get<server_message>(event))) {
      print(channel::error, "* type /help for commands, /quit to leave");
    }
  }

  void on_server_message(const server_message& message) {
    if (const auto* welcome = std::get_if<welcome_event>(&message)) {
      joined_ = true;
      format_.own_name = welcome->name;
      if (welcome->max_text > 0) max_text_ = std::min<std::size_t>(limits::max_text, welcome->max_text);
      // Scripted input is paced a little below the server's announced rate, so piping a long
      // file never earns rate_limited errors (which would fail the script).
      if (welcome->rate > 0) pace_ = rate_limiter(welcome->rate * 0.9, std::max(1.0, welcome->burst / 2));
      // Lines typed (or piped) before the join are sent now, in order.
      while (!early_lines_.empty()) {
        std::string line = std::move(early_lines_.front());
        early_lines_.pop_front();
        on_line(std::move(line));
      }
    }
    // A refused request fails a script; an interactive user just reads the error.
    if (std::holds_alternative<error_event>(message) && !settings_.interactive) exit_code_ = std::max(exit_code_, 1);
  }

  void on_line(std::string line) {
    if (trust_pending_) {
      trust_pending_ = false;
      const bool yes = line == "y" || line == "Y" || line == "yes" || line == "YES" || line == "Yes";
      driver_.answer_trust(yes);
      reader_.consumed();
      return;
    }
    if (!joined_) {
      early_lines_.push_back(std::move(line));  // bounded: the reader waits for consumed()
      return;
    }
    if (verify_pending_ || (settings_.interactive && (line == "/verify" || line.starts_with("/verify ")))) {
      on_verify_line(line);
      reader_.consumed();
      return;
    }
    command cmd = parse_command(line, max_text_);
    const bool chat = std::holds_alternative<say_command>(cmd) || std::holds_alternative<whisper_command>(cmd);
    if (!settings_.interactive && chat && (!paced_.empty() || !pace_.allow(now_ms()))) {
      paced_.push_back(std::move(cmd));  // sent by on_tick as the server's rate allows
      owed_credits_++;
      return;
    }
    handle_command(std::move(cmd));
    if (settings_.interactive || driver_.unacknowledged() < send_window) {
      reader_.consumed();
    } else {
      owed_credits_++;  // given back in on_tick once acknowledgements come in
    }
  }

  void handle_command(command cmd) {
    std::visit(
        overloaded{
            [this](say_command& c) { driver_.submit(say_request{std::move(c.text), {}}); },
            [this](whisper_command& c) {
              driver_.submit(whisper_request{std::move(c.to), std::move(c.text), {}});
            },
            [this](users_command&) { driver_.submit(users_request{}); },
            [this](whois_command& c) { driver_.submit(whois_request{std::move(c.name), {}}); },
            [this](fingerprint_command&) { print(channel::chat, "* your fingerprint: " + settings_.own_fingerprint); },
            [](help_command&) { print(channel::chat, std::string(command_help())); },
            [this](quit_command& c) { begin_quit(std::move(c.reason)); },
            [](empty_command&) {},
            [this](command_error& e) {
              print(channel::error, "! " + e.message);
              if (!settings_.interactive) exit_code_ = std::max(exit_code_, 1);
            },
        },
        cmd);
  }

  // /verify [NAME] in line mode, like the full-screen UI's: show the fingerprint to compare, then
  // the next line answers y/N. NAME's fingerprint comes from a whois (see on_verify_whois).
  void on_verify_line(const std::string& line) {
    if (verify_pending_) {
      verify_pending_ = false;
      if (line != "y" && line != "Y" && line != "yes") {
        print(channel::chat, "* not marked verified");
        return;
      }
      try {
        auto store = verified_store::load(settings_.verified_path);
        if (verify_name_.empty()) {
          store.mark_server(server_, verify_fingerprint_);
        } else {
          store.mark_user(server_, verify_name_, verify_fingerprint_);
        }
        store.save(settings_.verified_path);
        print(channel::chat, "* marked verified: " + (verify_name_.empty() ? server_ : verify_name_) + " " + verify_fingerprint_);
      } catch (const verified_store_error& e) {
        print(channel::error, std::string("! ") + e.what());
      }
      return;
    }
    const std::string name = line.size() > 8 ? line.substr(8, line.find(' ', 8) - 8) : "";
    if (!name.empty()) {
      if (!is_valid_name(name)) {
        print(channel::error, "! /verify NAME: \"" + printable(name) + "\" is not a valid name");
        return;
      }
      awaiting_whois_ = fold_name(name);
      driver_.submit(whois_request{name, {}});
      return;
    }
    ask_verify("", server_fingerprint_);
  }

  void ask_verify(std::string name, std::string fingerprint) {
    bool already = false;
    try {
      const auto store = verified_store::load(settings_.verified_path);
      already = name.empty() ? store.server_verified(server_, fingerprint) : store.user_verified(server_, name, fingerprint);
    } catch (const verified_store_error& e) {
      print(channel::error, std::string("! ") + e.what());
    }
    print(channel::chat, "* " + (name.empty() ? "server " + server_ : printable(name)) + " key fingerprint " + fingerprint +
                             (already ? " is marked verified" : ""));
    if (already) return;
    verify_name_ = std::move(name);
    verify_fingerprint_ = std::move(fingerprint);
    verify_pending_ = true;
    std::fputs("Compare it out of band. Mark it verified? [y/N] ", stderr);
    std::fflush(stderr);
  }

  void begin_quit(std::string reason) {
    if (quitting_) return;
    quitting_ = true;
    reader_.stop();
    driver_.quit_when_acknowledged(std::move(reason));
  }

  void on_input_end() {
    if (settings_.interactive) {
      std::fputc('\n', stderr);
      begin_quit("");  // Ctrl-D is /quit
      return;
    }
    input_ended_ = true;  // on_tick decides when to leave
  }

  void on_tick() {
    while (!paced_.empty() && pace_.allow(now_ms())) {
      handle_command(std::move(paced_.front()));
      paced_.pop_front();
    }
    while (owed_credits_ > 0 && paced_.empty() && driver_.unacknowledged() < send_window) {
      --owed_credits_;
      reader_.consumed();
    }
    // Non-interactive end of input: once joined (lines read early are sent on welcome), linger
    // for --wait-ms if asked, then quit as soon as every say/whisper is acknowledged.
    // --stay never quits by itself: the server or a signal ends it.
    if (!input_ended_ || !joined_ || quitting_ || settings_.stay || !paced_.empty()) return;
    const auto now = std::chrono::steady_clock::now();
    if (settings_.wait_ms && !linger_until_) linger_until_ = now + std::chrono::milliseconds(*settings_.wait_ms);
    if (linger_until_ && now < *linger_until_) return;
    begin_quit("");
  }

  const ui_settings& settings_;
  format_options format_;
  std::string server_;  // "host:port", the verified store's key
  event_queue<ui_item> queue_;
  client_driver driver_;
  stdin_reader reader_;
  std::deque<std::string> early_lines_;
  std::size_t max_text_ = limits::max_text;
  std::size_t owed_credits_ = 0;
  rate_limiter pace_{0, 1};  // unlimited until the server announces its rate
  std::deque<command> paced_;  // scripted say/whisper waiting for the rate to allow them
  std::optional<std::chrono::steady_clock::time_point> linger_until_;
  bool trust_pending_ = false;
  std::string server_fingerprint_;  // from established_event, for /verify
  std::string awaiting_whois_;      // folded name of a /verify NAME waiting for its whois
  std::string verify_name_;         // empty: the server's key
  std::string verify_fingerprint_;
  bool verify_pending_ = false;     // the next line answers "Mark it verified?"
  bool joined_ = false;
  bool quitting_ = false;
  bool input_ended_ = false;
  bool closed_ = false;
  int exit_code_ = 0;
};

}  // namespace

int run_line_ui(const crypto::key_pair& identity, driver_config config, const ui_settings& settings) {
  line_ui ui(identity, std::move(config), settings);
  return ui.run();
}

}  // namespace natter::client
