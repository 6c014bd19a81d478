#pragma once
// The JSON messages of docs/PROTOCOL.md §5 as plain structs. Parsing and building live in
// message_parse.hpp and message_build.hpp; this header has no JSON dependency. Each struct's JSON
// members (keys, types, which are optional, how they are checked) are declared once, in
// common/src/message_schema.hpp: a new member goes here and there.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace natter {

using request_ref = std::optional<std::uint64_t>;

// ---- client -> server ------------------------------------------------------------------------
struct join_request {
  std::string name;
  request_ref ref;
  // Moving a name registered under protocol 1 to this identity (PROTOCOL.md "Migration"): the v1
  // public key (64 hex) and the proof made with its secret (144 hex). Both or neither.
  // (Defaulted members: initialisers written before they existed stay valid.)
  std::string migrate_from = {};
  std::string migration_proof = {};
};
// `action`: an IRC-style action (/me waves), shown as "* alice waves" (PROTOCOL.md §4.3).
struct say_request { std::string text; request_ref ref; bool action = false; };
struct whisper_request { std::string to; std::string text; request_ref ref; bool action = false; };
struct users_request { request_ref ref; };
struct whois_request { std::string name; request_ref ref; };
struct ping_request { request_ref ref; };
struct quit_request { std::string reason; };
// An end-to-end body for the server to route, not read (PROTOCOL.md "End-to-end envelope"):
// kind "room" goes to every other member, the others to `to`. `body` is base64 of bytes sealed
// by the sender's client for the recipients' clients (docs/E2E.md).
struct e2e_request {
  std::string kind;  // e2e_kind: handshake, key, whisper, room
  std::string to;    // a user name; empty for kind room
  std::string body;
  request_ref ref;
};


// Marks us away with `message` (at most max_reason bytes), or back when it is empty. Not
// answered: the status shows in whois, users, and the ack of a whisper to us (PROTOCOL.md §4.3).
struct away_request { std::string message; request_ref ref; };

using client_message = std::variant<join_request, say_request, whisper_request, users_request,
                                    whois_request, ping_request, quit_request, away_request,
                                    e2e_request>;

// ---- server -> client ------------------------------------------------------------------------
struct user_info {
  std::string name;
  std::string fingerprint;
  std::int64_t since_ms = 0;
  std::string key = {};  // the identity key (Ed25519, 64 hex) the fingerprint names
  std::string away = {};  // the user's away message; empty: not away
};

struct welcome_event {
  std::string name;
  std::vector<user_info> users;
  std::uint64_t user_count = 0;  // all online users; `users` holds at most max_users_per_message
  std::string motd;
  std::uint64_t max_frame = 0;
  std::uint64_t max_text = 0;
  double rate = 0;   // say/whisper per second this server allows a user (0: no limit)
  double burst = 0;  // how many it allows at once
};
struct ack_event {
  std::uint64_t ref = 0;
  std::uint64_t id = 0;
  std::int64_t ts_ms = 0;
  std::string away = {};  // a whisper's recipient is away: their message (irssi's "bob is away")
};
struct chat_event {
  std::uint64_t id = 0;
  std::int64_t ts_ms = 0;
  std::string from;
  std::string to;      // empty for broadcasts
  std::string text;
  bool whisper = false;
  bool action = false;  // the sender's /me: "* from text"
};
struct presence_event {
  bool joined = false;
  std::string name;
  std::string fingerprint;  // joined only
  std::string reason;       // left only
  std::string key = {};     // joined only: the identity key (64 hex)
  // left only: the words that came with it (the quit's reason, the kick's), at most
  // limits::max_reason bytes of UTF-8; empty if none.
  std::string message = {};
};
// Long lists come in several `users` messages; all but the last have more = true.
struct users_event { request_ref ref; std::vector<user_info> users; bool more = false; };
struct whois_event {
  request_ref ref;
  std::string name;
  std::string fingerprint;
  bool online = false;
  std::string key = {};  // the identity key (64 hex) registered for the name; none for a v1 owner
  std::string away = {};  // online and away: the away message
};
struct pong_event { request_ref ref; };
struct error_event { std::string code; std::string message; request_ref ref; };
struct bye_event { std::string reason; std::string message; };
// An end-to-end body as routed: the server sets `from` (the sender's joined name), `id` and `ts`;
// kind, to and body are the sender's, byte for byte.
struct e2e_event {
  std::uint64_t id = 0;
  std::int64_t ts_ms = 0;
  std::string from;
  std::string kind;
  std::string to;  // empty for kind room
  std::string body;
};

using server_message = std::variant<welcome_event, ack_event, chat_event, presence_event,
                                    users_event, whois_event, pong_event, error_event, bye_event, e2e_event>;

// The kinds of end-to-end bodies (docs/E2E.md "On the wire"). The server routes on the kind and
// rates handshake and key bodies apart from whisper and room bodies (chat).
namespace e2e_kind {
inline constexpr std::string_view handshake = "handshake";  // a pairwise Noise KK message
inline constexpr std::string_view key = "key";              // a pairwise body carrying a sender key
inline constexpr std::string_view whisper = "whisper";      // a pairwise body carrying a text
inline constexpr std::string_view room = "room";            // a sender-key room message, to all
}  // namespace e2e_kind
[[nodiscard]] bool is_e2e_kind(std::string_view kind);
// Standard base64 (RFC 4648 §4, with padding), 4..limits::max_e2e_body characters.
[[nodiscard]] bool is_e2e_body(std::string_view body);

// ---- errors ----------------------------------------------------------------------------------
// Error codes carried in `error` messages (PROTOCOL.md §5, "Error codes").
namespace errc {
inline constexpr std::string_view bad_json = "bad_json";
inline constexpr std::string_view bad_message = "bad_message";
inline constexpr std::string_view unknown_type = "unknown_type";
inline constexpr std::string_view bad_name = "bad_name";
inline constexpr std::string_view bad_text = "bad_text";
inline constexpr std::string_view not_joined = "not_joined";
inline constexpr std::string_view already_joined = "already_joined";
inline constexpr std::string_view name_in_use = "name_in_use";
inline constexpr std::string_view name_taken = "name_taken";
inline constexpr std::string_view unknown_user = "unknown_user";
inline constexpr std::string_view rate_limited = "rate_limited";
inline constexpr std::string_view too_many_batched = "too_many_batched";
inline constexpr std::string_view bad_migration = "bad_migration";
inline constexpr std::string_view bad_body = "bad_body";
inline constexpr std::string_view banned = "banned";  // join refused: the operator banned this identity or address
inline constexpr std::string_view internal = "internal";
}  // namespace errc

// A refusal of one message: becomes an `error` message to the peer, never a disconnect.
struct message_error {
  std::string code;
  std::string message;
  request_ref ref;
};

// Why a user left (the `reason` of `presence` and `bye`).
enum class leave_reason { quit, dropped, kicked, timeout, too_slow, protocol_error, server_stopping };
[[nodiscard]] std::string_view to_string(leave_reason reason);
// The `bye` message of a kick the operator gave no reason for (PROTOCOL.md §4.8). It says
// nothing the reason `kicked` does not, so the others are not told it and clients do not repeat it.
inline constexpr std::string_view kick_without_reason = "kicked by the operator";

}  // namespace natter
