#pragma once
// The conversation both user interfaces share (pure): who is online, the y/N question waiting
// for an answer, what each server event looks like, what a typed line does, how scripted input
// is paced, and the exit code. Events from client_driver go in through on_event(), the user's
// lines through on_line(); what to show and what to do come out through take_lines() and
// take_actions(). No sockets, no terminal, no files and no clock of its own, so every behaviour
// is unit-tested; line_ui and tui_state only render it and read keys.
//
// Reconnecting: client_driver feeds each new session's events into the same conversation. A
// reconnecting_event marks the lines still waiting as failed, remembers who was online and
// counts down; the next welcome says "reconnected" and what changed while we were away
// (away_summary.hpp). The config file fills conversation_config.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "natter/client/client_events.hpp"
#include "natter/client/command_parser.hpp"
#include "natter/client/away_summary.hpp"
#include "natter/client/conversation_output.hpp"
#include "natter/client/formatter.hpp"
#include "natter/client/key_verification.hpp"
#include "natter/client/outgoing_lines.hpp"
#include "natter/client/question.hpp"
#include "natter/client/roster.hpp"
#include "natter/client/verified_store.hpp"
#include "natter/clock.hpp"

namespace natter::client {

// Scripted input is sent as fast as the server acknowledges it, with at most this many
// say/whisper requests unacknowledged (the server rate-limits; flooding it only earns errors).
inline constexpr std::size_t send_window = 16;
// Lines entered before the join wait for it, in order. The line UI's reader stops after a few
// unconsumed lines, but one 4 KiB read can hand over up to 4 096 (empty) lines; beyond this
// limit a line is refused rather than kept.
inline constexpr std::size_t max_waiting_lines = 8192;
// Users the server announced as leaving because it stops (remembered for "while you were
// away"); a server could announce any number, so only this many are kept.
inline constexpr std::size_t max_stopping_users = 4096;

struct conversation_config {
  std::string server;           // "host:port" as pinned (known_hosts' host_key())
  std::string own_name;         // as requested; the server's spelling replaces it on welcome
  std::string own_fingerprint;  // for /fingerprint
  // A person answers (questions, /verify, errors only inform). false: a script, whose lines
  // are paced, whose refused lines fail it, and which quits at the end of its input.
  bool interactive = true;
  bool stay = false;               // script: stay until the server closes or a signal (--stay)
  std::optional<long> wait_ms;     // script: linger this long after the end of input (--wait-ms)
  bool trace = false;              // show --trace frames
  bool utc = false;                // clock in UTC (tests)
  bool echo_sent = false;          // show what we send (the full screen; a terminal shows typed lines itself)
  std::string keys_help;           // more /help text (the full screen's keys)
  bool can_clear = false;          // /clear empties the view (the full screen; a terminal has its own)
  // Ring the bell (BEL, which most terminals also turn into an urgency hint) for a broadcast
  // naming us, and for a whisper to us. On by default; set by the config file's [notifications].
  bool bell_on_mention = true;
  bool bell_on_whisper = true;
  std::string clock_format = "%H:%M";  // strftime for the clock on lines (timestamp_format)
  // The chat log, if logging is on (chat_log::write): handed what the person saw of messages,
  // whispers (our own once acknowledged) and presence, as one line of text without the clock
  // and without fingerprints. An error it returns is shown once, and logging stops.
  std::function<std::optional<std::string>(std::string_view)> log;
  // --require-e2e: in an open room (more members than the end-to-end limit, room_directory.hpp)
  // a room text is refused rather than sent where the server can read it.
  bool require_e2e = false;
};

// What the config file sets for a conversation, whichever interface runs it.
struct conversation_preferences {
  bool bell_on_mention = true;
  bool bell_on_whisper = true;
  std::string clock_format = "%H:%M";
  std::function<std::optional<std::string>(std::string_view)> log;  // see conversation_config::log
  bool require_e2e = false;  // --require-e2e or the config file's require_e2e
};

inline void apply_preferences(conversation_config& config, const conversation_preferences& preferences) {
  config.bell_on_mention = preferences.bell_on_mention;
  config.bell_on_whisper = preferences.bell_on_whisper;
  config.clock_format = preferences.clock_format;
  config.log = preferences.log;
  config.require_e2e = preferences.require_e2e;
}

// What the conversation reads from the session: client_driver's snapshots in the program.
struct session_progress {
  std::size_t unacknowledged = 0;  // say/whisper neither acknowledged nor refused yet
  std::size_t refused = 0;         // say/whisper refused by the server or too large to send
};

// Time and the session's counters, injected so tests need neither a clock nor a network.
struct conversation_probes {
  ms_clock steady = natter::steady_ms;  // pacing and --wait-ms
  std::function<session_progress()> progress = [] { return session_progress{}; };
};

class conversation {
 public:
  conversation(conversation_config config, verified_store verified, conversation_probes probes = {});

