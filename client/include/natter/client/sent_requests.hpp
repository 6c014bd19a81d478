#pragma once
// Which of our requests each answer from the server is for (pure), so that a line shown as
// "sending" can be marked sent on its ack, or failed with the reason of the error naming it.
//
// Matched by order, not by ref: the session numbers requests itself and keeps the numbers
// (client_session::send returns the ref, client_driver drops it), and the server answers one
// connection's requests in the order it received them, each say/whisper with an ack or an error,
// each users/whois with its answer or an error. Requests are recorded here in the order the UI
// hands them to the session (conversation::take_actions), so the oldest waiting request is the
// one the next answer is for. The session's own pings are answered with pong, which never
// counts. The one request the session drops without an answer, one too large for the server's
// frame, the conversation refuses before it gets there. If the protocol layer one day reports
// each request's ref, match on that instead.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "natter/client/client_events.hpp"
#include "natter/messages.hpp"

namespace natter::client {

// More requests than this waiting for answers means the server stopped answering; the oldest
// record is then dropped (its line stays "sending") rather than memory growing.
inline constexpr std::size_t max_requests_awaiting_answer = 8192;

enum class request_kind { chat, users, whois };

struct sent_request {
  request_kind kind = request_kind::chat;
  std::uint64_t line_id = 0;  // the echoed line to mark; 0: none was shown (line mode)
  std::string summary;        // what was sent, to name it in an error ("-> *bob* hi")
  bool whisper = false;       // chat: a whisper (summary "-> *bob* hi"), else a broadcast (summary its text)
  std::string to = {};        // a whisper's recipient, as typed (printable): "bob is away"
  room_route route = room_route::end_to_end;  // a broadcast: how it went
  bool action = false;                        // a broadcast: /me (summary is the action's text)
};

class sent_requests {
 public:
  // A request handed to the session; ignored unless the server answers it with a ref.
  void sent(const client_message& message, std::uint64_t line_id, room_route route = room_route::end_to_end);
  // The request `message` answers, if it is an answer (ack, error with a ref, users, whois).
  [[nodiscard]] std::optional<sent_request> on_answer(const server_message& message);
  // The connection is gone: every request still waiting, oldest first.
  [[nodiscard]] std::vector<sent_request> take_unanswered();

  [[nodiscard]] std::size_t waiting() const { return waiting_.size(); }

 private:
  // The oldest waiting request of `kind`; older ones of other kinds lost their answer.
  std::optional<sent_request> take_oldest(std::optional<request_kind> kind);

  std::deque<sent_request> waiting_;
};

}  // namespace natter::client
