#pragma once
// Noise SymmetricState (Noise spec rev 34, §5.2) for SHA256 and ChaChaPoly: the chaining key
// ck, the handshake hash h, and a cipher_state.
//
// Failure contract: only encrypt_and_hash() and decrypt_and_hash() can fail; they return
// std::nullopt exactly when the cipher state refuses (nonce exhausted, or the ciphertext does not
// authenticate), and then h is left unchanged. A handshake treats any such failure as final and
// discards the whole state (natter's handshake_state does). ck, k and h are wiped with
// sodium_memzero on destruction, on move and by split().
#include <string_view>

#include "natter/crypto/noise_cipher_state.hpp"
#include "natter/crypto/noise_hkdf.hpp"

namespace natter::crypto::noise {

// The two transport keys Split() derives, and h for channel binding (§11.2). Wiped on
// destruction (secret_key is secret_bytes); h is not a secret, but it costs nothing to wipe.
struct split_keys {
  secret_key initiator_to_responder;  // the first HKDF output: the initiator encrypts with it
  secret_key responder_to_initiator;  // the second
  hash handshake_hash{};

  split_keys() = default;
  ~split_keys();
  split_keys(split_keys&&) noexcept = default;
  split_keys& operator=(split_keys&&) noexcept = default;
};

class symmetric_state {
 public:
  // InitializeSymmetric(protocol_name): h = protocol_name zero-padded to 32 bytes if it fits, else
  // HASH(protocol_name); ck = h; empty k. "Noise_XK_25519_ChaChaPoly_SHA256" is exactly 32 bytes.
  explicit symmetric_state(std::string_view protocol_name);
  ~symmetric_state();
  symmetric_state(symmetric_state&&) noexcept = default;  // secret_bytes wipes the source
  symmetric_state& operator=(symmetric_state&&) noexcept = default;

  // MixKey(ikm): ck, temp_k = HKDF(ck, ikm, 2); k = temp_k, n = 0.
  void mix_key(std::span<const std::uint8_t> input_key_material);
  // MixHash(data): h = HASH(h || data).
  void mix_hash(std::span<const std::uint8_t> data);
  // EncryptAndHash: ciphertext = EncryptWithAd(h, plaintext); MixHash(ciphertext).
  [[nodiscard]] std::optional<bytes> encrypt_and_hash(std::span<const std::uint8_t> plaintext);
  // DecryptAndHash: plaintext = DecryptWithAd(h, ciphertext); MixHash(ciphertext).
  [[nodiscard]] std::optional<bytes> decrypt_and_hash(std::span<const std::uint8_t> ciphertext);
  // Split(): the two HKDF(ck, zerolen, 2) keys and h. Afterwards ck, k and h are wiped and the
  // state must not be used again (its h reads as zeros).
  [[nodiscard]] split_keys split();

  [[nodiscard]] bool has_key() const { return cipher_.has_key(); }
  // GetHandshakeHash() (§5.2): h as it stands now.
  [[nodiscard]] hash handshake_hash() const;

  // Wipes ck, h and k (a failed handshake's last act).
  void wipe();

 private:
  secret_key ck_;
  secret_key h_;  // a hash, not a key: held in secret_bytes for the wipe-on-move
  cipher_state cipher_;
};

}  // namespace natter::crypto::noise