  // Everything client_driver reports, in order.
  void on_event(const client_event& event);
  // A line the user entered; `typed_at_ms` (wall clock) stamps its echo. Answers a waiting
  // question, or runs the line as a command; before the join it waits for the join. A line that
  // is not y/n at a question is not taken as "no": the trust question is asked again (nothing
  // can be sent before it is answered); a /verify question is answered no and the line runs.
  void on_line(std::string line, std::int64_t typed_at_ms);
  // Text pasted as several lines (the full screen tells a paste from typing by bracketed
  // paste). They are text even when they start with '/', and are sent only after a yes to
  // "Send N pasted lines?", then paced to the server's rate like everything else.
  void on_paste(std::vector<std::string> lines, std::int64_t pasted_at_ms);
  // End of input. A person (Ctrl-D) leaves now; a script leaves once its lines are sent and
  // acknowledged (after --wait-ms; never with --stay).
  void on_input_end();
  // The person wants out (Ctrl-C, Ctrl-D): says no to a waiting trust question (nothing was
  // sent yet, so that ends it), otherwise quits, once.
  void leave();
  // Moves time-driven work along (paced lines, input credits, the end of a script). Call it
  // after every event and at least every few tens of milliseconds.
  void tick();

  [[nodiscard]] std::vector<shown_line> take_lines() { return std::exchange(out_.lines, {}); }
  // The actions to carry out, in order: the UI must hand every send to the session before it
  // takes actions again (answers are matched to requests in this order; see sent_requests).
  [[nodiscard]] std::vector<conversation_action> take_actions();
  // New states of lines shown earlier (an echo acknowledged, refused or cut off).
  [[nodiscard]] std::vector<line_mark> take_marks() { return std::exchange(out_.marks, {}); }
  // Something waits for tick() (paced lines): call it again soon.
  [[nodiscard]] bool pacing() const { return !outgoing_.idle(); }
  // Input lines fully dealt with since the last call: the line UI's reader may read that many
  // more (its backpressure). Lines held for the join, the pacer or the send window count later.
  [[nodiscard]] std::size_t take_finished_lines() { return std::exchange(finished_lines_, 0); }

