#include "natter/client/question.hpp"

#include "natter/text.hpp"

namespace natter::client {

reply read_reply(std::string_view line) {
  if (line == "y" || line == "Y" || line == "yes" || line == "Yes" || line == "YES") return reply::yes;
  if (line.empty() || line == "n" || line == "N" || line == "no" || line == "No" || line == "NO") return reply::no;
  return reply::not_an_answer;
}

std::string prompt_text(const question& asked) {
  switch (asked.kind) {
    case question_kind::trust_server: return "Trust this server? [y/N] ";
    case question_kind::verify_server: return "Mark the server's key as verified? [y/N] ";
    case question_kind::verify_user: return "Mark " + printable(asked.name) + "'s key as verified? [y/N] ";
    case question_kind::send_paste: return "Send " + std::to_string(asked.lines) + " pasted lines? [y/N] ";
  }
  return "[y/N] ";
}

}  // namespace natter::client
