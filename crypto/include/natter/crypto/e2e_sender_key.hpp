#pragma once
// Room messages with Signal-style sender keys (docs/E2E.md §5). Each member, per (room, epoch),
// holds a chain (e2e_chain.hpp, context "natsendk") and a fresh Ed25519 signing key pair, and
// hands {room, epoch, chain key, iteration, signing public key} (a distribution, e2e_wire.hpp) to
// every other member inside their pairwise sessions. A room message is then sealed once for the
// whole room:
//
//   header    = 1 ‖ room ‖ epoch ‖ sender key id ‖ n          (e2e_wire.hpp)
//   message   = header ‖ nonce ‖ AEAD(mk_n, nonce, ad = header, padded text) ‖ Ed25519 signature
//   signature = Ed25519(signing secret, header ‖ nonce ‖ ciphertext)
//   key id    = the first 8 bytes of BLAKE2b-128("natter/e2e sender key id 1" ‖ signing public key)
//
// A member holding another's chain key can make a valid AEAD but not the signature, so it cannot
// forge. Rotation (rotate()) starts epoch + 1 with a fresh chain and signing key; a receiver that
// accepts the new distribution refuses the old epoch from then on, and a member who is not sent
// the new distribution (removed, or left) reads nothing of the new epoch.
//
// Failure contract: create() refuses a room name empty or over max_room_size. seal() refuses a
// plaintext over max_plaintext_size or an exhausted chain (nullopt). A receiver's open() checks,
// in order, format, room/key id/epoch, signature, then the chain — and changes nothing unless
// all pass. A sender's signing secret is wiped on destruction, move and rotation.
#include <array>
#include <optional>
#include <span>
#include <string>

#include "natter/crypto/e2e_aead.hpp"
#include "natter/crypto/e2e_chain.hpp"
#include "natter/crypto/e2e_wire.hpp"
#include "natter/crypto/identity_v2.hpp"

namespace natter::crypto::e2e {

inline constexpr std::size_t signing_secret_size = 64;  // crypto_sign_SECRETKEYBYTES

[[nodiscard]] sender_key_id sender_key_id_of(const ed25519_public_key& signing_key);

// libsodium's expanded Ed25519 secret key, wiped when destroyed or moved from.
class signing_secret {
 public:
  signing_secret() = default;
  ~signing_secret();
  signing_secret(const signing_secret&) = delete;
  signing_secret& operator=(const signing_secret&) = delete;
  signing_secret(signing_secret&& other) noexcept;
  signing_secret& operator=(signing_secret&& other) noexcept;
  [[nodiscard]] std::uint8_t* data() { return bytes_.data(); }
  [[nodiscard]] const std::uint8_t* data() const { return bytes_.data(); }

 private:
  std::array<std::uint8_t, signing_secret_size> bytes_{};
};

class sender_key_sender {
 public:
  [[nodiscard]] static std::optional<sender_key_sender> create(std::string room, std::uint32_t epoch = 0);
  // Known-answer tests: the chain key and the signing key's seed given.
  [[nodiscard]] static std::optional<sender_key_sender> create_for_testing(std::string room, std::uint32_t epoch,
                                                                           secret_key chain_key, secret_bytes seed);

  // The distribution of the chain as it stands: a receiver made from it opens the messages from
  // the next one on, none before (a joiner reads nothing old). Wipe the bytes after sealing them.
  [[nodiscard]] bytes distribution() const;
  [[nodiscard]] std::optional<bytes> seal(std::span<const std::uint8_t> plaintext);
  [[nodiscard]] std::optional<bytes> seal_with_nonce_for_testing(std::span<const std::uint8_t> plaintext,
                                                                 const aead_nonce& nonce);
  // Epoch + 1, a fresh chain and signing key; the old ones are wiped.
  void rotate();

  [[nodiscard]] const std::string& room() const { return room_; }
  [[nodiscard]] std::uint32_t epoch() const { return epoch_; }
  [[nodiscard]] const sender_key_id& key_id() const { return key_id_; }
  [[nodiscard]] const ed25519_public_key& signing_key() const { return signing_public_; }
  // Borrowed, may be null: told every message key this sender seals with (kept across rotate()).
  void observe_keys(message_key_observer* observer) { observer_ = observer; }

 private:
  sender_key_sender(std::string room, std::uint32_t epoch, secret_key chain_key, const secret_bytes& seed);

  std::string room_;
  std::uint32_t epoch_;
  chain_key chain_;
  signing_secret signing_secret_;
  ed25519_public_key signing_public_;
  sender_key_id key_id_{};
  message_key_observer* observer_ = nullptr;
};

class sender_key_receiver {
 public:
  struct opened {
    receive_status status = receive_status::bad_format;
    std::uint32_t n = 0;
    bytes plaintext;  // only when status is ok
  };

  // nullopt if the bytes are not a distribution.
  [[nodiscard]] static std::optional<sender_key_receiver> from_distribution(std::span<const std::uint8_t> in);
  // A later distribution from the same sender (received over the pairwise session with them):
  // a newer epoch replaces the state (ok; the old epoch's keys are wiped); the same or an older
  // epoch is refused (duplicate, old_epoch); another room is wrong_session; bad bytes bad_format.
  [[nodiscard]] receive_status accept_distribution(std::span<const std::uint8_t> in);

  [[nodiscard]] opened open(std::span<const std::uint8_t> message, clock::time_point now);

  [[nodiscard]] const std::string& room() const { return room_; }
  [[nodiscard]] std::uint32_t epoch() const { return epoch_; }
  [[nodiscard]] const sender_key_id& key_id() const { return key_id_; }
  [[nodiscard]] std::vector<std::uint32_t> outstanding() const { return chain_.outstanding(); }
  void expire(clock::time_point now, clock::duration max_age) { chain_.expire(now, max_age); }
  // Given up indices; after a rotation, those of the previous epoch that never came as well.
  [[nodiscard]] std::vector<std::uint32_t> take_lost();
  // Borrowed, may be null: told every message key this receiver opens with (kept across
  // accept_distribution()).
  void observe_keys(message_key_observer* observer) { observer_ = observer; }

 private:
  explicit sender_key_receiver(distribution d);

  std::string room_;
  std::uint32_t epoch_;
  ed25519_public_key signing_key_;
  sender_key_id key_id_;
  receive_chain chain_;
  std::vector<std::uint32_t> lost_before_rotation_;
  message_key_observer* observer_ = nullptr;
};

}  // namespace natter::crypto::e2e
