#pragma once
// Between client_session and e2e_engine (pure): what the directory says goes through the peer
// pins before the engine believes it; say/whisper texts become end-to-end bodies; e2e events
// become what the UI shows (e2e_shown_event); /accept and /verify's safety number are answered.
// The session keeps the refs and the order of the server's answers; this keeps the keys.
//
// Pins (peer_pins): a name's key seen first is pinned (a notice), the pinned key passes, another
// key is a loud warning and the peer is held in the engine (nothing sent to it, nothing from it
// opened) until /accept NAME — or at once with accept_key_changes (--accept-peer-key-changes,
// for unattended bots: it gives up the protection against a server substituting keys).
//
// Failure contract: nothing here throws on server or peer input; a pin file that cannot be
// saved is reported by save_pins' caller. A directory entry with a malformed key is a warning.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "natter/client/client_events.hpp"
#include "natter/client/e2e_engine.hpp"
#include "natter/client/peer_pins.hpp"
#include "natter/crypto/identity_v2.hpp"
#include "natter/messages.hpp"

namespace natter::client {

struct e2e_settings {
  bool enabled = false;     // say/whisper go end to end (the program: always; tests of the plain path: off)
  std::string server;       // "host:port" as in known_hosts: whose directory the pins are for
  peer_pins* pins = nullptr;  // borrowed; null: pins kept for this connection only
  std::function<void(const peer_pins&)> save_pins;  // after a pin was added or accepted
  bool accept_key_changes = false;                  // --accept-peer-key-changes (dangerous)
  std::function<e2e_clock::time_point()> now = [] { return e2e_clock::now(); };
  crypto::e2e::message_key_observer* keylog = nullptr;  // borrowed, may be null (--e2e-keylog)
  bool trace = false;  // --trace: describe every end-to-end body sent and received (its header)
};

class e2e_layer {
 public:
  struct output {
    std::vector<e2e_send> send;  // tag: the ref of the say/whisper it carries
    std::vector<client_event> events;
    std::vector<e2e_dropped> dropped;  // texts that will not be sent (tag = ref)
  };

  // `own` is borrowed and must outlive the layer.
  e2e_layer(const crypto::identity_v2& own, e2e_settings settings);

  [[nodiscard]] bool enabled() const { return settings_.enabled; }
  // Joined: the engine starts, with the welcome's directory.
  void on_welcome(const welcome_event& welcome, const crypto::public_key& server_key, output& out);
  // Any other server message. True if it was the layer's alone (an e2e event; a chat event,
  // which comes back as a not_end_to_end e2e_shown_event): the session does not forward it.
  [[nodiscard]] bool on_message(const server_message& message, output& out);
  // A say or whisper with its ref; false if it is neither.
  bool send_text(const client_message& text, std::uint64_t ref, output& out);
  // The server refused a handshake or key body to `to` (unknown_user).
  void on_control_refused(const std::string& to, output& out);
  void run(const e2e_user_command& cmd, output& out);
  void tick(output& out);

 private:
  // True if the key was pinned just now (first sight).
  bool saw_key(const std::string& name, const std::string& key_hex, bool announce, output& out);
  void drain(e2e_output& from, output& out);
  void notice(output& out, std::string text);
  void warning(output& out, std::string text);
  void trace(output& out, bool outgoing, const std::string& peer, const std::string& kind, const std::string& body);
  peer_pins& pins() { return settings_.pins ? *settings_.pins : own_pins_; }
  void save();

  const crypto::identity_v2& own_;
  e2e_settings settings_;
  peer_pins own_pins_;
  std::optional<e2e_engine> engine_;
  std::string own_name_;
  std::map<std::string, crypto::ed25519_public_key> changed_;  // folded name -> the key not yet accepted
};

}  // namespace natter::client
