#pragma once
// The y/N questions a conversation asks, and the one way their answers are read (pure).
// Only one question waits at a time; the next line the user enters answers it, if it is an
// answer at all (see conversation::on_line for a line that is not).
#include <cstddef>
#include <string>
#include <string_view>

namespace natter::client {

enum class question_kind {
  trust_server,   // an unknown server key: go on and pin it?
  verify_server,  // /verify: mark the server's key verified?
  verify_user,    // /verify NAME: mark NAME's key verified?
  send_paste,     // several lines were pasted: send them all? (as irssi asks)
};

struct question {
  question_kind kind = question_kind::trust_server;
  std::string name;         // verify_user: whose key
  std::string fingerprint;  // the key asked about, as shown
  std::size_t lines = 0;    // send_paste: how many
  std::string key = {};     // verify_server, verify_user: that key in full (64 hex), as stored
};

enum class reply {
  yes,            // "y" or "yes" in the usual capitalisations
  no,             // "n" or "no" likewise, or an empty line: no is the default (the N of y/N),
                  // since the questions are about trusting keys and no is the safe answer
  not_an_answer,  // anything else ("hello"): the person was not answering
};

[[nodiscard]] reply read_reply(std::string_view line);

// The question as shown where the answer is typed, e.g. "Trust this server? [y/N] ".
[[nodiscard]] std::string prompt_text(const question& asked);

}  // namespace natter::client
