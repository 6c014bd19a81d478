#include "natter/client/sent_requests.hpp"

#include <utility>

#include "natter/client/formatter.hpp"
#include "natter/overloaded.hpp"
#include "natter/text.hpp"

namespace natter::client {

void sent_requests::sent(const client_message& message, std::uint64_t line_id, room_route route) {
  std::optional<sent_request> request = std::visit(
      overloaded{
          [&](const say_request& m) -> std::optional<sent_request> {
            return sent_request{request_kind::chat, line_id, printable(m.text), false, {}, route, m.action};
          },
          [&](const whisper_request& m) -> std::optional<sent_request> {
            return sent_request{request_kind::chat, line_id, whisper_out_text(printable(m.to), printable(m.text)), true,
                                printable(m.to)};
          },
          [&](const users_request&) -> std::optional<sent_request> {
            return sent_request{request_kind::users, line_id, "/users"};
          },
          [&](const whois_request& m) -> std::optional<sent_request> {
            return sent_request{request_kind::whois, line_id, "/whois " + printable(m.name)};
          },
          [](const auto&) -> std::optional<sent_request> { return std::nullopt; },  // join, ping, quit, away
      },
      message);
  if (!request) return;
  if (waiting_.size() >= max_requests_awaiting_answer) waiting_.pop_front();
  waiting_.push_back(std::move(*request));
}

std::optional<sent_request> sent_requests::on_answer(const server_message& message) {
  return std::visit(overloaded{
                        [&](const ack_event&) { return take_oldest(request_kind::chat); },
                        [&](const users_event& m) {
                          return m.ref ? take_oldest(request_kind::users) : std::nullopt;
                        },
                        [&](const whois_event& m) {
                          return m.ref ? take_oldest(request_kind::whois) : std::nullopt;
                        },
                        // Any request may be refused; an error without a ref names none.
                        [&](const error_event& m) { return m.ref ? take_oldest(std::nullopt) : std::nullopt; },
                        [](const auto&) -> std::optional<sent_request> { return std::nullopt; },
                    },
                    message);
}

std::optional<sent_request> sent_requests::take_oldest(std::optional<request_kind> kind) {
  while (!waiting_.empty()) {
    sent_request oldest = std::move(waiting_.front());
    waiting_.pop_front();
    if (!kind || oldest.kind == *kind) return oldest;
  }
  return std::nullopt;
}

std::vector<sent_request> sent_requests::take_unanswered() {
  std::vector<sent_request> out(std::make_move_iterator(waiting_.begin()), std::make_move_iterator(waiting_.end()));
  waiting_.clear();
  return out;
}

}  // namespace natter::client
