#include "natter/crypto/e2e_sender_key.hpp"

#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace natter::crypto::e2e {

static_assert(signing_secret_size == crypto_sign_SECRETKEYBYTES);

namespace {

constexpr std::string_view key_id_label = "natter/e2e sender key id 1";

bool valid_room(const std::string& room) { return !room.empty() && room.size() <= max_room_size; }

}  // namespace

sender_key_id sender_key_id_of(const ed25519_public_key& signing_key) {
  std::array<std::uint8_t, crypto_generichash_BYTES_MIN> digest{};
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, digest.size());
  crypto_generichash_update(&state, reinterpret_cast<const std::uint8_t*>(key_id_label.data()), key_id_label.size());
  crypto_generichash_update(&state, signing_key.bytes.data(), signing_key.bytes.size());
  crypto_generichash_final(&state, digest.data(), digest.size());
  sender_key_id id{};
  std::copy_n(digest.begin(), id.size(), id.begin());
  return id;
}

signing_secret::~signing_secret() { sodium_memzero(bytes_.data(), bytes_.size()); }
signing_secret::signing_secret(signing_secret&& other) noexcept : bytes_(other.bytes_) {
  sodium_memzero(other.bytes_.data(), other.bytes_.size());
}
signing_secret& signing_secret::operator=(signing_secret&& other) noexcept {
  if (this != &other) {
    bytes_ = other.bytes_;
    sodium_memzero(other.bytes_.data(), other.bytes_.size());
  }
  return *this;
}

// ---- sender --------------------------------------------------------------------------------

sender_key_sender::sender_key_sender(std::string room, std::uint32_t epoch, secret_key chain_key, const secret_bytes& seed)
    : room_(std::move(room)), epoch_(epoch), chain_(std::move(chain_key), 0, chain_kind::sender_key) {
  if (crypto_sign_seed_keypair(signing_public_.bytes.data(), signing_secret_.data(), seed.data()) != 0) {
    throw std::runtime_error("cannot derive an Ed25519 key pair");  // libsodium never fails here
  }
  key_id_ = sender_key_id_of(signing_public_);
}

std::optional<sender_key_sender> sender_key_sender::create(std::string room, std::uint32_t epoch) {
  secret_key chain_key;
  random_bytes(std::span(chain_key.data(), chain_key.size()));
  secret_bytes seed;
  random_bytes(std::span(seed.data(), seed.size()));
  return create_for_testing(std::move(room), epoch, std::move(chain_key), std::move(seed));
}

std::optional<sender_key_sender> sender_key_sender::create_for_testing(std::string room, std::uint32_t epoch,
                                                                       secret_key chain_key, secret_bytes seed) {
  if (!valid_room(room)) return std::nullopt;
  return sender_key_sender(std::move(room), epoch, std::move(chain_key), seed);
}

bytes sender_key_sender::distribution() const {
  e2e::distribution d;
  d.room = room_;
  d.epoch = epoch_;
  d.chain_key = copy_of(chain_.key());
  d.iteration = chain_.index();
  d.signing_key = signing_public_;
  return *write_distribution(d);  // the room was checked by create()
}

std::optional<bytes> sender_key_sender::seal(std::span<const std::uint8_t> plaintext) {
  return seal_with_nonce_for_testing(plaintext, random_nonce());
}

std::optional<bytes> sender_key_sender::seal_with_nonce_for_testing(std::span<const std::uint8_t> plaintext,
                                                                    const aead_nonce& nonce) {
  if (plaintext.size() > max_plaintext_size) return std::nullopt;
  auto mk = chain_.step();
  if (!mk) return std::nullopt;
  if (observer_) observer_->on_message_key({chain_kind::sender_key, key_id_, mk->n, {}, {}}, mk->key);
  bytes message = *write_room_header({room_, epoch_, key_id_, mk->n});
  const auto sealed = e2e::seal(mk->key, nonce, message, plaintext);
  if (!sealed) return std::nullopt;  // unreachable: the size was checked
  message.insert(message.end(), nonce.begin(), nonce.end());
  message.insert(message.end(), sealed->begin(), sealed->end());
  signature sig{};
  crypto_sign_detached(sig.data(), nullptr, message.data(), message.size(), signing_secret_.data());
  message.insert(message.end(), sig.begin(), sig.end());
  return message;
}

