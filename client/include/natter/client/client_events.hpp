#pragma once
// What the protocol layer tells a user interface. A UI (line mode today, full screen later)
// consumes a stream of these and needs to know nothing about frames, keys or sockets.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "natter/messages.hpp"

namespace natter::client {

// One frame sent or received, for --trace: enough to match a terminal line with a Wireshark
// frame (frame number per direction, including the plaintext handshake frames).
struct trace_event {
  bool outgoing = false;
  std::uint64_t frame_number = 0;     // 1-based, per direction, handshake frames included
  std::size_t length = 0;             // the frame's length field (body bytes)
  std::string label;                  // "hello", "key exchange", "refusal", "session"
  std::optional<std::uint64_t> counter;  // session frames: the nonce counter
  std::size_t ciphertext_size = 0;    // session frames: bytes after nonce and MAC
  std::string detail;                 // decrypted JSON, or a description of a handshake frame
};

// How the server's key came to be trusted on this connection.
enum class pin_state {
  pinned,   // it matched a pin from an earlier connection
  new_pin,  // it was unknown and was pinned just now (trust on first use)
};

// The handshake is complete; the session key exists.
struct established_event {
  std::string connection_id_hex;
  // Filled in by client_driver, which does the pin check (the session knows no pins).
  std::string server_fingerprint;
  std::string server_key;  // 64 hex digits, the key the fingerprint names (what /verify marks)
  pin_state pin = pin_state::pinned;
};

// Local information worth showing (e.g. a server message this client does not understand).
struct notice_event {
  std::string text;
};

// The server's key is not pinned and the user has to decide (interactive mode only).
struct trust_request_event {
  std::string host;         // "host:port" as pinned
  std::string fingerprint;  // of the offered key
};

enum class failure_kind {
  runtime,          // exit 1: cannot connect, refused, protocol error
  key_mismatch,     // exit 3: the server key differs from the pinned or expected one
  connection_lost,  // exit 5: the joined session's connection dropped (and was not, or no longer, retried)
};

// The session cannot continue. The connection is (being) closed; a closed_event follows.
struct failure_event {
  failure_kind kind = failure_kind::runtime;
  std::string message;
};

// The connection ended and client_driver will try again (reconnect_policy.hpp): the events
// of the next connection (established, welcome, ...) follow on the same stream. No
// failure_event or closed_event is sent for an end that is retried.
struct reconnecting_event {
  std::string reason;         // why the last connection ended, or why the last attempt failed
  std::int64_t delay_ms = 0;  // the wait before the next attempt
  std::size_t attempt = 0;    // 1-based, counted since the last join
};

// The connection is gone for good. Always the last event.
struct closed_event {
  std::string reason;
  bool after_quit = false;  // the user asked to leave (quit sent, or asked while connecting or reconnecting)
  bool bye_received = false;
};

// What the end-to-end layer shows (e2e_layer): a text a peer sealed and we opened and checked,
// a text that came without end-to-end protection (an old-style chat event), a warning (a body
// that failed, a replay, a changed key: show loudly) or a notice (the room code, a new pin).
// room_open / room_end_to_end: the room just became open (more members than the end-to-end
// limit: room texts go as plain say, readable by the server) or end to end again; `text` says
// so, `room_members` is the count (room_directory.hpp).
enum class e2e_shown { message, not_end_to_end, warning, notice, trace, room_open, room_end_to_end };  // trace: --trace only
struct e2e_shown_event {
  e2e_shown kind = e2e_shown::notice;
  std::string from;    // message, not_end_to_end: the sender (authenticated by the body for message)
  std::string text;    // already checked with text_problem for message; printable() it anyway
  bool whisper = false;
  std::int64_t ts_ms = 0;  // the server's time stamp (not authenticated)
  bool verified = false;   // the conversation sets it: the sender's key was verified (/verify)
  std::string to = {};     // a whisper we sent (from is us): its recipient, shown once acknowledged
  bool action = false;     // /me: the text began with e2e_action_prefix (taken off), docs/E2E.md §12
  std::size_t room_members = 0;  // room_open, room_end_to_end: the members counted
};

// How a room text is to go, as the conversation labelled it when it showed the line: the
// session sends it that way, so a line is never shown as end to end when it was not (the
// conversation learns of an open room through an event, and a line may be on its way meanwhile).
enum class room_route {
  end_to_end,    // sealed for the members (the default: every caller that does not say)
  in_the_clear,  // the room is open: a plain say, readable by the server
};

// What a room text refused under --require-e2e says (the conversation's and the session's).
inline std::string require_e2e_refusal(std::size_t members) {
  return "not sent: the room is open (" + std::to_string(members) + " members) and --require-e2e is set";
}

// End to end, an action (/me) is a text that begins with this: the body authenticates the whole
// text, so only its sender can make one, and the server cannot tell an action from a text.
inline constexpr std::string_view e2e_action_prefix = "/me ";

// What the user asks of the end-to-end layer (/accept NAME, /verify NAME's safety number).
struct e2e_user_command {
  enum class what { accept_key, safety_number } what = what::safety_number;
  std::string name;
};

using client_event = std::variant<server_message, trace_event, established_event, notice_event,
                                  trust_request_event, failure_event, reconnecting_event, closed_event,
                                  e2e_shown_event>;

}  // namespace natter::client
