#include "natter/server/router.hpp"

#include <algorithm>

#include "natter/crypto/fingerprint.hpp"
#include "natter/crypto/fingerprint_v2.hpp"
#include "natter/limits.hpp"
#include "natter/message_build.hpp"
#include "natter/text.hpp"

namespace natter::server {

namespace {
shared_message serialise(const server_message& message) {
  return std::make_shared<const std::string>(build(message));
}

message_error refuse(std::string_view code, std::string text, request_ref ref) {
  return {std::string(code), std::move(text), ref};
}
}  // namespace

router::router(name_registry& names, clock now_ms, std::uint64_t max_frame, std::uint64_t max_text,
               double rate, double burst)
    : names_(names), now_ms_(std::move(now_ms)), max_frame_(max_frame), max_text_(max_text), rate_(rate),
      burst_(burst) {}

namespace {
// The first `limit` members in name order. Ordered by the folded key the table already holds (no
// fold_name() per comparison), and only partially sorted: a join needs the first 256 of
// thousands, and it runs once per join, under the lock.
std::vector<user_info> first_users(const std::unordered_map<std::string, member>& members, std::size_t limit) {
  std::vector<const std::pair<const std::string, member>*> order;
  order.reserve(members.size());
  for (const auto& entry : members) order.push_back(&entry);
  const std::size_t n = std::min(limit, order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(n), order.end(),
                    [](const auto* a, const auto* b) { return a->first < b->first; });
  std::vector<user_info> list;
  list.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const member& m = order[i]->second;
    list.push_back({m.name, m.fingerprint, m.since_ms, m.key_hex, m.away});
  }
  return list;
}
}  // namespace

std::vector<user_info> router::user_list_locked() const { return first_users(members_, members_.size()); }

std::variant<joined, message_error> router::join(std::shared_ptr<participant> who, std::string_view name,
                                                 const crypto::ed25519_public_key& key, std::string address,
                                                 request_ref ref,
                                                 const std::optional<crypto::public_key>& migrating_from) {
  const std::int64_t now = now_ms_();
  std::string folded = fold_name(name);
  {
    // Cheap refusal first, so a name already online never touches the registry.
    std::lock_guard lock(mutex_);
    if (members_.count(folded)) {
      return refuse(errc::name_in_use, "the name " + std::string(name) + " is already online", ref);
    }
  }
  bool migrated = false;
  if (migrating_from) {
    switch (names_.migrate(name, *migrating_from, key)) {
      case migrate_result::migrated: migrated = true; break;
      case migrate_result::storage_failed:
        return refuse(errc::internal, "the server could not record your name; try again", ref);
      case migrate_result::not_registered_to_that_key:
        break;  // already migrated, free, or someone else's: the claim below decides
    }
  }
  switch (names_.claim(name, name_owner::v2(key), now)) {
    case claim_result::taken:
      return refuse(errc::name_taken,
                    "the name " + std::string(name) + " is registered to a different key", ref);
    case claim_result::storage_failed:
      return refuse(errc::internal, "the server could not record your name; try again", ref);
    case claim_result::claimed_new:
    case claim_result::owned_by_you:
      break;
  }
  const auto registered = names_.lookup(name);
  member entry{registered ? registered->display : std::string(name), folded, crypto::fingerprint_v2(key),
               key, crypto::to_hex(key), std::move(address), now, std::move(who)};

  welcome_event welcome;
  std::vector<user_info> first;
  std::size_t online = 0;
  std::shared_ptr<const snapshot> audience;  // who hears of this join: the members as of now
  {
    std::lock_guard lock(mutex_);
    // Re-check under the lock: two connections may have raced for the same free name.
    if (members_.count(folded)) {
      return refuse(errc::name_in_use, "the name " + std::string(name) + " is already online", ref);
    }
    members_.emplace(folded, entry);
    snapshot_.reset();
    first = first_users(members_, limits::max_users_per_message);
    online = members_.size();
    audience = recipients_locked();
  }

  joined result;
  result.name = entry.name;
  result.fingerprint = entry.fingerprint;
  result.migrated = migrated;
  welcome.name = entry.name;
  welcome.user_count = online;
  welcome.max_frame = max_frame_;
  welcome.max_text = max_text_;
  welcome.rate = rate_;
  welcome.burst = burst_;
  welcome.users = std::move(first);
  result.welcome_messages.push_back(serialise(welcome));

  presence_event presence{true, entry.name, entry.fingerprint, {}, entry.key_hex};
  deliver_all(*audience, entry.who.get(), serialise(presence), urgency::soon);
  return result;
}

