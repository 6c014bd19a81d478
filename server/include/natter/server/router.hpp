#pragma once
// Who receives what. The router knows the online users and turns requests into deliveries:
// a broadcast to everyone else, a whisper to exactly one user, presence notices, user lists.
// It knows nothing of sockets or threads' executors: a participant is anything that can accept
// a serialised message, so the router is tested with a fake that records what it was given.
//
// Concurrency: every method is thread-safe. The member table is guarded by one mutex that is
// held only to look up or change membership; serialising JSON and handing messages to
// participants happens outside it. Broadcasts walk an immutable snapshot of the members, rebuilt
// lazily after a join or leave: a broadcast holds the mutex only to copy one shared_ptr, and the
// delivery path takes no lock per recipient.
//
// Presence is exact: a join's (or leave's) audience is the snapshot taken in the same critical
// section that changes the table, so each member hears of another exactly once, in its welcome
// list or in a presence notice, never both and never neither, however joins race.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <variant>
#include <vector>

#include "natter/clock.hpp"
#include "natter/crypto/keys.hpp"
#include "natter/messages.hpp"
#include "natter/server/name_registry.hpp"

namespace natter::server {

using shared_message = std::shared_ptr<const std::string>;

class participant {
 public:
  virtual ~participant() = default;
  // Queues a serialised server message. Must be thread-safe and must not block on I/O.
  virtual void deliver(shared_message message) = 0;
  // The same for a message that may wait a few milliseconds (presence notices), so that many
  // can leave as one batch frame; its order relative to deliver()ed messages is kept.
  virtual void deliver_soon(shared_message message) { deliver(std::move(message)); }
  // Asks the participant to leave with `reason` (kick, server stop). Thread-safe.
  virtual void disconnect(leave_reason reason, std::string message) = 0;
};

struct member {
  std::string name;  // canonical spelling
  std::string folded;
  std::string fingerprint;          // fingerprint_v2 of `key`
  crypto::ed25519_public_key key{};  // the identity key the handshake proved
  std::string key_hex;               // the same, as the messages carry it
  std::string address;
  std::int64_t since_ms = 0;
  std::shared_ptr<participant> who;
  std::string away = {};  // the away message; empty: here
};

struct joined {
  std::string name;                                // canonical spelling
  std::string fingerprint;                         // of the key, computed once per join
  bool migrated = false;                           // the name moved here from its v1 key
  std::vector<shared_message> welcome_messages;    // welcome (+ users continuations)
};

// Answer to a say/whisper: an ack for the sender, or the error to send instead.
using send_result = std::variant<ack_event, message_error>;

class router {
 public:
  // The wall clock (natter::wall_ms in production): it stamps what people read, a message's `ts`
  // and when a name was registered. Rates and timeouts are the sessions', on the steady clock.
  using clock = ms_clock;

  // max_frame, max_text, rate and burst are only announced in `welcome`; sessions enforce them.
  router(name_registry& names, clock now_ms, std::uint64_t max_frame, std::uint64_t max_text,
         double rate = 0, double burst = 0);

  // Joins `who` as `name`. Refuses with name_taken (registered to another key), name_in_use
  // (online elsewhere). On success the others get a presence notice. `migrating_from`: the
  // caller checked a migration proof for this v1 key (connection_core); if the name is
  // registered to it, the name moves to `key` first.
  [[nodiscard]] std::variant<joined, message_error> join(
      std::shared_ptr<participant> who, std::string_view name, const crypto::ed25519_public_key& key,
      std::string address, request_ref ref, const std::optional<crypto::public_key>& migrating_from = std::nullopt);

  // Removes `who` (if it is still the member under `name`) and tells the others why.
  // `message` (the quit's or the kick's reason, bounded by the caller) goes into the notice.
  void leave(std::string_view name, const participant* who, leave_reason reason, std::string message = {});

  // `action`: the sender's /me, passed through to the `message` (PROTOCOL.md §4.3).
  [[nodiscard]] send_result say(std::string_view from, const participant* sender,
                                std::string text, request_ref ref, bool action = false);
  [[nodiscard]] send_result whisper(std::string_view from, std::string_view to, std::string text,
                                    request_ref ref, bool action = false);

  // An end-to-end body (e2e_request, checked by the caller: kind, `to` for direct kinds): kind
  // room to every other joined member, serialised once; the others to `to` (unknown_user if not
  // online). The body is passed on as it came: the router never decodes it.
  [[nodiscard]] send_result relay(std::string_view from, const participant* sender, std::string kind,
                                  std::string to, std::string body, request_ref ref);

  // The `users` answer, split into messages of at most max_users_per_message entries.
  // Marks `name` (if `who` is still that member) away with `message`, or back if it is empty.
  // Nobody is told: whois, users and a whisper's ack carry it.
  void set_away(std::string_view name, const participant* who, std::string message);

  [[nodiscard]] std::vector<shared_message> users(request_ref ref) const;
  [[nodiscard]] std::variant<whois_event, message_error> whois(std::string_view name, request_ref ref) const;

  // Operator actions. kick returns false if nobody by that name is online.
  bool kick(std::string_view name, std::string_view why);
  void disconnect_all(leave_reason reason, std::string_view message);

  [[nodiscard]] std::vector<member> members() const;  // sorted by name
  [[nodiscard]] std::size_t online() const;
  [[nodiscard]] std::uint64_t messages_routed() const { return next_id_.load() - 1; }

 private:
  using snapshot = std::vector<std::shared_ptr<participant>>;
  enum class urgency { now, soon };
  std::shared_ptr<const snapshot> recipients() const;
  std::shared_ptr<const snapshot> recipients_locked() const;  // mutex_ held
  void broadcast_except(const participant* skip, const shared_message& message, urgency when) const;
  static void deliver_all(const snapshot& targets, const participant* skip, const shared_message& message,
                          urgency when);
  std::vector<user_info> user_list_locked() const;
  // The online member called `name`, with its canonical spelling (and away message); null if none.
  std::shared_ptr<participant> find_online(std::string_view name, std::string& canonical,
                                           std::string* away = nullptr) const;
  message_error not_online(std::string_view to, request_ref ref) const;

  name_registry& names_;
  clock now_ms_;
  std::uint64_t max_frame_;
  std::uint64_t max_text_;
  double rate_;
  double burst_;
  std::atomic<std::uint64_t> next_id_{1};

  mutable std::mutex mutex_;
  std::unordered_map<std::string, member> members_;            // key: folded name
  mutable std::shared_ptr<const snapshot> snapshot_;  // null when stale; guarded by mutex_
};

}  // namespace natter::server