void sender_key_sender::rotate() {
  auto next = create(room_, epoch_ + 1);  // the room was valid before, so it is now
  auto* observer = observer_;
  *this = std::move(*next);               // the old chain key and signing secret are wiped
  observer_ = observer;
}

// ---- receiver ------------------------------------------------------------------------------

sender_key_receiver::sender_key_receiver(distribution d)
    : room_(std::move(d.room)),
      epoch_(d.epoch),
      signing_key_(d.signing_key),
      key_id_(sender_key_id_of(d.signing_key)),
      chain_(chain_key(std::move(d.chain_key), d.iteration, chain_kind::sender_key)) {}

std::optional<sender_key_receiver> sender_key_receiver::from_distribution(std::span<const std::uint8_t> in) {
  auto d = parse_distribution(in);
  if (!d) return std::nullopt;
  return sender_key_receiver(std::move(*d));
}

receive_status sender_key_receiver::accept_distribution(std::span<const std::uint8_t> in) {
  auto d = parse_distribution(in);
  if (!d) return receive_status::bad_format;
  if (d->room != room_) return receive_status::wrong_session;
  if (d->epoch == epoch_) return receive_status::duplicate;
  if (d->epoch < epoch_) return receive_status::old_epoch;
  // Whatever the old epoch still awaited will not come now: report it as lost.
  auto lost = chain_.take_lost();
  const auto waiting = chain_.outstanding();
  lost.insert(lost.end(), waiting.begin(), waiting.end());
  std::sort(lost.begin(), lost.end());
  auto pending = std::move(lost_before_rotation_);
  pending.insert(pending.end(), lost.begin(), lost.end());
  auto* observer = observer_;
  *this = sender_key_receiver(std::move(*d));  // the old chain and skipped keys are wiped
  lost_before_rotation_ = std::move(pending);
  observer_ = observer;
  return receive_status::ok;
}

std::vector<std::uint32_t> sender_key_receiver::take_lost() {
  auto out = std::move(lost_before_rotation_);
  lost_before_rotation_.clear();
  const auto now_lost = chain_.take_lost();
  out.insert(out.end(), now_lost.begin(), now_lost.end());
  return out;
}

sender_key_receiver::opened sender_key_receiver::open(std::span<const std::uint8_t> message, clock::time_point now) {
  opened out;
  const auto view = parse_room_message(message);
  if (!view) return out;  // bad_format
  out.n = view->header.n;
  if (view->header.room != room_) {
    out.status = receive_status::wrong_session;
    return out;
  }
  if (view->header.epoch < epoch_) {
    out.status = receive_status::old_epoch;
    return out;
  }
  if (view->header.epoch > epoch_) {
    out.status = receive_status::unknown_epoch;
    return out;
  }
  if (view->header.key_id != key_id_) {
    out.status = receive_status::wrong_session;
    return out;
  }
  // The signature before the chain: a message that is not the sender's derives no keys.
  if (!verify(signing_key_, view->signed_bytes, view->sig)) {
    out.status = receive_status::bad_signature;
    return out;
  }
  std::optional<bytes> plaintext;
  out.status = chain_.receive(view->header.n, now, [&](const secret_key& mk) {
    plaintext = e2e::open(mk, view->nonce, view->header_bytes, view->ciphertext);
    if (plaintext && observer_) {
      observer_->on_message_key({chain_kind::sender_key, key_id_, view->header.n, {}, {}}, mk);
    }
    return plaintext.has_value();
  });
  if (out.status == receive_status::ok) out.plaintext = std::move(*plaintext);
  return out;
}

}  // namespace natter::crypto::e2e
