#pragma once
// The say/whisper lines we send, from the echo to the server's answer (pure), for the
// conversation: each is shown pending where the UI echoes what it sends, checked against the
// server's frame limit, paced to its rate (send_pacer), matched to the ack or error that answers
// it (sent_requests) and marked sent or failed. What to show and send goes to the outbox.
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "natter/client/conversation_output.hpp"
#include "natter/client/send_pacer.hpp"
#include "natter/client/sent_requests.hpp"
#include "natter/clock.hpp"
#include "natter/messages.hpp"

namespace natter::client {

class outgoing_lines {
 public:
  // `echo`: show what we send (the full screen). `steady` paces.
  outgoing_lines(bool echo, ms_clock steady);

  // The server's rate and frame limit, from welcome.
  void follow(const welcome_event& welcome);
  // Shows a line we are about to send, pending, written by `from`; returns its id (0: not
  // shown, this UI does not echo).
  std::uint64_t show(shown_kind kind, std::string text, const std::string& from, outbox& out);
  // Sends a say/whisper now, or holds it for the server's rate. Returns false (and marks or
  // reports it) if it cannot be sent at all.
  [[nodiscard]] bool send(client_message request, std::uint64_t line_id, outbox& out,
                          room_route route = room_route::end_to_end);
  // Sends held requests as the rate allows.
  void release(outbox& out);
  // The UI is about to hand these actions to the session, in this order.
  void handed_over(const std::vector<conversation_action>& actions);
  // A message from the server: an ack marks its line sent. Returns true for an error that
  // refused one of our say/whisper lines, now marked failed or named (the caller shows other
  // errors itself).
  bool on_answer(const server_message& message, outbox& out);
  // The connection is gone: what still waits is marked failed.
  void on_closed(outbox& out);
  // The say/whisper requests acknowledged since the last call, oldest first (the chat log
  // keeps our own lines once the server took them). Call it after each on_answer.
  [[nodiscard]] std::vector<sent_request> take_acknowledged() { return std::exchange(acknowledged_, {}); }

  // Nothing waits for the rate.
  [[nodiscard]] bool idle() const { return pacer_.idle(); }
  // Requests handed to the session and not answered yet (as handed_over() recorded them).
  [[nodiscard]] std::size_t awaiting_answer() const { return sent_.waiting(); }

 private:
  bool echo_;
  send_pacer pacer_;
  sent_requests sent_;
  std::uint64_t next_line_id_ = 1;
  std::size_t max_frame_ = 0;  // the server's (0: not known yet)
  std::vector<sent_request> acknowledged_;  // until take_acknowledged()
};

}  // namespace natter::client
