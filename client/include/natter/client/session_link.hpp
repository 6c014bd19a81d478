#pragma once
// What a front end asks of the connection: client_driver in the program, a recording fake in
// tests. Calls may be made from the UI thread; client_driver posts them to its I/O thread.
#include <cstddef>
#include <string>

#include "natter/client/client_events.hpp"
#include "natter/messages.hpp"

namespace natter::client {

class session_link {
 public:
  virtual ~session_link() = default;

  // Sends a request; one that cannot be sent comes back as a notice_event. `route`: how a say
  // goes (client_session::send), as the conversation labelled it.
  virtual void submit(client_message message, room_route route) = 0;
  // /accept NAME, /verify NAME's safety number: answered with e2e_shown_events. (A default, so
  // links that carry no end-to-end layer need not care.)
  virtual void e2e_command(e2e_user_command) {}
  // The user's answer to a trust_request_event.
  virtual void answer_trust(bool trusted) = 0;
  // Sends quit once every say/whisper is acknowledged or refused, then waits for the server.
  virtual void quit_when_acknowledged(std::string reason) = 0;

  // say/whisper requests neither acknowledged nor refused yet.
  [[nodiscard]] virtual std::size_t unacknowledged() const = 0;
  // say/whisper requests refused by the server, or too large to send.
  [[nodiscard]] virtual std::size_t refused() const = 0;
};

}  // namespace natter::client