  [[nodiscard]] const std::optional<question>& waiting_question() const { return question_; }
  [[nodiscard]] const roster& online() const { return roster_; }
  [[nodiscard]] const verified_store& verified() const { return verification_.store(); }
  [[nodiscard]] bool user_verified(const user_info& user) const;
  [[nodiscard]] const std::string& own_name() const { return config_.own_name; }
  [[nodiscard]] const std::string& server() const { return config_.server; }
  [[nodiscard]] const std::string& server_fingerprint() const { return server_fingerprint_; }  // empty until the handshake
  // "verified ✓", "new" (pinned on this connection) or "pinned".
  [[nodiscard]] std::string server_key_state() const;
  [[nodiscard]] bool joined() const { return joined_; }
  // The session's end-to-end layer is on: it speaks (the room code follows every welcome).
  [[nodiscard]] bool end_to_end() const { return end_to_end_; }
  // The room is open (the session said so): our room texts go where the server can read them
  // (labelled [not e2e]), or with --require-e2e not at all. Whispers stay end to end.
  [[nodiscard]] bool room_open() const { return room_open_; }
  [[nodiscard]] bool quitting() const { return quitting_; }
  [[nodiscard]] bool closed() const { return closed_; }
  [[nodiscard]] bool closed_after_quit() const { return closed_after_quit_; }
  // Between a lost connection and the next welcome (the driver is reconnecting).
  [[nodiscard]] bool reconnecting() const { return away_.has_value(); }
  // While reconnecting: how long until the next attempt (0 once it is under way).
  [[nodiscard]] std::optional<std::int64_t> reconnect_wait_ms() const;
  // The process exit code (app.hpp): 0 ok, 1 a runtime failure (refused; for a script also any
  // refused line), 3 the server key did not match, 4 kicked, 5 the server stopped or the
  // connection was lost and not (or no longer) retried.
  [[nodiscard]] int exit_code() const;
  // Why the session failed, to repeat after a full screen is gone; a failure may span several
  // lines ('\n', each made printable), as the key-change warning does.
  [[nodiscard]] const std::vector<std::string>& failures() const { return failures_; }

 private:
  struct waiting_line {
    std::string text;
    std::int64_t typed_at_ms = 0;
  };

  void on_server_message(const server_message& message);
  void on_welcome(const welcome_event& welcome);
  void on_e2e_shown(e2e_shown_event e);
  void on_room_state(const e2e_shown_event& e);
  // "[e2e] " / "[not e2e] " for our own room lines once the end-to-end layer speaks, else "".
  [[nodiscard]] std::string own_room_label(room_route route) const;
  void on_closed(const closed_event& closed);
  void on_reconnecting(const reconnecting_event& reconnecting);
  // Shows the event's line, if it has one (nullptr if not), so the caller may add to it.
  shown_line* show_formatted(const client_event& event, std::optional<shown_kind> kind = std::nullopt);
  void ask(question asked);
  void on_reply(std::string line, std::int64_t typed_at_ms);  // a line while a question waits
  void answer(bool yes);
  void run_line(std::string line, std::int64_t typed_at_ms);
  void run_command(command cmd, std::int64_t typed_at_ms);
  void show_fingerprints();
  void quit(std::string reason);
  void release_finished_lines();
  void log(const std::string& text);  // to the chat log, if any
  void fail_script();  // a script whose line was refused exits 1; a person just reads the error

  conversation_config config_;
  conversation_probes probes_;
  outbox out_;
  roster roster_;
  key_verification verification_;
  outgoing_lines outgoing_;
  std::optional<question> question_;
  std::deque<waiting_line> waiting_for_join_;
  std::vector<std::string> paste_;  // pasted lines waiting for the send_paste answer
  std::int64_t pasted_at_ms_ = 0;
  std::size_t max_text_;
  std::string server_fingerprint_;
  std::string server_key_;  // its X25519 static key, 64 hex digits: what /verify marks
  pin_state pin_ = pin_state::pinned;
  std::size_t held_lines_ = 0;      // input lines taken but not yet finished
  std::size_t finished_lines_ = 0;  // finished, not yet handed back by take_finished_lines()
  std::optional<std::int64_t> linger_until_ms_;
  bool joined_ = false;
  bool end_to_end_ = false;
  bool room_open_ = false;
  std::size_t room_members_ = 0;        // as the last room_open event counted them
  bool open_before_reconnect_ = false;  // the last connection's room was open
  bool quitting_ = false;
  bool input_ended_ = false;
  bool closed_ = false;
  bool closed_after_quit_ = false;
  std::optional<user_list_view> away_;  // who was online when the connection was lost
  // Users who "left" only because the server stops: they were here until the connection went
  // with them, so "while you were away" counts them as present before (by folded name).
  std::map<std::string, user_info> stopping_;
  std::int64_t reconnect_at_ms_ = 0;    // steady clock: the next attempt
  std::optional<bye_event> bye_;        // the server's last bye (why it sent us away)
  int exit_code_ = 0;
  std::vector<std::string> failures_;
};

}  // namespace natter::client
