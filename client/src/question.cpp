#include "natter/client/question.hpp"

#include "natter/text.hpp"

namespace natter::client {

bool is_yes(std::string_view answer) {
  return answer == "y" || answer == "Y" || answer == "yes" || answer == "Yes" || answer == "YES";
}

std::string prompt_text(const question& asked) {
  switch (asked.kind) {
    case question_kind::trust_server: return "Trust this server? [y/N] ";
    case question_kind::verify_server: return "Mark the server's key as verified? [y/N] ";
    case question_kind::verify_user: return "Mark " + printable(asked.name) + "'s key as verified? [y/N] ";
  }
  return "[y/N] ";
}

}  // namespace natter::client
