#pragma once
// What a conversation hands to its user interface: lines to show and actions to carry out.
// Both front ends read the same stream; only how a kind looks differs (line mode picks stdout
// or stderr, the full screen a colour).
#include <string>
#include <utility>
#include <variant>
#include <vector>

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

struct shown_line {
  shown_kind kind = shown_kind::info;
  std::string text;  // may hold several lines separated by '\n'; no trailing newline
};

struct send_action { client_message message; };
struct quit_action { std::string reason; };  // quit once every say/whisper is acknowledged
struct trust_action { bool trusted; };        // the answer to a trust_request_event
// A key was marked verified: add this entry to the verified store on disk. The entry travels
// (not the whole store) so a second natter running at the same time keeps its own marks.
struct save_verified_action {
  std::string server;       // "host:port"
  std::string name;         // empty: the server's own key
  std::string fingerprint;
};
using conversation_action = std::variant<send_action, quit_action, trust_action, save_verified_action>;

// Collects output until the UI takes it.
struct outbox {
  std::vector<shown_line> lines;
  std::vector<conversation_action> actions;

  void show(shown_kind kind, std::string text) { lines.push_back({kind, std::move(text)}); }
  void act(conversation_action action) { actions.push_back(std::move(action)); }
};

}  // namespace natter::client
