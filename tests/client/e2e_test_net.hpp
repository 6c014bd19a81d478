#pragma once
// An in-memory relay for e2e_engine tests: several engines, and a "server" that routes their
// requests as the real router does (room to every other member, the rest to `to`, `from` set,
// unknown_user for an absent name) — with hooks a test uses to play a malicious server.
#include <doctest/doctest.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "natter/client/e2e_engine.hpp"
#include "natter/crypto/identity_v2.hpp"
#include "natter/crypto/keys.hpp"

namespace natter::test {

inline crypto::identity_v2 identity_of(std::uint8_t fill) {
  crypto::init_sodium();
  crypto::secret_bytes seed;
  for (std::size_t i = 0; i < crypto::secret_bytes::size(); ++i) seed.data()[i] = fill;
  return crypto::identity_v2::from_seed(std::move(seed));
}

inline crypto::public_key test_server_key() {
  crypto::public_key k{};
  k.fill(0x5e);
  return k;
}

struct e2e_net {
  struct member {
    crypto::identity_v2 id;
    std::unique_ptr<client::e2e_engine> engine;
    std::vector<client::e2e_message> messages;
    std::vector<std::string> warnings;
    std::vector<std::string> notices;
    std::vector<client::e2e_dropped> dropped;
    std::vector<e2e_event> received;  // every event delivered to it, as delivered
  };
  struct in_flight {
    std::string to;  // the recipient
    e2e_event event;
  };

  std::map<std::string, member> members;
  std::set<std::string> gone;  // departed, engines kept: the relay no longer delivers to them
  std::deque<in_flight> wire;
  client::e2e_clock::time_point now{};
  // Called for each delivery before it happens; return false to drop it. May change the event.
  std::function<bool(const std::string& to, e2e_event&)> tamper = [](const std::string&, e2e_event&) { return true; };
  // Called for each handshake and key body before it is routed: an error code refuses it, as a
  // server over its budget does (rate_limited). Empty: routed.
  std::function<std::string(const std::string& from, const e2e_request&)> refuse =
      [](const std::string&, const e2e_request&) { return std::string(); };
  std::uint64_t next_id = 1;
  client::e2e_rekey_settings rekey{};  // for engines made by join() from then on

  member& join(const std::string& name, std::uint8_t fill) {
    member m{identity_of(fill), nullptr, {}, {}, {}, {}, {}};
    auto [it, inserted] = members.emplace(name, std::move(m));
    REQUIRE(inserted);
    it->second.engine = std::make_unique<client::e2e_engine>(it->second.id, name, test_server_key(), rekey);
    // Everyone learns of everyone (welcome for the joiner, presence for the others).
    for (auto& [other, o] : members) {
      if (other == name) continue;
      it->second.engine->on_directory(other, o.id.public_key());
      o.engine->on_directory(name, it->second.id.public_key());
    }
    flush_all();
    return it->second;
  }
  void leave(const std::string& name) {
    members.erase(name);
    for (auto& [other, o] : members) o.engine->on_left(name);
    flush_all();
  }
  // `name` leaves the room for everyone else but keeps its engine (a removed member with its keys).
  void depart_keeping(const std::string& name) {
    gone.insert(name);
    for (auto& [other, o] : members) {
      if (other != name) o.engine->on_left(name);
    }
    flush_all();
  }
  void flush_all() {
    for (auto& [name, m] : members) {
      client::e2e_output out;
      m.engine->flush(out);
      take(name, out);
    }
  }
  // Collects one engine's output; its requests go on the wire.
  void take(const std::string& from, client::e2e_output& out) {
    auto& m = members.at(from);
    for (auto& s : out.send) route(from, s.request);
    for (auto& x : out.messages) m.messages.push_back(x);
    for (auto& x : out.warnings) m.warnings.push_back(x);
    for (auto& x : out.notices) m.notices.push_back(x);
    for (auto& x : out.dropped) m.dropped.push_back(x);
  }
  void route(const std::string& from, const e2e_request& r) {
    e2e_event ev{next_id++, 0, from, r.kind, r.to, r.body};
    const bool control = r.kind == e2e_kind::handshake || r.kind == e2e_kind::key;
    if (const std::string code = control ? refuse(from, r) : std::string(); !code.empty()) {
      client::e2e_output out;
      members.at(from).engine->on_refused(r.to, r.kind, code, now, out);
      take(from, out);
    } else if (r.kind == e2e_kind::room) {
      for (auto& [name, m] : members) {
        if (name != from && !gone.contains(name)) wire.push_back({name, ev});
      }
    } else if (members.contains(r.to) && !gone.contains(r.to)) {
      wire.push_back({r.to, ev});
    } else if (r.kind != e2e_kind::whisper) {
      client::e2e_output out;
      members.at(from).engine->on_refused(r.to, r.kind, errc::unknown_user, now, out);
      take(from, out);
    }
  }
  void say(const std::string& from, const std::string& text, std::uint64_t tag = 1) {
    client::e2e_output out;
    REQUIRE(members.at(from).engine->send_room(text, tag, now, out));
    take(from, out);
  }
  void whisper(const std::string& from, const std::string& to, const std::string& text, std::uint64_t tag = 1) {
    client::e2e_output out;
    REQUIRE(members.at(from).engine->send_whisper(to, text, tag, now, out));
    take(from, out);
  }
  // Delivers one event (the oldest), through the tamper hook.
  void deliver_one() {
    in_flight f = std::move(wire.front());
    wire.pop_front();
    if (!members.contains(f.to) || !tamper(f.to, f.event)) return;
    deliver_raw(f.to, f.event);
  }
  void deliver_raw(const std::string& to, const e2e_event& ev) {
    auto& m = members.at(to);
    m.received.push_back(ev);
    client::e2e_output out;
    m.engine->on_event(ev, now, out);
    take(to, out);
  }
  void run() {
    for (int guard = 0; !wire.empty() && guard < 100000; ++guard) deliver_one();
  }
  void tick_all() {
    for (auto& [name, m] : members) {
      client::e2e_output out;
      m.engine->tick(now, out);
      take(name, out);
    }
  }
  [[nodiscard]] std::vector<std::string> texts(const std::string& name) const {
    std::vector<std::string> out;
    for (const auto& m : members.at(name).messages) out.push_back(m.from + ": " + m.text);
    return out;
  }
  [[nodiscard]] bool warned(const std::string& name, std::string_view part) const {
    for (const auto& w : members.at(name).warnings) {
      if (w.find(part) != std::string::npos) return true;
    }
    return false;
  }
};

}  // namespace natter::test
