#pragma once
// Turning a decrypted frame plaintext (untrusted UTF-8 JSON) into messages. Never throws on bad
// input: every problem becomes a message_error the caller can send back.
#include <string_view>
#include <variant>
#include <vector>

#include "natter/messages.hpp"

namespace natter {

struct text_limits {
  std::size_t max_text;
};

using parsed_client_item = std::variant<client_message, message_error>;
using parsed_server_item = std::variant<server_message, message_error>;

// Parses a frame's plaintext: one message object or a batch array of them (at most
// limits::max_batch). Each element yields either a validated message or the error to answer it
// with, in order. A plaintext that is not JSON at all yields a single bad_json error.
[[nodiscard]] std::vector<parsed_client_item> parse_client_frame(std::string_view plaintext,
                                                                 text_limits limits);

// The client's side: parses what a server sent. Unknown message types are reported as
// unknown_type errors (a newer server); the caller decides whether to show them.
[[nodiscard]] std::vector<parsed_server_item> parse_server_frame(std::string_view plaintext);

// True if the JSON text nests no deeper than `max_depth` arrays/objects. Checked before parsing
// so that a hostile frame of 60 000 '[' costs a linear scan, not a deep tree.
[[nodiscard]] bool json_depth_within(std::string_view json_text, int max_depth);

}  // namespace natter
