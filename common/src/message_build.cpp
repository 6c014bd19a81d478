// Messages to JSON text: the one seam that picks a writer. Hot messages (schema: fast_write)
// are written by hand, which paid where nlohmann's DOM cost more than a third of what sealing a
// message for 50 recipients costs; a string that is not valid UTF-8 sends them back to the DOM,
// whose error handler replaces it. Every other message goes through the DOM. Both writers walk
// the same schema (message_schema.hpp) and give the same bytes (message_build_fast_test.cpp).
#include "natter/message_build.hpp"

#include <variant>

#include "schema_write.hpp"

namespace natter {

namespace {

template <typename M>
std::string write(const M& message) {
  if constexpr (schema::writes_fast<M>()) {
    if (auto fast = schema::write_fast(message)) return std::move(*fast);
  }
  return schema::write_dom(message);
}

}  // namespace

std::string build(const client_message& message) {
  return std::visit([](const auto& m) { return write(m); }, message);
}

std::string build(const server_message& message) {
  return std::visit([](const auto& m) { return write(m); }, message);
}

std::string detail::build_with_json(const server_message& message) {
  return std::visit([](const auto& m) { return schema::write_dom(m); }, message);
}

std::string build_batch(std::span<const std::string_view> messages) {
  if (messages.size() == 1) return std::string(messages.front());
  std::size_t total = 2;
  for (const auto m : messages) total += m.size() + 1;
  std::string out;
  out.reserve(total);
  out += '[';
  for (std::size_t i = 0; i < messages.size(); ++i) {
    if (i) out += ',';
    out += messages[i];
  }
  out += ']';
  return out;
}

}  // namespace natter
