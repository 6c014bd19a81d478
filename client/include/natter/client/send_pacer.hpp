#pragma once
// Paces scripted say/whisper lines to the rate the server announces in `welcome` (pure; the
// clock is injected). A script piping a long file would otherwise earn rate_limited errors,
// which fail it. A person typing is never paced: the server's burst covers any typist.
//
// Bounded: lines reach the pacer only as fast as the UI hands input over, and the line UI's
// reader stops reading while lines are held here (see conversation's input credits).
#include <cstddef>
#include <deque>
#include <optional>

#include "natter/client/command_parser.hpp"
#include "natter/clock.hpp"
#include "natter/rate_limiter.hpp"

namespace natter::client {

class send_pacer {
 public:
  // `steady` is natter::steady_ms in the program, a fake in tests.
  explicit send_pacer(ms_clock steady) : steady_(std::move(steady)) {}

  // The server's announced rate (messages per second, 0 = none) and burst. We aim a little
  // below both, so timing jitter never tips us over the server's bucket.
  void follow(double rate, double burst);

  // True (and a token is spent) if a new line may go out now: nothing held and a token free.
  [[nodiscard]] bool may_send_now();
  // Keeps a line until release() lets it go; order is kept.
  void hold(command line) { held_.push_back(std::move(line)); }
  // The oldest held line, if the rate allows it now.
  [[nodiscard]] std::optional<command> release();

  [[nodiscard]] bool idle() const { return held_.empty(); }
  [[nodiscard]] std::size_t held() const { return held_.size(); }

 private:
  ms_clock steady_;
  rate_limiter limiter_{0, 1};  // unlimited until the server announces its rate
  std::deque<command> held_;
};

}  // namespace natter::client
