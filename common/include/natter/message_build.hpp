#pragma once
// Serialising messages to the JSON text that goes into a sealed frame. Inputs must already be
// valid (names and texts validated, UTF-8 checked): these functions are called with data that
// passed message_parse or was made by natter itself. Even so, serialisation replaces invalid
// UTF-8 instead of throwing, so a bug here cannot take the server down.
#include <span>
#include <string>
#include <string_view>

#include "natter/messages.hpp"

namespace natter {

// client -> server
[[nodiscard]] std::string build(const client_message& message);

// server -> client
[[nodiscard]] std::string build(const server_message& message);

namespace detail {
// build(server_message) through nlohmann's DOM, for every type. build() itself writes the hot
// types (chat_event, ack_event, presence_event, welcome_event: fast_write in
// common/src/message_schema.hpp) by hand, byte for byte the same; this is the reference the tests
// compare it against, and its fallback for invalid UTF-8.
[[nodiscard]] std::string build_with_json(const server_message& message);
}  // namespace detail

// Joins already-serialised messages into one batch plaintext: "[m1,m2,...]". A single message is
// returned as is (a batch of one is just the object).
[[nodiscard]] std::string build_batch(std::span<const std::string_view> messages);

}  // namespace natter
