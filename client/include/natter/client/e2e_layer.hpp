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
// The directory (room_directory): a welcome that lists fewer users than it counts makes the
// session page `users`; every entry goes through the pins like the welcome's, and texts wait
// (in order, whispers too, so answers still match) until the last page, or directory_timeout.
// In an open room (more members than e2e_settings::room_limit) the conversation routes room
// texts in_the_clear: they leave as plain say requests, in order with the end-to-end bodies.
// Whispers are end to end in any room; e2e room bodies from members are still opened.
//
// Failure contract: nothing here throws on server or peer input; a pin file that cannot be
// saved is reported by save_pins' caller. A directory entry with a malformed key is a warning.
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "natter/client/client_events.hpp"
#include "natter/client/e2e_engine.hpp"
#include "natter/client/peer_pins.hpp"
#include "natter/client/room_directory.hpp"
#include "natter/crypto/identity_v2.hpp"
#include "natter/messages.hpp"

namespace natter::client {

// The peers file is saved at most this often for pins alone (a join storm would otherwise rewrite
// it once per joiner); what is pinned meanwhile is saved at the next tick, or before it is used.
// Short, so that peers joining one by one are saved as they come, off the path of their first
// handshake (which a save before use would delay by its two fsyncs); a storm is still batched.
inline constexpr std::chrono::milliseconds pins_save_interval{250};

struct e2e_settings {
  bool enabled = false;     // say/whisper go end to end (the program: always; tests of the plain path: off)
  std::string server;       // "host:port" as in known_hosts: whose directory the pins are for
  peer_pins* pins = nullptr;  // borrowed; null: pins kept for this connection only
  std::function<void(const peer_pins&)> save_pins;  // after a pin was added or accepted
  bool accept_key_changes = false;                  // --accept-peer-key-changes (dangerous)
  std::function<e2e_clock::time_point()> now = [] { return e2e_clock::now(); };
  crypto::e2e::message_key_observer* keylog = nullptr;  // borrowed, may be null (--e2e-keylog)
  bool trace = false;  // --trace: describe every end-to-end body sent and received (its header)
  std::size_t room_limit = max_e2e_room_members;  // more members: an open room (--e2e-room-limit)
  bool require_e2e = false;  // --require-e2e: a room text routed in_the_clear is refused, not sent
};

// A request for the session to submit, in the order given: an end-to-end body, or (an open
// room's text) a plain say. `tag`: the ref of the say/whisper it carries.
struct layer_send {
  std::variant<e2e_request, say_request> request;
  std::optional<std::uint64_t> tag;
};


class e2e_layer {
 public:
  struct output {
    std::vector<layer_send> send;
    std::vector<client_event> events;
    std::vector<e2e_dropped> dropped;  // texts that will not be sent (tag = ref)
  };

  // `own` is borrowed and must outlive the layer.
  e2e_layer(const crypto::identity_v2& own, e2e_settings settings);
  ~e2e_layer();  // wipes the texts still held; saves pins not yet saved
  e2e_layer(const e2e_layer&) = delete;
  e2e_layer& operator=(const e2e_layer&) = delete;

  [[nodiscard]] bool enabled() const { return settings_.enabled; }
  // Joined: the engine starts, with the welcome's directory.
  void on_welcome(const welcome_event& welcome, const crypto::public_key& server_key, output& out);
  // The welcome listed fewer users than it counted: the session asks `users` and hands every
  // page of the answer to on_directory_page (the last with more = false).
  [[nodiscard]] bool wants_directory() const { return engine_ && !directory_.is_complete(); }
  void on_directory_page(const users_event& page, output& out);
  // The server refused our `users` request: go on with the members known (a warning).
  void on_directory_refused(output& out);
  [[nodiscard]] const room_directory& directory() const { return directory_; }
  // Any other server message. True if it was the layer's alone (an e2e event; a chat event,
  // which comes back as a not_end_to_end e2e_shown_event): the session does not forward it.
  [[nodiscard]] bool on_message(const server_message& message, output& out);
  // A say or whisper with its ref; false if it is neither. A say routed in_the_clear goes as a
  // plain say (refused with require_e2e_refusal under --require-e2e).
  bool send_text(const client_message& text, std::uint64_t ref, room_route route, output& out);
  // The server refused a handshake or key body (`kind`) to `to` with error `code`
  // (e2e_engine::on_refused: rate_limited is tried again, unknown_user is warned about).
  void on_control_refused(const std::string& to, std::string_view kind, std::string_view code, output& out);
  void run(const e2e_user_command& cmd, output& out);
  void tick(output& out);

 private:
  // True if the key was pinned just now (first sight).
  bool saw_key(const std::string& name, const std::string& key_hex, bool announce, output& out);
  void drain(e2e_output& from, output& out);
  // Hands held texts on, in order, as far as they can go now (see held_text).
  void release_held(output& out);
  void directory_done(output& out);
  void report_room_change(output& out);
  void notice(output& out, std::string text);
  void warning(output& out, std::string text);
  void trace(output& out, bool outgoing, const std::string& peer, const std::string& kind, const std::string& body);
  peer_pins& pins() { return settings_.pins ? *settings_.pins : own_pins_; }
  // The peers file is written once per batch of pins, not once per pin (a join storm would
  // rewrite it for every joiner): a pin marks it dirty, and it is saved at the end of the call
  // into the layer if that call relies on a key not yet saved (see settle_pins) or the last save
  // is pins_save_interval old, else at the next tick (e2e_tick_interval, 1 s), and when the
  // layer is destroyed.
  void save_pins_now();
  void settle_pins(const output& out);

  const crypto::identity_v2& own_;
  e2e_settings settings_;
  peer_pins own_pins_;
  std::optional<e2e_engine> engine_;
  std::string own_name_;
  std::map<std::string, crypto::ed25519_public_key> changed_;  // folded name -> the key not yet accepted
  room_directory directory_;
  bool pins_dirty_ = false;  // pins() holds a pin (or an accepted key) the file does not yet
  std::optional<e2e_clock::time_point> pins_saved_at_;
  std::size_t pinned_while_paging_ = 0;  // first-sight pins from the pages: one notice at the end
  // Texts not yet handed to the engine: all of them while the directory is incomplete, and a
  // plain say until every earlier text has left the engine (the server answers in order, and
  // the conversation matches answers to its lines by that order). At most max_waiting_texts
  // with the engine's.
  struct held_text {
    std::uint64_t ref = 0;
    client_message text;
    bool in_the_clear = false;
  };
  std::deque<held_text> held_;
};

}  // namespace natter::client
