// The engine's rekey of pairwise sessions (docs/E2E.md §5 "Rekey"): when a session is due, how
// the new one takes over, and how long the replaced one lives. The handshake itself is the one a
// first session uses (e2e_engine.cpp: start_handshake, on_handshake, install).
//
// Who does what, for a rekey alice starts (bob the peer):
//   alice: her session is due -> KK init; texts go on in the old session.
//   bob:   answers; the new session is his *candidate* (unconfirmed: the init could be a replay),
//          his texts go on in the old session.
//   alice: the response authenticates -> the new session is hers to send in; the old one is kept
//          for the grace. Her first body in the new one is her sender key (bob already holds it
//          and ignores the repeat): it is what shows bob the new session is live.
//   bob:   that body opens in the candidate -> it becomes his session; the old one is kept for
//          the grace. Bodies either side sealed in the old one before seeing the switch still open.
//   alice: should a body of bob's still come in the old session, her confirming body may have been
//          lost (the server refused or dropped it): she sends it once more, in the new session.
// After the grace the old session is wiped: its chains and skipped keys are gone, so nothing
// sealed in it opens any more (forward secrecy across the rekey), and a body in it gets a warning.
#include <utility>

#include "natter/client/e2e_engine.hpp"

namespace natter::client {

bool e2e_engine::rekey_due(const peer& p, e2e_clock::time_point now) const {
  if (!p.session || p.setup || p.held || p.unreachable || now < p.next_rekey_attempt) return false;
  // A new session awaiting the peer's first body is the peer's rekey under way. One left
  // unconfirmed this long came from a replayed init and does not hold ours back.
  if (p.candidate && now - p.candidate_since < handshake_timeout) return false;
  const auto& s = *p.session;
  if (s.should_rekey(rekey_.after_messages)) return true;
  // The peer renews the chain it sends on; one that does not (an older client) is renewed by us.
  if (s.received_up_to() >= 2ULL * rekey_.after_messages) return true;
  // By age: the side that initiated the session renews it, so the two do not both start; the
  // other only if that did not happen (twice the age).
  const auto age = now - p.session_since;
  return age >= (p.session_ours ? rekey_.after_age : 2 * rekey_.after_age);
}

void e2e_engine::maybe_rekey(peer& p, e2e_clock::time_point now, e2e_output& out) {
  if (rekey_due(p, now)) (void)start_handshake(p, now, out);
}

void e2e_engine::switch_to(peer& p, crypto::e2e::pairwise_session session, bool ours, e2e_clock::time_point now,
                           e2e_output& out) {
  if (p.session) {
    // Bounded: one replaced session per peer. A second rekey within the grace ends the first's.
    if (p.previous) retire_previous(p, now, out);
    p.previous = std::move(p.session);
    p.previous_until = now + rekey_.grace;
  }
  p.session = std::move(session);
  p.session_since = now;
  p.session_ours = ours;
  p.candidate.reset();
  p.next_rekey_attempt = {};
  p.reconfirmed = false;
}

void e2e_engine::expire_previous(peer& p, e2e_clock::time_point now, e2e_output& out) {
  if (p.previous && now >= p.previous_until) retire_previous(p, now, out);
}

void e2e_engine::retire_previous(peer& p, e2e_clock::time_point now, e2e_output& out) {
  if (!p.previous) return;
  // Whatever it still awaited cannot come now (e.g. skipped within missing_message_max_age).
  p.previous->expire(now, e2e_clock::duration::zero());
  report_lost(p, p.previous->take_lost(), out);
  p.retired = p.previous->id();  // public (every body's header): lets a late body be named
  p.previous.reset();            // its chain keys and skipped keys are wiped (secret_bytes)
}

e2e_sessions_view e2e_engine::sessions_of(const std::string& name) const {
  e2e_sessions_view view;
  const peer* p = find(name);
  if (!p) return view;
  if (p->session) view.current = p->session->id();
  if (p->candidate) view.candidate = p->candidate->id();
  if (p->previous) view.previous = p->previous->id();
  return view;
}

}  // namespace natter::client
