#pragma once
// The y/N questions a conversation asks, and the one way their answers are read (pure).
// Only one question waits at a time; the next line the user enters answers it.
#include <string>
#include <string_view>

namespace natter::client {

enum class question_kind {
  trust_server,   // an unknown server key: go on and pin it?
  verify_server,  // /verify: mark the server's key verified?
  verify_user,    // /verify NAME: mark NAME's key verified?
};

struct question {
  question_kind kind = question_kind::trust_server;
  std::string name;         // verify_user: whose key
  std::string fingerprint;  // the key asked about
};

// True for "y" or "yes" in the usual capitalisations; anything else (an empty line too) is no,
// since every question is about trusting a key and no is the safe default.
[[nodiscard]] bool is_yes(std::string_view answer);

// The question as shown where the answer is typed, e.g. "Trust this server? [y/N] ".
[[nodiscard]] std::string prompt_text(const question& asked);

}  // namespace natter::client
