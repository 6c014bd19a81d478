#pragma once
// The `natter` program: options, identity, name, key log, then the line or full-screen UI.
// main() only calls this; exceptions that escape start-up are caught here and become exit status 1.
namespace natter::client {

// Exit codes (README "Exit codes"); the full screen and line mode, --stay included, agree.
inline constexpr int exit_ok = 0;            // the user quit, or a script's input was all sent
inline constexpr int exit_failure = 1;       // could not connect or join, a protocol error, a script's line refused
inline constexpr int exit_usage = 2;         // bad command line
inline constexpr int exit_key_mismatch = 3;  // the server's key is not the pinned or expected one
inline constexpr int exit_kicked = 4;        // the operator kicked us
inline constexpr int exit_disconnected = 5;  // the server stopped or the connection was lost, and it was not
                                             // (a pipe) or no longer (gave up reconnecting) retried

[[nodiscard]] int run_app(int argc, char** argv);

}  // namespace natter::client
