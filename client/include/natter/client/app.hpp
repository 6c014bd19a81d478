#pragma once
// The `natter` program: options, identity, name, key log, then the line or full-screen UI.
// main() only calls this; exceptions that escape start-up are caught here and become exit status 1.
namespace natter::client {

inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1;
inline constexpr int exit_usage = 2;
inline constexpr int exit_key_mismatch = 3;

[[nodiscard]] int run_app(int argc, char** argv);

}  // namespace natter::client
