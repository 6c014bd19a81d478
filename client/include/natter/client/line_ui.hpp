#pragma once
// The line-mode front end: it renders the shared conversation as lines and feeds it what was
// typed. Conversation lines go to `out` (stdout), notices, errors, --trace and y/N questions to
// `err` (stderr), one line at a time and flushed at once, since scripts and tests read our
// stdout through a pipe. Actions go to a session_link. No threads and no terminal: line_app
// runs it against client_driver and stdin; tests drive it with string streams and a fake link.
#include <cstddef>
#include <filesystem>
#include <optional>
#include <ostream>
#include <string>

#include "natter/client/client_events.hpp"
#include "natter/client/conversation.hpp"
#include "natter/client/session_link.hpp"
#include "natter/clock.hpp"

namespace natter::client {

struct line_ui_settings {
  bool interactive = false;             // stdin is a terminal
  bool trace = false;                   // show trace events
  std::optional<long> wait_ms;          // non-interactive: linger after end of input
  bool stay = false;                    // non-interactive: stay until the server closes or a signal
  std::string own_fingerprint;          // for /fingerprint
  std::filesystem::path verified_path;  // interactive /verify: the verified store
  conversation_preferences preferences; // the config file's bells, clock and chat log
};

class line_ui {
 public:
  // `server` is "host:port" as pinned; `own_name` as requested. `link` is borrowed. The verified
  // store is read now, for a person only (a script never verifies keys).
  line_ui(const line_ui_settings& settings, std::string server, std::string own_name, session_link& link,
          std::ostream& out, std::ostream& err, ms_clock steady = natter::steady_ms);

  void on_event(const client_event& event);
  void on_line(std::string line);
  void on_input_end();  // Ctrl-D, or the end of a script's input
  void on_tick();       // call at least every few tens of milliseconds

  // The connection is closed: the UI is done.
  [[nodiscard]] bool finished() const { return conversation_.closed(); }
  // False once quitting: the reader may stop.
  [[nodiscard]] bool wants_input() const { return !conversation_.quitting(); }
  // Input lines dealt with since the last call (the reader's backpressure).
  [[nodiscard]] std::size_t take_finished_lines() { return conversation_.take_finished_lines(); }
  [[nodiscard]] int exit_code() const { return conversation_.exit_code(); }

 private:
  void flush();  // writes the conversation's lines and carries out its actions
  void write(const shown_line& line);

  line_ui_settings settings_;
  std::string store_error_;  // the verified store could not be read (shown once, at start)
  session_link& link_;
  std::ostream& out_;
  std::ostream& err_;
  conversation conversation_;
};

}  // namespace natter::client
