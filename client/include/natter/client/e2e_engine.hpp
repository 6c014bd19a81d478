#pragma once
// The end-to-end layer of one connection (pure): what the client seals for its peers and opens
// from them, on the crypto core of docs/E2E.md (pairwise KK sessions carrying sender keys). The
// server only routes e2e requests and events; everything it could read or forge goes through
// here. No sockets, no files; the clock comes in as arguments and randomness from libsodium.
//
// Per peer (a name and the Ed25519 key the directory gives for it): the pairwise setup or
// session, and the peer's sender key receiver. Ours: one sender key for the room "lobby".
//   * Sessions are made lazily, when we first have something for the peer: a whisper, or a room
//     text (which needs a session with every member, to hand over our sender key first). The side
//     that gets a session sends its distribution at once (kind key), so both can speak.
//   * Texts wait in one FIFO (max_waiting_texts) until what they need is there, and leave in the
//     order they were given, so the server's answers (ack/error, in order) still match them.
//   * A member who leaves (or whose key changes) had our sender key: we rotate before our next
//     room text (lazy rotation) and hand the new epoch to the remaining members only.
//   * A session replaces a working one only once confirmed (a replayed KK init cannot break it).
//   * Sessions are renewed (rekey, e2e_rekey_settings): a new KK handshake on the same path as a
//     first one, while texts go on in the old session until the new one is confirmed; the old
//     one then opens stragglers for old_session_grace and is wiped.
//   * Every opened text is checked (UTF-8, no control characters or escapes, size) before it is
//     shown; what fails anywhere becomes a warning naming the peer, never a message.
//
// Failure contract: nothing here throws on peer or server input (beyond allocation). Texts that
// cannot be sent come back in e2e_output::dropped with the caller's tag and a reason; bodies
// that do not open, replays, a `from` that is not the peer whose keys opened the body, missing
// messages, all become warnings. Plaintext buffers are wiped after use.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "natter/crypto/e2e_pairwise_session.hpp"
#include "natter/crypto/e2e_sender_key.hpp"
#include "natter/crypto/identity_v2.hpp"
#include "natter/crypto/keys.hpp"
#include "natter/messages.hpp"

namespace natter::client {

using e2e_clock = crypto::e2e::clock;

inline constexpr std::string_view e2e_room = "lobby";
// Texts waiting for a session (or a handshake answer) at once; beyond it a text is dropped. As
// many as the conversation itself may hold before the join (max_waiting_lines): a script's
// burst, handed over in one read, waits here for the first handshake's round trip instead.
inline constexpr std::size_t max_waiting_texts = 8192;
// A message skipped over this long ago is given up and reported: "1 message from alice did not arrive".
inline constexpr std::chrono::seconds missing_message_max_age{20};
// A handshake unanswered this long is given up: a whisper that waited for it is dropped, a room
// text goes on without that member (who cannot read it; a warning says so). The server relays
// in milliseconds; what does not answer in seconds is a client without end-to-end support (or
// a server dropping), and a script's room texts must not stall on it for long.
inline constexpr std::chrono::seconds handshake_timeout{5};
// Our pending init this old, when the peer's own init comes, was not answered: we answer theirs.
// (Within it, a genuine simultaneous initiation: the lower key's init wins, E2E.md §5.)
inline constexpr std::chrono::seconds stale_init_after{3};

// Rekey (docs/E2E.md §5). A session we have sealed rekey_after_messages in is renewed: we start a
// new KK handshake with the peer (the simultaneous-initiation rule settles a rekey both sides
// start). Each chain is renewed by its sender; a peer that does not renew its chain is renewed
// by us once we have received twice the count (an older client). A session this old is renewed
// too, by the side that initiated it (the other side once it is twice as old): an idle session's
// keys do not sit in memory for days. The handshake is a millisecond and two 49-byte bodies.
inline constexpr std::chrono::hours rekey_after_age{1};
// The session a rekey replaced still opens what the peer sealed in it before it saw the switch
// (in flight, or reordered) for this long; then it is wiped, and a body in it is refused with a
// warning. Longer than missing_message_max_age, so what it still awaited is reported as lost.
inline constexpr std::chrono::seconds old_session_grace{30};
// A rekey that went unanswered or failed is tried again after this long (the old session goes on).
inline constexpr std::chrono::seconds rekey_retry_after{60};
// A handshake or key body the server refused over its own budget (rate_limited: limits::
// e2e_control_rate, _burst, PROTOCOL.md §10) is tried again: after refused_retry_first, then
// twice as long each time, refused_retry_attempts sends in all (the first included); then the
// member is given up with a warning. The budget refills at 200 bodies a second, so a join that
// overran it by thousands is through in a few seconds; texts wait meanwhile (as for an answer),
// so the member is not silently left out: at most 1 + 2 + 4 s.
inline constexpr std::chrono::milliseconds refused_retry_first{1000};
inline constexpr int refused_retry_attempts = 4;
// A member the server refuses to deliver to (unknown_user) though it lists them is warned about
// once this long after the refusal, if still listed: a member who has just left is refused too,
// and the notice of its leaving may come after the refusal (the server holds presence for up to
// 1 s, --presence-delay), which is no reason to alarm anyone.
inline constexpr std::chrono::seconds not_delivered_warning_after{2};

// The rekey thresholds: the defaults are what a client runs with; tests inject small ones.
struct e2e_rekey_settings {
  std::uint32_t after_messages = crypto::e2e::rekey_after_messages;
  e2e_clock::duration after_age = rekey_after_age;
  e2e_clock::duration grace = old_session_grace;
};

// The sessions held with one peer (tests, and what a trace could show): the one texts are sealed
// in, a new one awaiting confirmation, and a replaced one within its grace.
struct e2e_sessions_view {
  std::optional<crypto::e2e::session_id> current;
  std::optional<crypto::e2e::session_id> candidate;
  std::optional<crypto::e2e::session_id> previous;
};

// One request to submit; `tag` names the caller's text it carries (whisper, room), if any.
struct e2e_send {
  e2e_request request;
  std::optional<std::uint64_t> tag;
};
// A text a peer sealed, opened and checked: `from` is the peer whose session or sender key
// authenticated it (and equal to the name the server gave).
struct e2e_message {
  std::string from;
  std::string text;
  bool whisper = false;
};
struct e2e_dropped {
  std::uint64_t tag = 0;
  std::string reason;
};
struct e2e_output {
  std::vector<e2e_send> send;
  std::vector<e2e_message> messages;
  std::vector<std::string> warnings;  // something went wrong or looks hostile: show loudly
  std::vector<std::string> notices;   // e.g. "room code now: …"
  std::vector<e2e_dropped> dropped;
};

class e2e_engine {
 public:
  // `own` is borrowed and must outlive the engine. `own_name` as the server spells it.
  e2e_engine(const crypto::identity_v2& own, std::string own_name, crypto::public_key server_static,
             e2e_rekey_settings rekey = {});

