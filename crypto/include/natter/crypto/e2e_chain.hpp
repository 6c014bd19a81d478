#pragma once
// The symmetric chains of the end-to-end layer (docs/E2E.md §3): one chain key per direction of a
// pairwise session, and one per (room, sender, epoch). For message n:
//
//   mk_n     = crypto_kdf_derive_from_key(32, subkey_id 1, context, ck_n)
//   ck_{n+1} = crypto_kdf_derive_from_key(32, subkey_id 2, context, ck_n)
//
// (crypto_kdf is keyed BLAKE2b-256 with the id as salt and the context as personalisation),
// after which ck_n is wiped: a state taken after message n holds no key that opens n or earlier
// (forward secrecy per message). The 8-byte contexts separate the two uses: "natpairw" for
// pairwise sessions, "natsendk" for sender keys.
//
// A receive_chain tolerates loss and reordering within a window: stepping over messages that have
// not arrived keeps their message keys in a bounded store (max_skipped_keys; the oldest are
// given up first), and it never steps more than max_skip_ahead past the next expected index.
//
// Failure contract. receive() changes nothing unless the message authenticates: the candidate
// keys are derived on a copy of the chain, and only committed when `open` accepts. Statuses:
// duplicate (already delivered, or given up as lost: its key is gone), too_far_ahead (refused,
// nothing derived), auth_failed (the key for that index did not open it; a forged message burns
// no key), chain_exhausted (index 2^32-1 is never used).
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "natter/crypto/keys.hpp"

namespace natter::crypto::e2e {

using clock = std::chrono::steady_clock;

inline constexpr std::size_t max_skipped_keys = 1000;    // message keys kept for late arrivals
inline constexpr std::uint32_t max_skip_ahead = 1000;    // how far past `next` one message may jump
inline constexpr std::uint32_t last_chain_index = 0xffff'fffeu;  // n is a u32; 2^32-1 never used
inline constexpr std::size_t kdf_context_size = 8;       // crypto_kdf_CONTEXTBYTES

enum class chain_kind : std::uint8_t { pairwise, sender_key };
[[nodiscard]] std::string_view kdf_context(chain_kind kind);  // "natpairw" or "natsendk"

// The result of anything that receives an end-to-end message (chains, sessions, sender keys).
enum class receive_status : std::uint8_t {
  ok,
  duplicate,        // this n was delivered already, or given up as lost (its key is wiped)
  too_far_ahead,    // more than max_skip_ahead past the next expected message
  auth_failed,      // the AEAD did not open: tampered, or not for this key
  bad_format,       // the bytes do not parse (wrong version, size, padding)
  wrong_session,    // another session id, room or sender key id than this state's
  old_epoch,        // a sender key epoch this receiver has rotated past
  unknown_epoch,    // a newer epoch than the receiver holds keys for (wait for its distribution)
  bad_signature,    // a room message whose Ed25519 signature does not verify
  chain_exhausted,  // the index space is used up: rekey
};
[[nodiscard]] std::string_view to_string(receive_status status);

// The message a key seals or opens, named as a dissector finds it: kind, id and n from the
// body's header, and for a pairwise body its direction by the users' names. The header cannot
// say the direction (both directions of a session share its id and each counts n from 0), but
// the envelope around every pairwise body names its recipient ("to"), so names pick one key.
struct message_key_use {
  chain_kind kind = chain_kind::pairwise;
  std::span<const std::uint8_t> id;  // the pairwise session id or the sender key id
  std::uint32_t n = 0;
  std::string_view sender;     // pairwise: who sealed it; empty for a sender key (its id is one sender's)
  std::string_view recipient;  // pairwise: who it is for (the envelope's "to"); empty for a sender key
};

// Told each message key when it seals or opens a message: the opt-in end-to-end key log
// (docs/E2E.md "On the wire"). Keys skipped over are not reported until a message they open
// arrives. Must not throw.
class message_key_observer {
 public:
  virtual ~message_key_observer() = default;
  virtual void on_message_key(const message_key_use& use, const secret_key& key) noexcept = 0;
};

// A copy of a secret key (secret_bytes is deliberately not copyable; this is the one explicit way).
[[nodiscard]] secret_key copy_of(const secret_key& key);

struct message_key {
  std::uint32_t n = 0;
  secret_key key;
};

// ck_n and its index n.
class chain_key {
 public:
  chain_key(secret_key ck, std::uint32_t index, chain_kind kind);

  // mk_n; then ck becomes ck_{n+1} (ck_n wiped) and the index n+1. nullopt once the index
  // would pass last_chain_index (the state is left as it is).
  [[nodiscard]] std::optional<message_key> step();

  [[nodiscard]] std::uint32_t index() const { return index_; }
  [[nodiscard]] chain_kind kind() const { return kind_; }
  // ck at index(): what a sender key distribution exports (docs/E2E.md §5).
  [[nodiscard]] const secret_key& key() const { return ck_; }
  [[nodiscard]] chain_key clone() const { return {copy_of(ck_), index_, kind_}; }

 private:
  secret_key ck_;
  std::uint32_t index_;
  chain_kind kind_;
};

class receive_chain {
 public:
  explicit receive_chain(chain_key start) : chain_(std::move(start)) {}

  // Message n, if `open(mk_n)` accepts it (returns true). See the failure contract above.
  [[nodiscard]] receive_status receive(std::uint32_t n, clock::time_point now,
                                       const std::function<bool(const secret_key&)>& open);

  // The indices skipped and still awaited, ascending ("k messages missing").
  [[nodiscard]] std::vector<std::uint32_t> outstanding() const;
  // Gives up every outstanding index skipped at or before now - max_age: its key is wiped and
  // the index joins the lost list.
  void expire(clock::time_point now, clock::duration max_age);
  // The indices given up (by expire(), or evicted when the store was full) since the last call,
  // ascending: "did not arrive". Clears the list.
  [[nodiscard]] std::vector<std::uint32_t> take_lost();
  [[nodiscard]] std::uint32_t next_index() const { return chain_.index(); }

 private:
  struct skipped_key {
    secret_key key;
    clock::time_point skipped_at;
  };
  chain_key chain_;
  std::map<std::uint32_t, skipped_key> skipped_;
  std::vector<std::uint32_t> lost_;
};

}  // namespace natter::crypto::e2e
