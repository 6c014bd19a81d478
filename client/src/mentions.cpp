#include "natter/client/mentions.hpp"

#include <string>

#include "natter/text.hpp"

namespace natter::client {

namespace {

// The characters a name is made of (PROTOCOL.md: A-Z a-z 0-9 _ . -): a mention must not be
// part of a longer word.
bool name_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
}

}  // namespace

bool mentions_name(std::string_view text, std::string_view name) {
  if (name.empty()) return false;
  // fold_name lowercases ASCII letters only, byte for byte, so positions in the folded text
  // are positions in `text` (UTF-8 bytes above 0x7F are left alone and never match a name).
  const std::string folded_text = fold_name(text);
  const std::string folded_name = fold_name(name);
  for (std::size_t at = folded_text.find(folded_name); at != std::string::npos;
       at = folded_text.find(folded_name, at + 1)) {
    const std::size_t end = at + folded_name.size();
    // A '.' after the name ends a sentence ("thanks alice."), so only letters, digits, _ and -
    // make it part of a longer word.
    if ((at == 0 || !name_char(text[at - 1])) && (end == text.size() || !name_char(text[end]))) return true;
  }
  return false;
}

}  // namespace natter::client