  // The directory says `name` has `key` (welcome, users, presence joined, whois). A new key for
  // a known name starts that peer over (its sessions and sender key are dropped).
  void on_directory(const std::string& name, const crypto::ed25519_public_key& key);
  // `name` left: its state is dropped; our sender key rotates before our next room text.
  void on_left(const std::string& name);
  // Held: nothing is sent to the peer and nothing from it is opened (its key changed and the
  // user has not accepted it). release() = the user accepted the directory's key.
  void hold(const std::string& name);
  void release(const std::string& name);
  [[nodiscard]] bool held(const std::string& name) const;

  // Texts to seal. Returns false (and sends nothing) if the queue is full; otherwise the text
  // leaves in out.send with `tag`, or comes back in out.dropped.
  bool send_whisper(const std::string& to, std::string text, std::uint64_t tag, e2e_clock::time_point now,
                    e2e_output& out);
  bool send_room(std::string text, std::uint64_t tag, e2e_clock::time_point now, e2e_output& out);

  // An e2e event the server routed to us.
  void on_event(const e2e_event& event, e2e_clock::time_point now, e2e_output& out);
  // The server refused a handshake or key body (`kind`) to `name` with error `code`:
  // rate_limited (over its budget) is retried with backoff; unknown_user (it does not deliver to
  // that name) and anything else give the member up for now, with a warning once per member.
  void on_refused(const std::string& name, std::string_view kind, std::string_view code, e2e_clock::time_point now,
                  e2e_output& out);
  // Expiry of missing messages and of unanswered handshakes; call every second or so.
  void tick(e2e_clock::time_point now, e2e_output& out);
  // Emits "room code now: …" if membership or a key changed since the last call.
  void flush(e2e_output& out);

  [[nodiscard]] std::optional<std::string> room_code() const;
  [[nodiscard]] std::optional<std::string> safety_number(const std::string& name) const;
  [[nodiscard]] std::optional<crypto::ed25519_public_key> key_of(const std::string& name) const;
  [[nodiscard]] std::size_t waiting() const { return waiting_.size(); }
  [[nodiscard]] std::uint32_t epoch() const { return sender_ ? sender_->epoch() : 0; }
  [[nodiscard]] e2e_sessions_view sessions_of(const std::string& name) const;
  // Borrowed, may be null: told every message key used (the --e2e-keylog file).
  void observe_keys(crypto::e2e::message_key_observer* observer) { observer_ = observer; }

