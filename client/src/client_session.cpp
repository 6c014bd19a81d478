#include "natter/client/client_session.hpp"

#include <algorithm>
#include <iterator>
#include <stdexcept>
#include <utility>

#include "natter/crypto/migration_proof.hpp"
#include "natter/frame.hpp"
#include "natter/limits.hpp"
#include "natter/message_build.hpp"
#include "natter/message_parse.hpp"
#include "natter/overloaded.hpp"
#include "natter/text.hpp"

namespace natter::client {

client_session::client_session(const crypto::identity_v2& identity, session_settings settings)
    : settings_(std::move(settings)), handshake_(crypto::handshake_v2::client(identity, settings_.key_observer)),
      e2e_(identity, [this] {
        e2e_settings e = settings_.e2e;
        e.trace = e.trace || settings_.trace;  // --trace shows both layers
        return e;
      }()),
      max_text_(limits::max_text) {}

void client_session::on_frame(std::span<const std::uint8_t> body) {
  if (phase_ == phase::closed) return;
  ++frames_received_;
  if (cipher_) {
    on_session_frame(body);
  } else {
    on_handshake_frame(body);
  }
}

void client_session::on_handshake_frame(std::span<const std::uint8_t> body) {
  using state = crypto::handshake_v2::state;
  const auto before = handshake_.current();
  auto replies = handshake_.on_frame(body);
  if (settings_.trace) {
    if (handshake_.refused_unauthenticated()) {
      trace_received(body, "refusal", "plaintext, NOT authenticated; reason: " + printable(handshake_.refusal_text()));
    } else if (before == state::awaiting_hello) {
      trace_received(body, "server hello", crypto::describe_hello(body));
    } else if (before == state::awaiting_message_2 && handshake_.current() != state::failed) {
      const auto p = handshake_.peer_parameters();
      trace_received(body, "Noise message 2",
                     "<- e, ee: the server's ephemeral key, then its parameters, encrypted: max_frame " +
                         std::to_string(p ? p->max_frame : 0) + ", max_text " + std::to_string(p ? p->max_text : 0));
    } else {
      trace_received(body, "handshake", "not accepted in state: " + std::string(to_string(before)));
    }
  }
  if (handshake_.current() == state::established && !replies.empty()) {
    send_handshake_frame(std::move(replies.front()), "Noise message 3",
                         "-> s, se: our static key and identity, encrypted (an observer cannot see who we are)");
  }

  switch (handshake_.current()) {
    case state::failed:
      if (handshake_.refused_unauthenticated()) {
        fail(failure_kind::runtime, "the server refused the connection (unauthenticated: anyone on the path could "
                                    "have sent this): " + printable(handshake_.refusal_text()));
      } else {
        fail(failure_kind::runtime, "handshake failed: " + printable(handshake_.error()));
      }
      return;
    case state::awaiting_verdict:
      phase_ = phase::awaiting_verdict;
      return;
    case state::established:
      on_established();
      return;
    default:
      return;
  }
}

void client_session::on_established() {
  auto keys = handshake_.take_keys();
  if (!keys) {  // unreachable: established hands the keys out once, here
    fail(failure_kind::runtime, "handshake failed: no session keys");
    return;
  }
  cipher_.emplace(std::move(keys->client_to_server), std::move(keys->server_to_client),
                  crypto::direction::client_to_server);
  if (const auto p = handshake_.peer_parameters()) {
    server_max_frame_ = std::max<std::size_t>(limits::min_max_frame, p->max_frame);
    if (p->max_text > 0) max_text_ = std::min<std::size_t>(limits::max_text, p->max_text);
  }
  events_.push_back(established_event{crypto::to_hex(handshake_.connection_id()), {}, {}, {}});
  phase_ = phase::joining;
  seal(make_join(false));
}

// The first join carries no proof: a server that never knew our protocol 1 key must not learn
// it (it would link the old identity to the new one). Only a join refused as name_taken, while
// a v1 key is at hand, is tried once more with the proof (PROTOCOL.md §7).
join_request client_session::make_join(bool with_proof) {
  join_ref_ = next_ref_++;
  join_request join{settings_.name, join_ref_, {}, {}};
  if (with_proof && settings_.v1_identity) {
    migration_tried_ = true;
    const auto hash = handshake_.handshake_hash();
    if (hash) {
      if (auto proof = crypto::make_migration_proof(*settings_.v1_identity, handshake_.peer_key(), *hash)) {
        join.migrate_from = crypto::to_hex(settings_.v1_identity->public_key_bytes);
        join.migration_proof = crypto::to_hex(*proof);
      }
    }
  }
  return join;
}

void client_session::accept_server_key() {
  if (phase_ != phase::awaiting_verdict) return;
  auto frames = handshake_.accept_peer_key();
  if (handshake_.current() == crypto::handshake_v2::state::failed || frames.size() != 1) {
    fail(failure_kind::runtime, "handshake failed: " + printable(handshake_.error()));
    return;
  }
  phase_ = phase::handshaking;
  send_handshake_frame(std::move(frames.front()), "client hello + Noise message 1",
                       "NATR, protocol 2, role client; -> e, es: our ephemeral key " +
                           crypto::to_hex(handshake_.connection_id()) + " (the connection id), empty payload");
}

void client_session::send_handshake_frame(std::vector<std::uint8_t> body, std::string label, std::string detail) {
  ++frames_sent_;
  if (settings_.trace) {
    trace_event t;
    t.outgoing = true;
    t.frame_number = frames_sent_;
    t.length = body.size();
    t.detail = std::move(detail);
    t.label = std::move(label);
    events_.push_back(std::move(t));
  }
  append_frame_header(output_, body.size());
  output_.insert(output_.end(), body.begin(), body.end());
}

void client_session::trace_received(std::span<const std::uint8_t> body, std::string label,
                                    std::string detail) {
  trace_event t;
  t.outgoing = false;
  t.frame_number = frames_received_;
  t.length = body.size();
  t.label = std::move(label);
  t.detail = std::move(detail);
  events_.push_back(std::move(t));
}

void client_session::seal(const client_message& message) {
  const std::string plaintext = build(message);
  const std::size_t start = output_.size();
  if (cipher_->exhausted()) {  // after 2^64-1 frames: never in practice, but never a reused nonce
    fail(failure_kind::runtime, "closing the connection: the session's send counter is used up");
    return;
  }
  natter::append_sealed_frame(*cipher_, plaintext, output_);
  ++frames_sent_;
  if (settings_.trace) {
    trace_event t;
    t.outgoing = true;
    t.frame_number = frames_sent_;
    t.length = output_.size() - start - frame_header_size;
    t.label = "session";
    t.counter = cipher_->frames_sent();
    t.ciphertext_size = t.length - crypto::session_cipher_v2::header_size;
    t.detail = plaintext;
    events_.push_back(std::move(t));
  }
}

void client_session::on_session_frame(std::span<const std::uint8_t> body) {
  using status = crypto::session_cipher_v2::open_status;
  const auto opened = cipher_->open_into(body, plaintext_);
  if (opened.status != status::ok) {
    std::string why(to_string(opened.status));
    if (opened.status == status::gap) {
      // A relay dropped frames: what they held is lost, so the connection cannot go on as if not.
      why = "frame " + std::to_string(opened.expected) + " from the server is missing (frame " +
            std::to_string(opened.counter) + " came next)";
    }
    if (settings_.trace) trace_received(body, "session", "NOT OPENED: " + why);
    fail(failure_kind::runtime, "closing the connection: frame " + std::to_string(frames_received_) +
                                    " from the server could not be opened (" + why + ")");
    return;
  }
  if (settings_.trace) {
    trace_event t;
    t.outgoing = false;
    t.frame_number = frames_received_;
    t.length = body.size();
    t.label = "session";
    t.counter = opened.counter;
    t.ciphertext_size = body.size() - crypto::session_cipher_v2::header_size;
    t.detail = printable(plaintext_);
    events_.push_back(std::move(t));
  }
  for (auto& item : parse_server_frame(plaintext_)) {
    if (phase_ == phase::closed) return;
    if (auto* message = std::get_if<server_message>(&item)) {
      on_message(std::move(*message));
    } else {
      const auto& error = std::get<message_error>(item);
      // Not fatal (PROTOCOL.md §5): a newer server may send types this client does not know.
      events_.push_back(notice_event{"ignored a message from the server: " + printable(error.code) +
                                     ": " + printable(error.message)});
    }
  }
}

void client_session::on_message(server_message message) {
  e2e_layer::output out;
  const bool consumed = e2e_.enabled() && e2e_before(message, out);
  const bool welcome = std::holds_alternative<welcome_event>(message);
  if (welcome) {
    // An open room is known before the welcome is shown: the conversation runs the lines typed
    // before the join on the welcome, and must label (and route) them for an open room.
    std::erase_if(out.events, [this](client_event& e) {
      const auto* shown = std::get_if<e2e_shown_event>(&e);
      if (!shown || shown->kind != e2e_shown::room_open) return false;
      events_.push_back(std::move(e));
      return true;
    });
  }
  if (!consumed) on_plain_message(std::move(message));
  apply(out);  // what the layer shows follows the message it came from
  if (welcome && phase_ == phase::joined) request_directory();
  report_dropped_texts();
}

void client_session::on_plain_message(server_message message) {
  std::visit(
      overloaded{
          [this](welcome_event& m) {
            if (phase_ == phase::joining) phase_ = phase::joined;
            if (is_valid_name(m.name)) settings_.name = m.name;
            if (m.max_text > 0) max_text_ = std::min<std::size_t>(limits::max_text, m.max_text);
            if (m.max_frame > 0) server_max_frame_ = m.max_frame;
          },
          [this](ack_event& m) { pending_acks_.erase(m.ref); },
          [this](error_event& m) {
            // A refused join is handled below: without a name the session is useless.
            if (m.ref && *m.ref == join_ref_ && phase_ == phase::joining) return;
            if (m.ref && pending_acks_.erase(*m.ref) > 0) ++refused_;
          },
          [this](users_event& m) {
            if (m.more) {
              std::move(m.users.begin(), m.users.end(), std::back_inserter(partial_users_));
              m.users.clear();
            } else if (!partial_users_.empty()) {
              std::move(m.users.begin(), m.users.end(), std::back_inserter(partial_users_));
              m.users = std::exchange(partial_users_, {});
            }
          },
          [this](bye_event&) { bye_received_ = true; },
          [](auto&) {},
      },
      message);
  if (const auto* users = std::get_if<users_event>(&message); users && users->more) return;
  const auto* error = std::get_if<error_event>(&message);
  const bool join_refused = error && error->ref && *error->ref == join_ref_ && phase_ == phase::joining;
  if (join_refused && error->code == errc::name_taken && settings_.v1_identity && !migration_tried_) {
    // Perhaps registered under our protocol 1 key: prove it and ask again. Not shown: the
    // answer to the second join is what counts.
    seal(make_join(true));
    return;
  }
  events_.push_back(std::move(message));
  if (join_refused) {
    fail(failure_kind::runtime, "the server refused the name \"" + printable(settings_.name) + "\"");
  }
}

std::optional<std::uint64_t> client_session::send(client_message message, room_route route) {
  const bool session_ready = cipher_ && phase_ != phase::closed && phase_ != phase::quitting;
  const bool joined = phase_ == phase::joined;
  const bool is_text = std::holds_alternative<say_request>(message) || std::holds_alternative<whisper_request>(message);
  if (joined && is_text && e2e_.enabled()) {
    // Sealed for the recipients' clients; the server sees an e2e request with this ref.
    const std::uint64_t ref = next_ref_++;
    pending_acks_.insert(ref);
    if (const auto* w = std::get_if<whisper_request>(&message)) whispers_sent_[ref] = {w->to, w->text};
    e2e_layer::output out;
    (void)e2e_.send_text(message, ref, route, out);
    apply(out);
    report_dropped_texts();
    return ref;
  }
  std::optional<std::uint64_t> ref;
  const bool ok = std::visit(
      overloaded{
          [&](join_request&) { return false; },  // the session joins by itself
          [&](say_request& m) {
            if (!joined) return false;
            if (e2e_.enabled()) return false;  // below: sealed end to end
            ref = m.ref = next_ref_++;
            pending_acks_.insert(*ref);
            return true;
          },
          [&](whisper_request& m) {
            if (!joined) return false;
            if (e2e_.enabled()) return false;
            ref = m.ref = next_ref_++;
            pending_acks_.insert(*ref);
            return true;
          },
          [&](users_request& m) { if (!joined) return false; ref = m.ref = next_ref_++; return true; },
          [&](whois_request& m) { if (!joined) return false; ref = m.ref = next_ref_++; return true; },
          [&](e2e_request& m) {
            if (!joined) return false;
            ref = m.ref = next_ref_++;
            // Texts are acknowledged like say/whisper; handshakes and keys too, but nobody waits on them.
            if (m.kind == e2e_kind::whisper || m.kind == e2e_kind::room) pending_acks_.insert(*ref);
            return true;
          },
          [&](away_request&) { return joined; },  // not answered: no ref to wait for
          [&](ping_request& m) { if (!session_ready) return false; ref = m.ref = next_ref_++; return true; },
          [&](quit_request&) {
            if (!session_ready) return false;
            phase_ = phase::quitting;
            quit_sent_ = true;
            ref = 0;
            return true;
          },
      },
      message);
  if (!ok) {
    events_.push_back(notice_event{phase_ == phase::closed ? "not connected; nothing sent"
                                                           : "not possible now (not joined yet); nothing sent"});
    return std::nullopt;
  }
  // JSON escaping can make a text of max_text bytes serialise to several times that; a frame
  // over the server's limit would cost us the connection, so refuse it here instead.
  if (const std::string plaintext = build(message);
      crypto::session_cipher_v2::sealed_size(plaintext.size()) > server_max_frame_) {
    if (ref) pending_acks_.erase(*ref);
    if (std::holds_alternative<quit_request>(message)) {
      message = quit_request{};  // a reason can always be dropped
    } else {
      ++refused_;
      events_.push_back(notice_event{"message not sent: " + std::to_string(plaintext.size()) +
                                     " bytes of JSON exceed the server's frame limit of " +
                                     std::to_string(server_max_frame_) + " bytes"});
      return std::nullopt;
    }
  }
  seal(message);
  return ref;
}

void client_session::fail(failure_kind kind, std::string message) {
  if (phase_ == phase::closed) return;
  phase_ = phase::closed;
  events_.push_back(failure_event{kind, std::move(message)});
}

void client_session::abort(failure_kind kind, std::string message) {
  output_.clear();  // "send nothing more": drop whatever was queued
  fail(kind, std::move(message));
}

void client_session::on_disconnected(const std::string& reason) {
  if (close_reported_) return;
  close_reported_ = true;
  const bool expected = quit_sent_ || bye_received_ || phase_ == phase::closed;
  if (phase_ == phase::awaiting_verdict) {
    // The server allows only a few seconds for the handshake (PROTOCOL.md §10).
    fail(failure_kind::runtime, "the server closed the connection while its key was being checked (" +
                                    reason + "); answer sooner, or use --accept-new or --expect-fingerprint");
  } else if (!expected) {
    // Lost after the join is its own exit code (5); before it, the connection simply failed.
    fail(phase_ == phase::joined ? failure_kind::connection_lost : failure_kind::runtime, "connection lost: " + reason);
  }
  phase_ = phase::closed;
  events_.push_back(closed_event{reason, quit_sent_, bye_received_});
}

bytes client_session::take_output() { return std::exchange(output_, {}); }

std::vector<client_event> client_session::take_events() { return std::exchange(events_, {}); }

crypto::session_cipher_v2 client_session::release_cipher() {
  if (!cipher_) throw std::logic_error("release_cipher() before the handshake is established");
  crypto::session_cipher_v2 out = std::move(*cipher_);
  cipher_.reset();
  phase_ = phase::closed;
  return out;
}

}  // namespace natter::client
