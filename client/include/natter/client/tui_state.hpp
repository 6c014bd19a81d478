#pragma once
// The full-screen UI's model (pure): what the panes show and what keys do. Events from the
// driver go in through on_event(), keys through on_key(); what has to happen outside (send a
// request, quit, answer the trust question, save the verified store) comes back as actions.
// Nothing here touches a terminal, a socket or a file, so every behaviour is unit-tested;
// tui_screen draws it and tui_app runs the loop.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include "natter/client/client_events.hpp"
#include "natter/client/input_line.hpp"
#include "natter/client/scrollback.hpp"
#include "natter/client/verified_store.hpp"
#include "natter/messages.hpp"

namespace natter::client {

enum class key_code {
  none, character, enter, tab, backspace, del, left, right, home, end, up, down, page_up,
  page_down, ctrl_c, ctrl_d, ctrl_k, ctrl_u, ctrl_w,
};

struct key_press {
  key_code code = key_code::none;
  wchar_t ch = 0;  // key_code::character only
};

struct send_action { client_message message; };
struct quit_action { std::string reason; };
struct trust_action { bool trusted; };  // the answer to a trust_request_event
struct save_verified_action {};         // verified() changed: write it to disk
using tui_action = std::variant<send_action, quit_action, trust_action, save_verified_action>;

struct tui_config {
  std::string server;           // "host:port" as pinned (known_hosts' host_key())
  std::string own_name;         // as requested; the server's spelling replaces it on welcome
  std::string own_fingerprint;
  bool trace = false;           // show --trace frames in the message pane
  bool utc = false;             // clock in UTC (tests)
};

struct user_row {
  std::string name;
  bool verified = false;
  bool self = false;
};

class tui_state {
 public:
  tui_state(tui_config config, verified_store verified);

  void on_event(const client_event& event);
  // `now_ms` (wall clock) stamps the local echo of what we send.
  [[nodiscard]] std::vector<tui_action> on_key(key_press key, std::int64_t now_ms);
  // Page Up/Down move by one pane height (less a line of overlap); the screen tells us it.
  void set_page_rows(std::size_t rows) { page_rows_ = rows; }
  // A line from outside the protocol (e.g. the verified store could not be saved).
  void report(line_kind kind, const std::string& utf8) { add(kind, utf8); }

  [[nodiscard]] const scrollback& log() const { return log_; }
  [[nodiscard]] const input_line& input() const { return input_; }
  [[nodiscard]] std::wstring prompt() const;
  [[nodiscard]] std::vector<user_row> users() const;  // sorted by name
  [[nodiscard]] std::size_t online_count() const { return online_count_; }
  [[nodiscard]] std::string status() const;
  [[nodiscard]] const verified_store& verified() const { return verified_; }
  // The UI should end: the connection closed after our quit, or the user dismissed the
  // "disconnected" screen with a key.
  [[nodiscard]] bool finished() const { return finished_; }
  [[nodiscard]] int exit_code() const { return exit_code_; }
  // Why the session failed, to repeat on the normal screen after the UI is gone.
  [[nodiscard]] const std::vector<std::string>& failures() const { return failures_; }

 private:
  enum class confirm { none, trust, verify_server, verify_user };

  void on_server_message(const server_message& message);
  void on_chat(const chat_event& chat);
  void on_whois(const whois_event& whois);
  void add_formatted(const client_event& event);
  void add(line_kind kind, const std::string& utf8);
  void submit(std::vector<tui_action>& actions, std::int64_t now_ms);
  void run_command(const std::string& line, std::vector<tui_action>& actions, std::int64_t now_ms);
  void start_verify(const std::string& argument, std::vector<tui_action>& actions);
  void answer(bool yes, std::vector<tui_action>& actions);
  void complete();
  [[nodiscard]] std::string server_state() const;

  tui_config config_;
  verified_store verified_;
  scrollback log_;
  input_line input_;
  std::map<std::string, user_info> users_;  // online users by folded name
  std::size_t online_count_ = 0;
  std::size_t page_rows_ = 10;
  std::size_t max_text_;
  std::string server_fingerprint_;  // empty until the handshake is done
  pin_state pin_ = pin_state::pinned;
  confirm confirm_ = confirm::none;
  std::string verify_name_;         // confirm::verify_user: whose key
  std::string verify_fingerprint_;
  std::string awaiting_whois_;      // folded name of a /verify NAME waiting for its whois
  bool joined_ = false;
  bool quitting_ = false;
  bool closed_ = false;
  bool finished_ = false;
  int exit_code_ = 0;
  std::vector<std::string> failures_;
};

}  // namespace natter::client
