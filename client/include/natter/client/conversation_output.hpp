#pragma once
// What a conversation hands to its user interface: lines to show and actions to carry out.
// Both front ends read the same stream; only how a kind looks differs (line mode picks stdout
// or stderr, the full screen a colour).
#include <cstdint>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "natter/client/client_events.hpp"
#include "natter/messages.hpp"

namespace natter::client {

enum class shown_kind {
  chat,         // a broadcast from someone else
  own_chat,     // a broadcast we sent (the full screen's local echo)
  whisper_in,   // a whisper to us
  whisper_out,  // a whisper we sent
  info,         // room information and answers to commands: line mode's stdout
  hint,         // guidance for the person at the keyboard ("type /help"): stderr, so scripts' stdout stays clean
  notice,       // the session's own remarks (a pin saved, a request it would not send)
  error,        // errors, refusals, failures
  trace,        // --trace frames
  prompt,       // a y/N question now waiting for the next line (no newline in line mode)
};

// Where a line we sent stands. Only lines the UI echoes (the full screen) carry one: the log
// never shows an unsent line as sent.
enum class send_state {
  none,     // not a line we sent (or not echoed)
  pending,  // waiting for the rate, or sent and not yet acknowledged
  sent,     // the server acknowledged it
  failed,   // refused (the error named it), or the connection closed first
};

struct shown_line {
  shown_kind kind = shown_kind::info;
  std::string text;  // may hold several lines separated by '\n'; no trailing newline
  std::uint64_t id = 0;                 // nonzero: a later line_mark may change its state
  send_state state = send_state::none;
  std::string from{};      // chat: who wrote it (printable), for the name's colour
  bool highlight = false;  // about us: a whisper to us, or a broadcast naming us
  bool ring = false;       // ring the terminal's bell for it (a highlight, bells on)
};

// A shown line's new state; `reason` says why it failed.
struct line_mark {
  std::uint64_t id = 0;
  send_state state = send_state::sent;
  std::string reason;
};

struct send_action {
  client_message message;
  std::uint64_t line_id = 0;  // the echoed line this request carries, if any
  room_route route = room_route::end_to_end;  // a say: as its line was labelled
};
struct quit_action { std::string reason; };  // quit once every say/whisper is acknowledged
struct trust_action { bool trusted; };        // the answer to a trust_request_event
// A key was marked verified: add this entry to the verified store on disk. The entry travels
// (not the whole store) so a second natter running at the same time keeps its own marks.
struct save_verified_action {
  std::string server;       // "host:port"
  std::string name;         // empty: the server's own key
  std::string key;          // 64 hex digits: the server's X25519 key or the user's Ed25519 key
};
// /clear: empty the message pane, keeping the log (the full screen carries it out itself).
struct clear_view_action {};
// /accept NAME, /verify NAME's safety number: for the end-to-end layer (session_link::e2e_command).
struct e2e_command_action { e2e_user_command command; };
using conversation_action =
    std::variant<send_action, quit_action, trust_action, save_verified_action, clear_view_action, e2e_command_action>;

// Collects output until the UI takes it.
struct outbox {
  std::vector<shown_line> lines;
  std::vector<conversation_action> actions;
  std::vector<line_mark> marks;

  void show(shown_kind kind, std::string text) {
    shown_line line;
    line.kind = kind;
    line.text = std::move(text);
    lines.push_back(std::move(line));
  }
  void mark(std::uint64_t id, send_state state, std::string reason = {}) {
    marks.push_back({id, state, std::move(reason)});
  }
  // Built in place: moving a whole variant in trips GCC 12's -Wmaybe-uninitialized.
  template <typename Action>
  void act(Action action) {
    actions.emplace_back(std::in_place_type<Action>, std::move(action));
  }
};

}  // namespace natter::client