 private:
  struct peer {
    std::string name;  // the server's spelling
    crypto::ed25519_public_key key;
    bool held = false;
    bool unreachable = false;  // the last handshake went unanswered or was refused
    std::string unreachable_why;  // why, for a whisper dropped because of it
    // Refusals over the server's budget: how many in a row, and when we try again (handshake, or
    // our sender key if the session exists). Until then texts wait for this member.
    int refusals = 0;
    std::optional<e2e_clock::time_point> retry_at;
    std::optional<e2e_clock::time_point> not_delivered_since;  // refused unknown_user: warn if still listed
    std::optional<crypto::e2e::pairwise_setup> setup;
    e2e_clock::time_point setup_started{};
    std::optional<crypto::e2e::pairwise_session> session;
    e2e_clock::time_point session_since{};
    bool session_ours = false;  // we initiated it (so we renew it by age)
    std::optional<crypto::e2e::pairwise_session> candidate;  // unconfirmed, while `session` works
    e2e_clock::time_point candidate_since{};
    std::optional<crypto::e2e::pairwise_session> previous;  // replaced by a rekey: opens stragglers
    e2e_clock::time_point previous_until{};
    bool reconfirmed = false;  // since our rekey, our sender key went again (the peer still used the old session)
    std::optional<crypto::e2e::session_id> retired;  // the last previous wiped: names late bodies
    e2e_clock::time_point next_rekey_attempt{};
    std::optional<std::uint32_t> has_epoch;                   // our sender key epoch they were given
    std::optional<crypto::e2e::sender_key_receiver> receiver;
  };
  struct waiting_text {
    std::uint64_t tag = 0;
    std::string to;  // empty: the room
    std::string text;
  };

  peer* find(std::string_view name);
  const peer* find(std::string_view name) const;
  bool enqueue(waiting_text text, e2e_clock::time_point now, e2e_output& out);
  void release_waiting(e2e_clock::time_point now, e2e_output& out);
  // Starts a handshake with `p` unless one is pending or a session exists. True once a session exists.
  bool ensure_session(peer& p, e2e_clock::time_point now, e2e_output& out);
  // Sends our KK init to `p` (a first session or a rekey). False if no session is possible.
  bool start_handshake(peer& p, e2e_clock::time_point now, e2e_output& out);
  void ensure_sender();
  // `ours`: we initiated this session (its response authenticated).
  void install(peer& p, crypto::e2e::pairwise_session session, bool ours, e2e_clock::time_point now, e2e_output& out);
  // ---- rekey (e2e_engine_rekey.cpp) ----
  // `session` becomes the working session; the one it replaces is kept for the grace.
  void switch_to(peer& p, crypto::e2e::pairwise_session session, bool ours, e2e_clock::time_point now,
                 e2e_output& out);
  // Starts a rekey with `p` if its session is due (messages, age) and none is under way.
  void maybe_rekey(peer& p, e2e_clock::time_point now, e2e_output& out);
  [[nodiscard]] bool rekey_due(const peer& p, e2e_clock::time_point now) const;
  // Wipes the replaced session if its grace is over.
  void expire_previous(peer& p, e2e_clock::time_point now, e2e_output& out);
  // Wipes the replaced session now, reporting what it still awaited as lost.
  void retire_previous(peer& p, e2e_clock::time_point now, e2e_output& out);
  void send_distribution(peer& p, e2e_clock::time_point now, e2e_output& out);
  void send_pairwise(peer& p, std::string_view kind, std::span<const std::uint8_t> plaintext,
                     std::optional<std::uint64_t> tag, e2e_clock::time_point now, e2e_output& out);
  void on_handshake(peer& p, std::span<const std::uint8_t> body, e2e_clock::time_point now, e2e_output& out);
  void on_pairwise(peer& p, std::string_view kind, std::span<const std::uint8_t> body, e2e_clock::time_point now,
                   e2e_output& out);
  void on_room(peer& p, std::span<const std::uint8_t> body, e2e_clock::time_point now, e2e_output& out);
  void show_text(const peer& p, std::string text, bool whisper, e2e_output& out);
  void report_lost(const peer& p, std::vector<std::uint32_t> lost, e2e_output& out);
  void forget(peer& p);  // drops sessions and sender key; rotation if it had ours
  // The member cannot read our room texts (`why`): no more tries until the directory lists it again.
  void give_up(peer& p, std::string why);
  // A refusal over the server's budget: the next try is scheduled, or the member is given up.
  void schedule_retry(peer& p, e2e_clock::time_point now, e2e_output& out);
  void retry_refused(peer& p, e2e_clock::time_point now, e2e_output& out);
  void warn_not_delivered(peer& p, e2e_clock::time_point now, e2e_output& out);

  const crypto::identity_v2& own_;
  std::string own_name_;
  crypto::public_key server_static_;
  e2e_rekey_settings rekey_;
  std::map<std::string, peer> peers_;  // by folded name
  std::optional<crypto::e2e::sender_key_sender> sender_;
  bool rotate_before_next_send_ = false;
  std::deque<waiting_text> waiting_;
  std::optional<std::string> shown_room_code_;
  std::set<std::string> warned_not_delivered_;  // folded names: that warning comes once a session
  crypto::e2e::message_key_observer* observer_ = nullptr;
};

}  // namespace natter::client