void router::leave(std::string_view name, const participant* who, leave_reason reason, std::string message) {
  std::string canonical;
  std::shared_ptr<const snapshot> audience;  // who hears of this leave: the members as of now
  {
    std::lock_guard lock(mutex_);
    const auto it = members_.find(fold_name(name));
    // A stale session must not remove a newer connection that took the name since.
    if (it == members_.end() || it->second.who.get() != who) return;
    canonical = it->second.name;
    members_.erase(it);
    snapshot_.reset();
    audience = recipients_locked();
  }
  presence_event presence{false, canonical, {}, std::string(to_string(reason)), {}, std::move(message)};
  deliver_all(*audience, nullptr, serialise(presence), urgency::soon);
}

std::shared_ptr<const router::snapshot> router::recipients() const {
  // The mutex is held for a pointer copy per broadcast (and a rebuild after a join or leave),
  // never per recipient. std::atomic<std::shared_ptr> would avoid even that, but libstdc++ 12's
  // implementation is reported as racy by ThreadSanitizer, and a clean TSan run matters more.
  std::lock_guard lock(mutex_);
  return recipients_locked();
}

std::shared_ptr<const router::snapshot> router::recipients_locked() const {
  if (!snapshot_) {
    auto fresh = std::make_shared<snapshot>();
    fresh->reserve(members_.size());
    for (const auto& [folded, m] : members_) fresh->push_back(m.who);
    snapshot_ = std::move(fresh);
  }
  return snapshot_;
}

void router::broadcast_except(const participant* skip, const shared_message& message, urgency when) const {
  deliver_all(*recipients(), skip, message, when);
}

void router::deliver_all(const snapshot& targets, const participant* skip, const shared_message& message,
                         urgency when) {
  for (const auto& target : targets) {
    if (target.get() == skip) continue;
    if (when == urgency::now) target->deliver(message);
    else target->deliver_soon(message);
  }
}

send_result router::say(std::string_view from, const participant* sender, std::string text,
                        request_ref ref, bool action) {
  chat_event event;
  event.id = next_id_.fetch_add(1);
  event.ts_ms = now_ms_();
  event.from = std::string(from);
  event.text = std::move(text);
  event.action = action;
  // Serialised once; every recipient's session seals the same bytes with its own key.
  broadcast_except(sender, serialise(event), urgency::now);
  return ack_event{ref.value_or(0), event.id, event.ts_ms};
}

std::shared_ptr<participant> router::find_online(std::string_view name, std::string& canonical,
                                                std::string* away) const {
  std::lock_guard lock(mutex_);
  if (const auto it = members_.find(fold_name(name)); it != members_.end()) {
    canonical = it->second.name;
    if (away) *away = it->second.away;
    return it->second.who;
  }
  return nullptr;
}

message_error router::not_online(std::string_view to, request_ref ref) const {
  const bool registered = names_.lookup(to).has_value();
  return refuse(errc::unknown_user,
                registered ? std::string(to) + " is not online" : "there is no user called " + std::string(to), ref);
}

