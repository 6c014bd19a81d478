#pragma once
// Paces say/whisper requests to the rate the server announces in `welcome` (pure; the clock is
// injected). A script piping a long file, or a person pasting 60 lines, would otherwise earn
// rate_limited errors for the lines beyond the server's burst. A person typing never notices:
// the burst covers any typist.
//
// Bounded: lines reach the pacer only as fast as the UI hands input over, and the line UI's
// reader stops reading while lines are held here (see conversation's input credits).
#include <cstddef>
#include <deque>
#include <cstdint>
#include <optional>
#include <utility>

#include "natter/clock.hpp"
#include "natter/client/client_events.hpp"
#include "natter/messages.hpp"
#include "natter/rate_limiter.hpp"

namespace natter::client {

struct paced_request {
  client_message message;
  std::uint64_t line_id = 0;  // the echoed line it belongs to (conversation_output's line ids)
  room_route route = room_route::end_to_end;  // a say: as its line was labelled
};

class send_pacer {
 public:
  // `steady` is natter::steady_ms in the program, a fake in tests.
  explicit send_pacer(ms_clock steady) : steady_(std::move(steady)) {}

  // The server's announced rate (messages per second, 0 = none) and burst. We aim a little
  // below both, so timing jitter never tips us over the server's bucket.
  void follow(double rate, double burst);

  // True (and a token is spent) if a new line may go out now: nothing held and a token free.
  [[nodiscard]] bool may_send_now();
  // Keeps a request until release() lets it go; order is kept.
  void hold(paced_request request) { held_.push_back(std::move(request)); }
  // The oldest held request, if the rate allows it now.
  [[nodiscard]] std::optional<paced_request> release();
  // The connection is gone: every held request, oldest first.
  [[nodiscard]] std::deque<paced_request> take_held() { return std::exchange(held_, {}); }

  [[nodiscard]] bool idle() const { return held_.empty(); }
  [[nodiscard]] std::size_t held() const { return held_.size(); }

 private:
  ms_clock steady_;
  rate_limiter limiter_{0, 1};  // unlimited until the server announces its rate
  std::deque<paced_request> held_;
};

}  // namespace natter::client
