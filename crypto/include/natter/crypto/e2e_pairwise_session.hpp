#pragma once
// A pairwise end-to-end session between two identities v2 (docs/E2E.md §3), set up over the
// server as a relay with Noise_KK_25519_ChaChaPoly_SHA256: both sides know each other's identity
// key from the directory, so both are authenticated by message 1 and 2 and the server, relaying
// opaque bytes, can neither read nor forge them.
//
//   prologue = "natter/e2e pairwise 1\n" ‖ server's Noise static key (32)
//              ‖ for each party, lower Ed25519 key first: name length (u8) ‖ name ‖ Ed25519 key (32)
//
// so a session cannot be moved to another server or to other names. After the handshake,
// session id = the first 8 bytes of BLAKE2b-128("natter/e2e session id 1" ‖ h), and each
// direction is a chain (e2e_chain.hpp, context "natpairw") started from its Split() key.
//
// Simultaneous initiation: if both sides start at once, each receives the other's init while
// its own is pending. The init from the side with the lower Ed25519 key wins: that side ignores
// the other's init and waits for its response; the other side drops its own and responds.
// Both end with the same single session.
//
// Rekey: a new pairwise_setup (a fresh KK run, fresh ephemerals) replaces the session; do it on
// reconnect and once rekey_after_messages have been sent (should_rekey()); the client engine does
// (e2e_engine.hpp, docs/E2E.md §5). This gives forward secrecy per message and post-compromise
// recovery only at the next handshake: someone who steals a chain key reads that direction until
// the rekey (no Double Ratchet).
//
// Failure contract: create() refuses (nullopt) a peer whose Ed25519 key has no X25519 form, the
// own key as peer, or a name empty or over 255 bytes. receive() never throws; see setup_status.
// A session's open() changes nothing unless the body authenticates (receive_chain's contract).
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "natter/crypto/e2e_aead.hpp"
#include "natter/crypto/e2e_chain.hpp"
#include "natter/crypto/e2e_wire.hpp"
#include "natter/crypto/identity_v2.hpp"
#include "natter/crypto/noise_handshake_state.hpp"

namespace natter::crypto::e2e {

inline constexpr std::string_view pairwise_prologue_label = "natter/e2e pairwise 1\n";
inline constexpr std::uint32_t rekey_after_messages = 10'000;

// A user as the directory names them.
struct party {
  std::string name;
  ed25519_public_key key;
};

[[nodiscard]] std::optional<bytes> pairwise_prologue(const public_key& server_static, const party& a, const party& b);

class pairwise_session {
 public:
  struct opened {
    receive_status status = receive_status::bad_format;
    std::uint32_t n = 0;
    bytes plaintext;  // only when status is ok
  };

  [[nodiscard]] const session_id& id() const { return id_; }
  // A body for the peer: header (session id, n) ‖ nonce ‖ AEAD. nullopt if the plaintext is over
  // max_plaintext_size or the sending chain is exhausted.
  [[nodiscard]] std::optional<bytes> seal(std::span<const std::uint8_t> plaintext);
  // The same with a chosen nonce: known-answer tests only.
  [[nodiscard]] std::optional<bytes> seal_with_nonce_for_testing(std::span<const std::uint8_t> plaintext,
                                                                 const aead_nonce& nonce);
  [[nodiscard]] opened open(std::span<const std::uint8_t> body, clock::time_point now);

