#include "natter/crypto/e2e_chain.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>

namespace natter::crypto::e2e {

static_assert(kdf_context_size == crypto_kdf_CONTEXTBYTES);
static_assert(key_size == crypto_kdf_KEYBYTES);

namespace {

constexpr std::uint64_t message_key_id = 1;
constexpr std::uint64_t chain_key_id = 2;

void derive(secret_key& out, std::uint64_t subkey_id, chain_kind kind, const secret_key& ck) {
  // crypto_kdf_derive_from_key only fails for an output length out of range; 32 is in range.
  (void)crypto_kdf_derive_from_key(out.data(), out.size(), subkey_id, kdf_context(kind).data(), ck.data());
}

}  // namespace

std::string_view kdf_context(chain_kind kind) {
  return kind == chain_kind::pairwise ? std::string_view("natpairw", 8) : std::string_view("natsendk", 8);
}

std::string_view to_string(receive_status status) {
  switch (status) {
    case receive_status::ok: return "ok";
    case receive_status::duplicate: return "duplicate or replayed message";
    case receive_status::too_far_ahead: return "message too far ahead of the chain";
    case receive_status::auth_failed: return "message failed authentication";
    case receive_status::bad_format: return "malformed end-to-end message";
    case receive_status::wrong_session: return "message for another session or sender key";
    case receive_status::old_epoch: return "message from a rotated-out sender key epoch";
    case receive_status::unknown_epoch: return "message from a sender key epoch not yet received";
    case receive_status::bad_signature: return "room message signature does not verify";
    case receive_status::chain_exhausted: return "chain exhausted";
  }
  return "unknown";
}

secret_key copy_of(const secret_key& key) {
  secret_key out;
  std::memcpy(out.data(), key.data(), key.size());
  return out;
}

chain_key::chain_key(secret_key ck, std::uint32_t index, chain_kind kind)
    : ck_(std::move(ck)), index_(index), kind_(kind) {}

std::optional<message_key> chain_key::step() {
  if (index_ > last_chain_index) return std::nullopt;
  message_key out;
  out.n = index_;
  derive(out.key, message_key_id, kind_, ck_);
  secret_key next;
  derive(next, chain_key_id, kind_, ck_);
  ck_ = std::move(next);  // the move wipes `next`; the assignment overwrites ck_n in place
  ++index_;
  return out;
}

receive_status receive_chain::receive(std::uint32_t n, clock::time_point now,
                                      const std::function<bool(const secret_key&)>& open) {
  if (n < chain_.index()) {
    const auto found = skipped_.find(n);
    if (found == skipped_.end()) return receive_status::duplicate;
    if (!open(found->second.key)) return receive_status::auth_failed;  // the key stays for the real one
    skipped_.erase(found);  // secret_key wipes itself
    return receive_status::ok;
  }
  if (n > last_chain_index) return receive_status::chain_exhausted;
  if (n - chain_.index() > max_skip_ahead) return receive_status::too_far_ahead;

  // Derive on a copy: nothing is committed unless message n authenticates, so a forged index
  // neither skips real messages nor fills the store.
  chain_key trial = chain_.clone();
  std::vector<message_key> passed;
  std::optional<message_key> mk;
  while (true) {
    mk = trial.step();
    if (!mk) return receive_status::chain_exhausted;
    if (mk->n == n) break;
    passed.push_back(std::move(*mk));
  }
  if (!open(mk->key)) return receive_status::auth_failed;

  chain_ = std::move(trial);
  for (auto& skipped : passed) skipped_.emplace(skipped.n, skipped_key{std::move(skipped.key), now});
  while (skipped_.size() > max_skipped_keys) {  // the oldest index is the least likely to come
    lost_.push_back(skipped_.begin()->first);
    skipped_.erase(skipped_.begin());
  }
  return receive_status::ok;
}

std::vector<std::uint32_t> receive_chain::outstanding() const {
  std::vector<std::uint32_t> out;
  out.reserve(skipped_.size());
  for (const auto& entry : skipped_) out.push_back(entry.first);
  return out;
}

void receive_chain::expire(clock::time_point now, clock::duration max_age) {
  for (auto it = skipped_.begin(); it != skipped_.end();) {
    if (now - it->second.skipped_at >= max_age) {
      lost_.push_back(it->first);
      it = skipped_.erase(it);
    } else {
      ++it;
    }
  }
}

std::vector<std::uint32_t> receive_chain::take_lost() {
  std::vector<std::uint32_t> out;
  out.swap(lost_);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace natter::crypto::e2e