send_result router::relay(std::string_view from, const participant* sender, std::string kind, std::string to,
                          std::string body, request_ref ref) {
  e2e_event event;
  event.id = next_id_.fetch_add(1);
  event.ts_ms = now_ms_();
  event.from = std::string(from);
  event.body = std::move(body);
  if (kind == e2e_kind::room) {
    event.kind = std::move(kind);
    // Serialised once, like a say: every member's session seals the same bytes.
    broadcast_except(sender, serialise(event), urgency::now);
    return ack_event{ref.value_or(0), event.id, event.ts_ms};
  }
  std::string away;
  const auto target = find_online(to, event.to, &away);
  if (!target) return not_online(to, ref);
  const bool text = kind == e2e_kind::whisper;
  event.kind = std::move(kind);
  target->deliver(serialise(event));
  // As for a plain whisper, the ack of an end-to-end one says whether its recipient is away.
  return ack_event{ref.value_or(0), event.id, event.ts_ms, text ? std::move(away) : std::string()};
}

send_result router::whisper(std::string_view from, std::string_view to, std::string text,
                            request_ref ref, bool action) {
  std::string target_name;
  std::string target_away;
  const auto target = find_online(to, target_name, &target_away);
  if (!target) return not_online(to, ref);
  chat_event event;
  event.id = next_id_.fetch_add(1);
  event.ts_ms = now_ms_();
  event.from = std::string(from);
  event.to = target_name;
  event.text = std::move(text);
  event.whisper = true;
  event.action = action;
  target->deliver(serialise(event));
  return ack_event{ref.value_or(0), event.id, event.ts_ms, std::move(target_away)};
}

void router::set_away(std::string_view name, const participant* who, std::string message) {
  std::lock_guard lock(mutex_);
  const auto it = members_.find(fold_name(name));
  if (it != members_.end() && it->second.who.get() == who) it->second.away = std::move(message);
}

std::vector<shared_message> router::users(request_ref ref) const {
  std::vector<user_info> everyone;
  {
    std::lock_guard lock(mutex_);
    everyone = user_list_locked();
  }
  std::vector<shared_message> out;
  std::size_t start = 0;
  do {
    const std::size_t end = std::min(everyone.size(), start + limits::max_users_per_message);
    users_event chunk{ref, {everyone.begin() + static_cast<std::ptrdiff_t>(start),
                            everyone.begin() + static_cast<std::ptrdiff_t>(end)},
                      end < everyone.size()};
    out.push_back(serialise(chunk));
    start = end;
  } while (start < everyone.size());
  return out;
}

std::variant<whois_event, message_error> router::whois(std::string_view name, request_ref ref) const {
  bool online = false;
  std::string away;
  {
    std::lock_guard lock(mutex_);
    if (const auto it = members_.find(fold_name(name)); it != members_.end()) {
      online = true;
      away = it->second.away;
    }
  }
  const auto registered = names_.lookup(name);
  if (!registered) return refuse(errc::unknown_user, "there is no user called " + std::string(name), ref);
  // A name not migrated from protocol 1 yet is named by its v1 fingerprint, without a key: no
  // v2 client can be talking as it.
  const auto& owner = registered->owner;
  if (owner.version == 1) return whois_event{ref, registered->display, crypto::fingerprint(owner.key), online, {}};
  const crypto::ed25519_public_key identity{owner.key};
  return whois_event{ref, registered->display, crypto::fingerprint_v2(identity), online, crypto::to_hex(identity),
                     std::move(away)};
}

bool router::kick(std::string_view name, std::string_view why) {
  std::shared_ptr<participant> target;
  {
    std::lock_guard lock(mutex_);
    if (const auto it = members_.find(fold_name(name)); it != members_.end()) target = it->second.who;
  }
  if (!target) return false;
  target->disconnect(leave_reason::kicked, std::string(why));
  return true;
}

void router::disconnect_all(leave_reason reason, std::string_view message) {
  const auto targets = recipients();
  for (const auto& target : *targets) target->disconnect(reason, std::string(message));
}

std::vector<member> router::members() const {
  std::vector<member> list;
  {
    std::lock_guard lock(mutex_);
    for (const auto& [folded, m] : members_) list.push_back(m);
  }
  std::sort(list.begin(), list.end(), [](const member& a, const member& b) { return a.folded < b.folded; });
  return list;
}

std::size_t router::online() const {
  std::lock_guard lock(mutex_);
  return members_.size();
}

}  // namespace natter::server
