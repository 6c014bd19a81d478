#pragma once
// The full-screen UI's model (pure): what the panes show and what keys do. The conversation
// itself (who is online, questions, commands, exit code) is the shared `conversation`; this
// adds the message log, the input line with its editing keys, completion and the status line.
// Events from the driver go in through on_event(), keys through on_key(); what has to happen
// outside (send a request, quit, answer the trust question, save a verified key) comes back as
// actions. Nothing here touches a terminal, a socket or a file, so every behaviour is
// unit-tested; tui_screen draws it and tui_app runs the loop.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "natter/client/client_events.hpp"
#include "natter/client/completion.hpp"
#include "natter/client/conversation.hpp"
#include "natter/client/input_line.hpp"
#include "natter/client/scrollback.hpp"
#include "natter/client/verified_store.hpp"
#include "natter/messages.hpp"

namespace natter::client {

enum class key_code {
  none, character, enter, tab, backspace, del, left, right, home, end, up, down, page_up,
  page_down, ctrl_c, ctrl_d, ctrl_k, ctrl_u, ctrl_w,
  paste_begin, paste_end,  // bracketed paste: what comes between was pasted, not typed
};

// A paste longer than this many characters is cut there (and says so): it is held in memory
// until the paste ends, and nobody means to send more than a few hundred lines at once.
inline constexpr std::size_t max_paste_chars = 256 * 1024;

struct key_press {
  key_code code = key_code::none;
  wchar_t ch = 0;  // key_code::character only
};

// What the full-screen UI asks its loop to do: the conversation's actions.
using tui_action = conversation_action;

struct tui_config {
  std::string server;           // "host:port" as pinned (known_hosts' host_key())
  std::string own_name;         // as requested; the server's spelling replaces it on welcome
  std::string own_fingerprint;
  bool trace = false;           // show --trace frames in the message pane
  bool utc = false;             // clock in UTC (tests)
  conversation_preferences preferences{};  // the config file's bells, clock and chat log
};

struct user_row {
  std::string name;
  bool verified = false;
  bool self = false;
};

class tui_state {
 public:
  // `probes` give the conversation its clock (pacing) and are fakes in tests.
  tui_state(tui_config config, verified_store verified, conversation_probes probes = {});

  void on_event(const client_event& event);
  // `now_ms` (wall clock) stamps the local echo of what we send. Returns the actions to carry
  // out, with any that events queued since the last call (lines typed before the join).
  [[nodiscard]] std::vector<tui_action> on_key(key_press key, std::int64_t now_ms);
  // How many times to ring the bell for lines that arrived since the last call.
  [[nodiscard]] std::size_t take_bells() { return std::exchange(bells_, 0); }
  // Moves paced lines along (see conversation::tick); returns what to send now.
  [[nodiscard]] std::vector<tui_action> tick();
  // Lines wait for the server's rate: call tick() again within a few tens of milliseconds.
  [[nodiscard]] bool pacing() const { return conversation_.pacing(); }
  // Reconnecting: the status line counts down, so redraw it every few hundred milliseconds.
  [[nodiscard]] bool reconnecting() const { return conversation_.reconnecting(); }
  // Actions queued by events (e.g. lines typed before the join, sent on welcome).
  [[nodiscard]] std::vector<tui_action> take_actions();
  // The message pane's size, from the screen: Page Up/Down move by its height (less a line of
  // overlap) and stop with the oldest line at its top.
  void set_pane_size(std::size_t columns, std::size_t rows);
  // A line from outside the protocol (e.g. the verified store could not be saved).
  void report(line_kind kind, const std::string& utf8) { add(kind, utf8); }

  [[nodiscard]] const scrollback& log() const { return log_; }
  [[nodiscard]] const input_line& input() const { return input_; }
  [[nodiscard]] std::wstring prompt() const;
  [[nodiscard]] std::vector<user_row> users() const;  // sorted by name
  [[nodiscard]] std::size_t online_count() const { return conversation_.online().online_count(); }
  // The status line for `columns` display columns (0: no limit): server, name, the server key,
  // then what needs attention (reconnecting, disconnected, new messages below). What does not fit drops the
  // fingerprint first, so the hints stay visible. While Tab cycles, it lists the candidates.
  [[nodiscard]] std::string status(std::size_t columns = 0) const;
  [[nodiscard]] const verified_store& verified() const { return conversation_.verified(); }
  // The UI should end: the connection closed after our quit, or the user dismissed the
  // "disconnected" screen (Enter, Ctrl-C or Ctrl-D).
  [[nodiscard]] bool finished() const { return finished_; }
  [[nodiscard]] int exit_code() const { return conversation_.exit_code(); }
  // Why the session failed, to repeat on the normal screen after the UI is gone.
  [[nodiscard]] const std::vector<std::string>& failures() const { return conversation_.failures(); }

 private:
  void take_lines();  // the conversation's new lines into the log
  void add(line_kind kind, const std::string& utf8, std::uint64_t id = 0, line_state state = line_state::none);
  void submit(std::int64_t now_ms);
  void on_pasted_key(key_press key);  // a key between paste_begin and paste_end
  void end_paste(std::int64_t now_ms);
  void complete();
  // Carries out what only the screen can (/clear) and hands back the rest.
  [[nodiscard]] std::vector<tui_action> take_conversation_actions();

  conversation conversation_;
  scrollback log_;
  input_line input_;
  completion_cycle completion_;
  std::wstring completion_hint_;  // the candidates while Tab cycles; shown in the status line
  std::size_t page_rows_ = 10;
  std::size_t bells_ = 0;
  bool pasting_ = false;
  std::wstring pasted_;     // the paste so far, lines separated by '\n'
  bool paste_cut_ = false;  // it went over max_paste_chars
  std::optional<std::wstring> set_aside_;  // the input line while a paste's question waits
  bool finished_ = false;
};

}  // namespace natter::client
