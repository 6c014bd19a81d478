#pragma once
// What a typed line means (pure). Plain text is a `say`; lines starting with '/' are commands;
// "//text" sends "/text". Everything is validated here, so a bad line is reported before anything
// is sent.
//
//   /w NAME TEXT, /msg NAME TEXT   whisper       /users          list online users
//   /whois NAME                    fingerprint   /fingerprint    your own fingerprint
//   /help                          commands      /quit [REASON]  leave
//   /me ACTION                     an action, shown as "* alice ACTION"
//   /away [MESSAGE]                away with MESSAGE; without it, back
//   /clear                         empty the full screen's message pane
// /verify [NAME] is handled by the UIs themselves (it needs the verified store).
#include <cstddef>
#include <string>
#include <string_view>
#include <variant>

namespace natter::client {

struct say_command { std::string text; bool action = false; };  // action: /me
struct whisper_command { std::string to; std::string text; };
struct users_command {};
struct whois_command { std::string name; };
struct fingerprint_command {};
struct help_command {};
struct clear_command {};
struct quit_command { std::string reason; };
struct away_command { std::string message; };  // empty: back
struct empty_command {};  // a blank line: nothing to do
// The line was refused; `message` says why and how to do it right.
struct command_error { std::string message; };

using command = std::variant<say_command, whisper_command, users_command, whois_command,
                             fingerprint_command, help_command, clear_command, quit_command,
                             empty_command, command_error, away_command>;

// `max_text` is the text limit in bytes (the server's, once known from `welcome`).
[[nodiscard]] command parse_command(std::string_view line, std::size_t max_text);

// A line that is text whatever it starts with (a pasted line: "/w bob" in a paste is text):
// a say_command, an empty_command, or a command_error if the text cannot be sent.
[[nodiscard]] command parse_text(std::string_view line, std::size_t max_text);

// The /help text, one command per line.
[[nodiscard]] std::string_view command_help();

}  // namespace natter::client
