#include "natter/client/e2e_engine.hpp"

#include <algorithm>
#include <utility>

#include "natter/crypto/e2e_base64.hpp"
#include "natter/crypto/e2e_safety_number.hpp"
#include "natter/crypto/e2e_wire.hpp"
#include "natter/limits.hpp"
#include "natter/text.hpp"

namespace natter::client {

namespace e2e = crypto::e2e;
using e2e::receive_status;

namespace {

std::string messages_word(std::size_t n) { return std::to_string(n) + (n == 1 ? " message" : " messages"); }

// Wipes a plaintext buffer when it goes out of scope, on every path.
struct wiped_bytes {
  crypto::e2e::bytes& b;
  ~wiped_bytes() { e2e::wipe(b); }
};

}  // namespace

e2e_engine::e2e_engine(const crypto::identity_v2& own, std::string own_name, crypto::public_key server_static,
                       e2e_rekey_settings rekey)
    : own_(own), own_name_(std::move(own_name)), server_static_(server_static), rekey_(rekey) {}

e2e_engine::peer* e2e_engine::find(std::string_view name) {
  const auto it = peers_.find(fold_name(name));
  return it == peers_.end() ? nullptr : &it->second;
}

const e2e_engine::peer* e2e_engine::find(std::string_view name) const {
  const auto it = peers_.find(fold_name(name));
  return it == peers_.end() ? nullptr : &it->second;
}

// ---- the directory ---------------------------------------------------------------------------

void e2e_engine::on_directory(const std::string& name, const crypto::ed25519_public_key& key) {
  if (fold_name(name) == fold_name(own_name_)) return;
  if (peer* p = find(name)) {
    p->name = name;
    p->unreachable = false;  // seen again: worth another handshake
    if (p->key == key) return;
    forget(*p);
    p->key = key;
    shown_room_code_.reset();  // membership changed: show the code again
    return;
  }
  peer fresh;
  fresh.name = name;
  fresh.key = key;
  peers_.emplace(fold_name(name), std::move(fresh));
  shown_room_code_.reset();
}

void e2e_engine::on_left(const std::string& name) {
  const auto it = peers_.find(fold_name(name));
  if (it == peers_.end()) return;
  forget(it->second);
  peers_.erase(it);
  shown_room_code_.reset();
}

void e2e_engine::forget(peer& p) {
  // Whoever held this name (and our sender key) must not read what we say next.
  if (p.has_epoch) rotate_before_next_send_ = true;
  p.setup.reset();
  p.session.reset();
  p.candidate.reset();
  p.previous.reset();
  p.retired.reset();
  p.receiver.reset();
  p.has_epoch.reset();
  // A new key (or a held one) starts over: the refusals were of what we sent the old one.
  p.refusals = 0;
  p.retry_at.reset();
  p.not_delivered_since.reset();
}

void e2e_engine::give_up(peer& p, std::string why) {
  p.setup.reset();
  p.retry_at.reset();
  p.refusals = 0;  // a member listed again gets a fresh set of tries
  p.unreachable = true;
  p.unreachable_why = std::move(why);
}

void e2e_engine::hold(const std::string& name) {
  if (peer* p = find(name)) {
    forget(*p);
    p->held = true;
  }
}

void e2e_engine::release(const std::string& name) {
  if (peer* p = find(name)) p->held = false;
}

bool e2e_engine::held(const std::string& name) const {
  const peer* p = find(name);
  return p && p->held;
}

std::optional<crypto::ed25519_public_key> e2e_engine::key_of(const std::string& name) const {
  const peer* p = find(name);
  if (!p) return std::nullopt;
  return p->key;
}

std::optional<std::string> e2e_engine::room_code() const {
  std::vector<e2e::party> members;
  members.push_back({own_name_, own_.public_key()});
  for (const auto& [folded, p] : peers_) members.push_back({p.name, p.key});
  return e2e::room_code(e2e_room, members);
}

std::optional<std::string> e2e_engine::safety_number(const std::string& name) const {
  const peer* p = find(name);
  if (!p) return std::nullopt;
  return e2e::safety_number({own_name_, own_.public_key()}, {p->name, p->key});
}

void e2e_engine::flush(e2e_output& out) {
  if (shown_room_code_) return;
  const auto code = room_code();
  if (!code) return;
  shown_room_code_ = *code;
  const std::size_t members = peers_.size() + 1;
  out.notices.push_back("room code now: " + *code + " (" + std::to_string(members) + (members == 1 ? " member" : " members") +
                        "; compare it with the others to see that nobody was added)");
}

// ---- sending ---------------------------------------------------------------------------------

bool e2e_engine::send_whisper(const std::string& to, std::string text, std::uint64_t tag, e2e_clock::time_point now,
                              e2e_output& out) {
  return enqueue({tag, to, std::move(text)}, now, out);
}

bool e2e_engine::send_room(std::string text, std::uint64_t tag, e2e_clock::time_point now, e2e_output& out) {
  return enqueue({tag, {}, std::move(text)}, now, out);
}

bool e2e_engine::enqueue(waiting_text text, e2e_clock::time_point now, e2e_output& out) {
  if (waiting_.size() >= max_waiting_texts) {
    e2e::wipe(text.text);
    return false;
  }
  waiting_.push_back(std::move(text));
  release_waiting(now, out);
  return true;
}

bool e2e_engine::ensure_session(peer& p, e2e_clock::time_point now, e2e_output& out) {
  if (p.session || p.candidate) return true;
  if (p.setup || p.retry_at) return false;  // waiting for the answer, or for the server's budget
  (void)start_handshake(p, now, out);
  return false;
}

bool e2e_engine::start_handshake(peer& p, e2e_clock::time_point now, e2e_output& out) {
  auto setup = e2e::pairwise_setup::create(own_, own_name_, {p.name, p.key}, server_static_);
  if (!setup) {
    give_up(p, "unusable key");
    out.warnings.push_back("no end-to-end session with " + printable(p.name) + " is possible (unusable key)");
    return false;
  }
  auto init = setup->start();
  if (!init) return false;
  p.setup = std::move(setup);
  p.setup_started = now;
  out.send.push_back({e2e_request{std::string(e2e_kind::handshake), p.name, e2e::to_base64(*init), {}}, {}});
  return true;
}

void e2e_engine::ensure_sender() {
  if (sender_) return;
  sender_ = e2e::sender_key_sender::create(std::string(e2e_room));
  if (sender_) sender_->observe_keys(observer_);
}

void e2e_engine::release_waiting(e2e_clock::time_point now, e2e_output& out) {
  while (!waiting_.empty()) {
    waiting_text& head = waiting_.front();
    if (!head.to.empty()) {
      peer* p = find(head.to);
      std::string problem;
      if (!p) {
        problem = "no end-to-end key known for " + printable(head.to) + " (not online?)";
      } else if (p->held) {
        problem = printable(p->name) + "'s key changed and is not accepted (/accept " + printable(p->name) + ")";
      } else if (p->unreachable) {
        problem = "no end-to-end session with " + printable(p->name) + " (" + p->unreachable_why + ")";
      }
      if (problem.empty()) {
        if (!ensure_session(*p, now, out)) {
          if (!p->unreachable) return;  // its turn comes with the handshake's answer
          continue;                     // became unreachable just now: dropped on the next turn
        }
        const auto* plain = reinterpret_cast<const std::uint8_t*>(head.text.data());
        send_pairwise(*p, e2e_kind::whisper, {plain, head.text.size()}, head.tag, now, out);
      } else {
        out.dropped.push_back({head.tag, problem});
      }
    } else {
      // A room text needs every member we can reach to hold our current sender key first.
      bool ready = true;
      for (auto& [folded, p] : peers_) {
        if (p.held || p.unreachable) continue;
        if (p.retry_at) {  // a refused handshake or key, tried again soon: not left out silently
          ready = false;
          continue;
        }
        if (!ensure_session(p, now, out) && !p.unreachable) ready = false;
      }
      if (!ready) return;
      ensure_sender();
      if (rotate_before_next_send_ && sender_) {
        sender_->rotate();
        rotate_before_next_send_ = false;
      }
      if (!sender_) {
        out.dropped.push_back({head.tag, "no sender key"});
      } else {
        for (auto& [folded, p] : peers_) {
          if (!p.held && !p.unreachable && p.has_epoch != sender_->epoch()) send_distribution(p, now, out);
        }
        const auto* plain = reinterpret_cast<const std::uint8_t*>(head.text.data());
        if (auto sealed = sender_->seal({plain, head.text.size()})) {
          out.send.push_back({e2e_request{std::string(e2e_kind::room), {}, e2e::to_base64(*sealed), {}}, head.tag});
        } else {
          out.dropped.push_back({head.tag, "the text could not be sealed (too long?)"});
        }
      }
    }
    e2e::wipe(head.text);
    waiting_.pop_front();
  }
}

void e2e_engine::send_pairwise(peer& p, std::string_view kind, std::span<const std::uint8_t> plaintext,
                               std::optional<std::uint64_t> tag, e2e_clock::time_point now, e2e_output& out) {
  auto& session = p.session ? *p.session : *p.candidate;
  auto sealed = session.seal(plaintext);
  if (!sealed) {
    if (tag) out.dropped.push_back({*tag, "the text could not be sealed (too long?)"});
    return;
  }
  out.send.push_back({e2e_request{std::string(kind), p.name, e2e::to_base64(*sealed), {}}, tag});
  maybe_rekey(p, now, out);  // after the body, so the relay carries the init behind it
}

void e2e_engine::send_distribution(peer& p, e2e_clock::time_point now, e2e_output& out) {
  if (!sender_ || !(p.session || p.candidate)) return;
  crypto::e2e::bytes d = sender_->distribution();
  const wiped_bytes wipe_d{d};
  send_pairwise(p, e2e_kind::key, d, {}, now, out);
  p.has_epoch = sender_->epoch();
}

void e2e_engine::install(peer& p, e2e::pairwise_session session, bool ours, e2e_clock::time_point now,
                         e2e_output& out) {
  p.unreachable = false;
  p.refusals = 0;
  session.observe_keys(observer_);
  if (p.session && !session.confirmed()) {
    // The peer's rekey, or a replayed init: keep the working session until the new one is shown
    // to be live (a first body from the peer opens in it).
    p.candidate = std::move(session);
    p.candidate_since = now;
    return;
  }
  const bool rekey = p.session.has_value();
  switch_to(p, std::move(session), ours, now, out);
  // Our rekey: the peer holds the new session only as a candidate until a body of ours opens in
  // it, so one goes at once: our sender key (a repeat it ignores; made now if we had none). The
  // distribution need not be re-sent for its own sake; later rotations go in the new session.
  if (rekey) ensure_sender();
  if (sender_) send_distribution(p, now, out);
}

// ---- receiving -------------------------------------------------------------------------------

void e2e_engine::on_event(const e2e_event& event, e2e_clock::time_point now, e2e_output& out) {
  const std::string from = printable(event.from);
  peer* p = find(event.from);
  if (!p) {
    out.warnings.push_back("an end-to-end message from " + from + ", who has no key in the directory, was dropped");
    return;
  }
  if (p->held) {
    out.warnings.push_back("an end-to-end message from " + from + " was not opened: " + from +
                           "'s key changed and is not accepted (/accept " + from + ")");
    return;
  }
  auto body = e2e::from_base64(event.body);
  if (!body) {
    out.warnings.push_back("a message from " + from + " was not valid base64 and was dropped");
    return;
  }
  if (event.kind == e2e_kind::handshake) {
    on_handshake(*p, *body, now, out);
  } else if (event.kind == e2e_kind::key || event.kind == e2e_kind::whisper) {
    on_pairwise(*p, event.kind, *body, now, out);
  } else if (event.kind == e2e_kind::room) {
    on_room(*p, *body, now, out);
  } else {
    out.warnings.push_back("a message of unknown kind from " + from + " was dropped");
  }
  release_waiting(now, out);
}

void e2e_engine::on_handshake(peer& p, std::span<const std::uint8_t> body, e2e_clock::time_point now, e2e_output& out) {
  using status = e2e::pairwise_setup::setup_status;
  const std::string who = printable(p.name);
  const auto parsed = e2e::parse_handshake_message(body);
  if (!parsed) {
    out.warnings.push_back("a malformed handshake from " + who + " was dropped");
    return;
  }
  // Our init wins a simultaneous initiation, but one that has waited this long was evidently not
  // answered (the peer dropped it, e.g. while it held our key): answer the peer's instead.
  if (p.setup && parsed->kind == e2e::handshake_kind::init && now - p.setup_started >= stale_init_after) {
    p.setup.reset();
  }
  std::optional<e2e::pairwise_setup> responder;
  e2e::pairwise_setup* setup = nullptr;
  if (p.setup) {
    setup = &*p.setup;  // ours is pending: simultaneous initiation, or its answer
  } else if (parsed->kind == e2e::handshake_kind::init) {
    responder = e2e::pairwise_setup::create(own_, own_name_, {p.name, p.key}, server_static_);
    if (!responder) return;
    setup = &*responder;
  } else {
    out.warnings.push_back("an unexpected handshake answer from " + who + " was ignored (replayed?)");
    return;
  }
  auto result = setup->receive(body);
  switch (result.status) {
    case status::reply:
      if (result.reply) {
        out.send.push_back({e2e_request{std::string(e2e_kind::handshake), p.name, e2e::to_base64(*result.reply), {}}, {}});
      }
      [[fallthrough]];
    case status::established:
      if (auto session = setup->take_session()) {
        install(p, std::move(*session), result.status == status::established, now, out);
      }
      p.setup.reset();
      return;
    case status::ignored:
      return;  // our init wins; its answer comes
    case status::out_of_turn:
      out.warnings.push_back("an unexpected handshake from " + who + " was ignored (replayed?)");
      return;
    case status::bad_message:
      out.warnings.push_back("a handshake claiming to be from " + who + " failed authentication");
      return;
    case status::failed:
      out.warnings.push_back("the handshake answer from " + who + " failed authentication");
      p.setup.reset();
      if (p.session) p.next_rekey_attempt = now + rekey_retry_after;  // a rekey: the session goes on
      return;
  }
}

void e2e_engine::on_pairwise(peer& p, std::string_view kind, std::span<const std::uint8_t> body, e2e_clock::time_point now,
                             e2e_output& out) {
  const std::string who = printable(p.name);
  const auto parsed = e2e::parse_pairwise_body(body);
  if (!parsed) {
    out.warnings.push_back("a malformed message from " + who + " was dropped");
    return;
  }
  expire_previous(p, now, out);  // the grace ends on time, however often tick() runs
  // Which session holds this id? Another peer's means the server relabelled a body.
  const auto& id = parsed->header.id;
  const auto holds = [&](const peer& q) {
    return (q.session && q.session->id() == id) || (q.candidate && q.candidate->id() == id) ||
           (q.previous && q.previous->id() == id);
  };
  if (!holds(p)) {
    for (const auto& [folded, q] : peers_) {
      if (&q != &p && holds(q)) {
        out.warnings.push_back("a message claiming to be from " + who + " was sealed in " + printable(q.name) +
                               "'s session: the server changed its sender; dropped");
        return;
      }
    }
    if (p.retired == id) {
      out.warnings.push_back("a message from " + who + " was sealed in a session already renewed and came after its " +
                             std::to_string(std::chrono::duration_cast<std::chrono::seconds>(rekey_.grace).count()) +
                             " s grace; dropped");
    } else {
      out.warnings.push_back("a message from " + who + " was for no session we hold; dropped");
    }
    return;
  }
  const bool in_session = p.session && p.session->id() == id;
  const bool in_candidate = !in_session && p.candidate && p.candidate->id() == id;
  auto& session = in_session ? *p.session : in_candidate ? *p.candidate : *p.previous;
  auto opened = session.open(body, now);
  const wiped_bytes wipe_plain{opened.plaintext};
  report_lost(p, session.take_lost(), out);
  switch (opened.status) {
    case receive_status::ok: break;
    case receive_status::duplicate:
      out.warnings.push_back("a repeated message from " + who + " was dropped (a replay)");
      return;
    case receive_status::auth_failed:
      out.warnings.push_back("a message from " + who + " failed authentication (tampered?); dropped");
      return;
    default:
      out.warnings.push_back("a message from " + who + " was dropped (" + std::string(e2e::to_string(opened.status)) + ")");
      return;
  }
  if (in_candidate) {  // the peer's first body in its new session: now confirmed
    switch_to(p, std::move(*p.candidate), false, now, out);
  } else if (!in_session && p.session_ours && !p.reconfirmed) {
    // The peer still seals in the session our rekey replaced: a straggler, or our confirming body
    // never reached it. Once more, so the peer does not go on in a session about to be wiped.
    p.reconfirmed = true;
    send_distribution(p, now, out);
  }
  maybe_rekey(p, now, out);  // a peer that does not renew its chain
  if (kind == e2e_kind::whisper) {
    show_text(p, std::string(opened.plaintext.begin(), opened.plaintext.end()), true, out);
    return;
  }
  // kind key: the peer's sender key for the room.
  const auto d = e2e::parse_distribution(opened.plaintext);
  if (!d || d->room != e2e_room) {
    out.warnings.push_back("a sender key from " + who + " was not for this room; dropped");
    return;
  }
  if (!p.receiver) {
    p.receiver = e2e::sender_key_receiver::from_distribution(opened.plaintext);
    if (p.receiver) p.receiver->observe_keys(observer_);
    return;
  }
  const auto accepted = p.receiver->accept_distribution(opened.plaintext);
  if (accepted == receive_status::ok) report_lost(p, p.receiver->take_lost(), out);
  // duplicate or old_epoch: a repeat of what we hold (a new session hands it again); nothing to do.
}

void e2e_engine::on_room(peer& p, std::span<const std::uint8_t> body, e2e_clock::time_point now, e2e_output& out) {
  const std::string who = printable(p.name);
  const auto parsed = e2e::parse_room_message(body);
  if (!parsed) {
    out.warnings.push_back("a malformed room message from " + who + " was dropped");
    return;
  }
  if (!p.receiver || p.receiver->key_id() != parsed->header.key_id) {
    for (const auto& [folded, q] : peers_) {
      if (&q != &p && q.receiver && q.receiver->key_id() == parsed->header.key_id) {
        out.warnings.push_back("a room message claiming to be from " + who + " was sealed with " + printable(q.name) +
                               "'s sender key: the server changed its sender; dropped");
        return;
      }
    }
  }
  if (!p.receiver) {
    out.warnings.push_back("a room message from " + who + " could not be read: no sender key from " + who + " yet");
    return;
  }
  auto opened = p.receiver->open(body, now);
  const wiped_bytes wipe_plain{opened.plaintext};
  report_lost(p, p.receiver->take_lost(), out);
  switch (opened.status) {
    case receive_status::ok:
      show_text(p, std::string(opened.plaintext.begin(), opened.plaintext.end()), false, out);
      return;
    case receive_status::duplicate:
      out.warnings.push_back("a repeated room message from " + who + " was dropped (a replay)");
      return;
    case receive_status::auth_failed:
    case receive_status::bad_signature:
      out.warnings.push_back("a room message from " + who + " failed authentication (tampered or forged); dropped");
      return;
    case receive_status::unknown_epoch:
    case receive_status::wrong_session:
      out.warnings.push_back("a room message from " + who + " could not be read: sealed with a key we were not given");
      return;
    default:
      out.warnings.push_back("a room message from " + who + " was dropped (" + std::string(e2e::to_string(opened.status)) +
                             ")");
      return;
  }
}

void e2e_engine::show_text(const peer& p, std::string text, bool whisper, e2e_output& out) {
  // The server can no longer vouch for text it cannot read: a peer's text is checked here.
  if (const auto problem = text_problem(text, limits::max_text)) {
    out.warnings.push_back("a message from " + printable(p.name) + " was not shown: " + std::string(*problem));
    e2e::wipe(text);
    return;
  }
  out.messages.push_back({p.name, std::move(text), whisper});
}

void e2e_engine::report_lost(const peer& p, std::vector<std::uint32_t> lost, e2e_output& out) {
  if (lost.empty()) return;
  out.warnings.push_back(messages_word(lost.size()) + " from " + printable(p.name) + " did not arrive");
}

void e2e_engine::on_refused(const std::string& name, std::string_view kind, std::string_view code,
                            e2e_clock::time_point now, e2e_output& out) {
  peer* p = find(name);
  if (p && code == errc::rate_limited) {
    // Over the server's budget for key messages (a big room's join): not the member's fault.
    if (kind != e2e_kind::handshake) {
      p->has_epoch.reset();  // our sender key did not reach them: it goes again
      schedule_retry(*p, now, out);
    } else if (p->setup) {  // our init
      p->setup.reset();
      if (p->session) {
        p->next_rekey_attempt = now + rekey_retry_after;  // a rekey: the working session goes on
      } else {
        schedule_retry(*p, now, out);
      }
    } else if (p->candidate) {
      p->candidate.reset();  // our answer to the peer's rekey: the peer tries again itself
    } else if (p->session && !p->session_ours && !p->session->confirmed()) {
      // Our answer to the peer's first init: the peer holds no session, so neither do we; we try
      // again as the initiator (anything sealed in this one could not be opened).
      p->session.reset();
      p->has_epoch.reset();
      schedule_retry(*p, now, out);
    }
  } else if (p && code == errc::unknown_user) {
    // The server lists this member but will not route to it. Said once it is clear that this
    // is not a member who has just left (not_delivered_warning_after).
    give_up(*p, "the server does not deliver to " + printable(p->name));
    if (!p->not_delivered_since) p->not_delivered_since = now;
  } else if (p) {
    const std::string why = "the server refused our key (" + printable(code) + ")";
    give_up(*p, why);
    out.warnings.push_back(printable(p->name) + " cannot read your room texts: " + why);
  }
  release_waiting(now, out);
}

void e2e_engine::schedule_retry(peer& p, e2e_clock::time_point now, e2e_output& out) {
  ++p.refusals;
  if (p.refusals >= refused_retry_attempts) {
    const std::string times = std::to_string(p.refusals);
    give_up(p, "the server refused our key " + times + " times");
    out.warnings.push_back(printable(p.name) + " cannot read your room texts: the server refused our key " + times +
                           " times (over its budget for end-to-end key messages)");
    return;
  }
  p.retry_at = now + refused_retry_first * (1 << (p.refusals - 1));
}

void e2e_engine::retry_refused(peer& p, e2e_clock::time_point now, e2e_output& out) {
  if (!p.retry_at || now < *p.retry_at) return;
  p.retry_at.reset();
  if (p.session || p.candidate) {
    ensure_sender();
    send_distribution(p, now, out);
  } else {
    (void)start_handshake(p, now, out);
  }
}

void e2e_engine::warn_not_delivered(peer& p, e2e_clock::time_point now, e2e_output& out) {
  if (!p.not_delivered_since || now - *p.not_delivered_since < not_delivered_warning_after) return;
  p.not_delivered_since.reset();
  if (!warned_not_delivered_.insert(fold_name(p.name)).second) return;  // once per member per session
  const std::string who = printable(p.name);
  out.warnings.push_back("the server listed " + who + " as a member but does not deliver to them: they cannot read "
                         "your room texts (a server adding members it does not route to is suspicious; compare "
                         "the room code)");
}

void e2e_engine::tick(e2e_clock::time_point now, e2e_output& out) {
  for (auto& [folded, p] : peers_) {
    for (auto* s : {p.session ? &*p.session : nullptr, p.candidate ? &*p.candidate : nullptr,
                    p.previous ? &*p.previous : nullptr}) {
      if (!s) continue;
      s->expire(now, missing_message_max_age);
      report_lost(p, s->take_lost(), out);
    }
    if (p.receiver) {
      p.receiver->expire(now, missing_message_max_age);
      report_lost(p, p.receiver->take_lost(), out);
    }
    expire_previous(p, now, out);
    if (p.setup && p.session && now - p.setup_started >= handshake_timeout) {
      // A rekey went unanswered: the working session goes on, and a new try comes later.
      p.setup.reset();
      p.next_rekey_attempt = now + rekey_retry_after;
      out.warnings.push_back("the end-to-end session with " + printable(p.name) +
                             " could not be renewed (the handshake went unanswered); it goes on for now");
    }
    if (p.setup && now - p.setup_started >= handshake_timeout) {
      give_up(p, "the handshake went unanswered");
      out.warnings.push_back(printable(p.name) + " cannot read your room texts: the handshake went unanswered "
                             "(no end-to-end session with " + printable(p.name) + ")");
    }
    retry_refused(p, now, out);
    warn_not_delivered(p, now, out);
    maybe_rekey(p, now, out);  // by age
  }
  release_waiting(now, out);
}

}  // namespace natter::client