  // True once `after_messages` bodies have been sealed in this session: the count is of what
  // *we* sent. That suffices for both chains: each is renewed by its own sender, the one whose
  // texts it carries (a peer that never rekeys could leak its texts anyway). The caller may
  // choose a smaller count (tests) or a larger one; the default is the constant above.
  [[nodiscard]] bool should_rekey(std::uint32_t after_messages = rekey_after_messages) const {
    return send_.index() >= after_messages;
  }
  // How many bodies from the peer this session has passed (the next index it expects): lets a
  // caller renew a session whose peer does not (a fallback, see e2e_engine).
  [[nodiscard]] std::uint32_t received_up_to() const { return receive_.next_index(); }
  // Whether the peer has shown it holds this session: always for the initiator (the response
  // authenticated its live ephemeral); for the responder once a first body from the peer has
  // opened. KK message 1 can be replayed by the relay, and a replay gives the responder a
  // session nobody else holds: replace a working session only with a confirmed one.
  [[nodiscard]] bool confirmed() const { return confirmed_; }
  [[nodiscard]] std::vector<std::uint32_t> outstanding() const { return receive_.outstanding(); }
  void expire(clock::time_point now, clock::duration max_age) { receive_.expire(now, max_age); }
  [[nodiscard]] std::vector<std::uint32_t> take_lost() { return receive_.take_lost(); }
  // Borrowed, may be null: told every message key this session seals or opens with.
  void observe_keys(message_key_observer* observer) { observer_ = observer; }

 private:
  friend class pairwise_setup;
  pairwise_session(session_id id, chain_key send, chain_key receive, bool confirmed, std::string own_name,
                   std::string peer_name)
      : id_(id), send_(std::move(send)), receive_(std::move(receive)), confirmed_(confirmed),
        own_name_(std::move(own_name)), peer_name_(std::move(peer_name)) {}

  session_id id_;
  chain_key send_;
  receive_chain receive_;
  bool confirmed_;
  std::string own_name_;   // the prologue's names: the key observer names each body's direction
  std::string peer_name_;
  message_key_observer* observer_ = nullptr;
};

class pairwise_setup {
 public:
  enum class setup_status : std::uint8_t {
    reply,            // send `reply` to the peer; the session is ready (take_session())
    established,      // the peer's response authenticated; the session is ready
    ignored,          // the peer's init lost a simultaneous initiation to ours: drop it
    out_of_turn,      // a message this setup does not expect now (state unchanged)
    bad_message,      // unparsable or unauthenticated init (state unchanged: our own init stands)
    failed,           // our init's response did not authenticate: this setup is dead
  };
  struct result {
    setup_status status;
    std::optional<bytes> reply;
  };

  // `own` is borrowed and must outlive the setup.
  [[nodiscard]] static std::optional<pairwise_setup> create(const identity_v2& own, std::string own_name, party peer,
                                                            const public_key& server_static);

  // Our init (a handshake message, kind init), once; nullopt if we have already started or received.
  [[nodiscard]] std::optional<bytes> start();
  [[nodiscard]] result receive(std::span<const std::uint8_t> message);
  // The session, once, after reply or established.
  [[nodiscard]] std::optional<pairwise_session> take_session();
  // True when our init wins a simultaneous initiation (our Ed25519 key is the lower).
  [[nodiscard]] bool wins_simultaneous() const { return own_.key < peer_.key; }

  // Known-answer tests: the ephemeral the next handshake_state this setup makes will use.
  void set_ephemeral_for_testing(secret_key ephemeral) { test_ephemeral_ = std::move(ephemeral); }

 private:
  enum class phase : std::uint8_t { idle, initiated, ready, done, failed };
  pairwise_setup(const identity_v2& identity, party own, party peer, public_key peer_x25519, bytes prologue)
      : identity_(&identity), own_(std::move(own)), peer_(std::move(peer)), peer_x25519_(peer_x25519),
        prologue_(std::move(prologue)) {}
  void inject_ephemeral(noise::handshake_state& state);
  void finish(noise::handshake_state& state);

  const identity_v2* identity_;
  party own_;
  party peer_;
  public_key peer_x25519_;
  bytes prologue_;
  phase phase_ = phase::idle;
  std::optional<noise::handshake_state> initiator_;
  std::optional<pairwise_session> session_;
  std::optional<secret_key> test_ephemeral_;
};

}  // namespace natter::crypto::e2e
