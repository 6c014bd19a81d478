#pragma once
// When and whether to reconnect after the connection ends (pure: no sockets, no clock, the
// randomness injected). client_driver asks it twice: worth_reconnecting() decides if this end
// is one to come back from at all, next_delay() how long to wait before the next attempt.
//
// The schedule: the first attempt waits reconnect_first_delay, each further one twice as long,
// at most reconnect_max_delay, every delay moved by up to ±reconnect_jitter at random so that
// the clients a restarting server dropped all at once do not all knock at the same instant.
// After reconnect_max_attempts attempts in a row without a join, it gives up (about 8 minutes).
// A join starts the schedule again.
#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>

#include "natter/client/client_events.hpp"

namespace natter::client {

inline constexpr std::chrono::milliseconds reconnect_first_delay{500};
inline constexpr std::chrono::milliseconds reconnect_max_delay{30'000};
inline constexpr double reconnect_jitter = 0.25;  // ± this fraction of each delay
inline constexpr std::size_t reconnect_max_attempts = 20;

// How one connection ended, as far as the reconnect decision goes.
struct session_end {
  bool reconnect_enabled = false;  // a person, or --stay (a pipe without --stay never reconnects)
  bool ever_joined = false;        // this run joined once: a first connect that fails just fails
  bool quit_requested = false;     // /quit, Ctrl-C, a signal, the end of a script
  bool trust_refused = false;      // the user said no, or an unknown key was refused (no pin)
  std::optional<failure_kind> failure;  // the session's failure, if any
  std::string bye_reason;          // the server's bye reason ("kicked", "server_stopping"), if any
};

// True if this end is worth coming back from: the connection dropped, the server stopped or
// restarted, a handshake or join failed after an earlier join. Never after the user's quit, a
// kick, a changed server key (that is refused as loudly as on the first connect), or a trust
// refusal.
[[nodiscard]] bool worth_reconnecting(const session_end& end);

class reconnect_policy {
 public:
  // `uniform` returns a number in [0, 1); tests pass a fixed one.
  explicit reconnect_policy(std::function<double()> uniform);

  // The wait before the next attempt, counting it; nullopt once reconnect_max_attempts
  // attempts were made without a join (give up).
  [[nodiscard]] std::optional<std::chrono::milliseconds> next_delay();
  // A session joined: the next loss starts with the first delay again.
  void on_joined() { attempts_ = 0; }
  // Attempts made since the last join (the one next_delay() announced included).
  [[nodiscard]] std::size_t attempts() const { return attempts_; }

 private:
  std::function<double()> uniform_;
  std::size_t attempts_ = 0;
};

}  // namespace natter::client
