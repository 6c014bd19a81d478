// Frames to messages: one entry point per direction, which picks the reader. A client frame
// that the flat scanner reads (one object of scalar members: nearly every request) skips
// nlohmann's DOM; anything else, batches and every refusal of bad JSON included, goes through
// the DOM. Both feed the same schema reader (schema_read.hpp), so they accept and refuse alike.
#include "natter/message_parse.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <utility>

#include "flat_object.hpp"
#include "natter/limits.hpp"
#include "natter/text.hpp"
#include "schema_read.hpp"

namespace natter {

using json = nlohmann::json;
using schema::make_error;

bool json_depth_within(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (const char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return true;
}

namespace {

// `ref` belongs to the envelope: it is checked before the type, for every message, so that any
// refusal (an unknown type included) can echo it. A present but invalid ref is an error of its
// own, which cannot echo it.
template <typename Json>
std::optional<message_error> read_ref(const Json& object, request_ref& ref) {
  const auto it = object.find("ref");
  if (it == object.end() || it->is_null()) return std::nullopt;
  constexpr std::uint64_t max_ref = (std::uint64_t{1} << 53) - 1;  // exact in every JSON reader
  if (!it->is_number_unsigned() || it->template get<std::uint64_t>() > max_ref) {
    return message_error{std::string(errc::bad_message),
                         "member \"ref\" must be an integer from 0 to 2^53-1", std::nullopt};
  }
  ref = it->template get<std::uint64_t>();
  return std::nullopt;
}

// One message object: the envelope (ref, type), then the message's schema.
template <typename Message, typename Json>
std::variant<Message, message_error> parse_object(const Json& object, std::size_t max_text) {
  if (!object.is_object()) return make_error(errc::bad_json, "a message must be a JSON object", {});
  schema::read_context context;
  context.max_text = max_text;
  if (auto bad = read_ref(object, context.ref)) return *bad;
  const auto type_it = object.find("type");
  if (type_it == object.end() || !type_it->is_string()) {
    return make_error(errc::bad_message, "member \"type\" must be a string", context.ref);
  }
  const std::string type = type_it->template get<std::string>();
  if (auto item = schema::read_by_type<Message>(type, object, context)) return std::move(*item);
  return make_error(errc::unknown_type, "unknown message type \"" + printable(type.substr(0, 32)) + "\"",
                    context.ref);
}

// Through nlohmann's DOM: depth check, parse without exceptions, object or batch.
template <typename Message>
std::vector<std::variant<Message, message_error>> parse_with_dom(std::string_view plaintext,
                                                                 std::size_t max_text) {
  std::vector<std::variant<Message, message_error>> items;
  // The scanner gives up on anything nested, so only this path needs the depth check: a hostile
  // frame of 60 000 '[' costs a linear scan, not a deep tree.
  if (!json_depth_within(plaintext, limits::max_json_depth)) {
    items.emplace_back(make_error(errc::bad_json, "JSON nested too deeply", {}));
    return items;
  }
  // nlohmann's parser rejects ill-formed UTF-8 inside strings, so every string that comes out of
  // here is valid UTF-8 and safe to serialise again.
  const json parsed = json::parse(plaintext, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    items.emplace_back(make_error(errc::bad_json, "frame is not valid UTF-8 JSON", {}));
    return items;
  }
  if (!parsed.is_array()) {
    items.push_back(parse_object<Message>(parsed, max_text));
    return items;
  }
  if (parsed.empty()) {
    items.emplace_back(make_error(errc::bad_json, "empty batch", {}));
  } else if (parsed.size() > limits::max_batch) {
    items.emplace_back(make_error(errc::too_many_batched,
                                  "a batch holds at most " + std::to_string(limits::max_batch) + " messages",
                                  {}));
  } else {
    for (const auto& element : parsed) items.push_back(parse_object<Message>(element, max_text));
  }
  return items;
}

}  // namespace

std::vector<parsed_client_item> parse_client_frame(std::string_view plaintext, text_limits limits) {
  // Anything the scanner does not take, a syntax error included, is parsed again by the DOM and
  // refused (or accepted) there.
  detail::flat_object object;
  if (detail::scan_flat_object(plaintext, object)) {
    std::vector<parsed_client_item> items;
    items.push_back(parse_object<client_message>(object, limits.max_text));
    return items;
  }
  return parse_with_dom<client_message>(plaintext, limits.max_text);
}

// Clients read a few frames a second: no fast path.
std::vector<parsed_server_item> parse_server_frame(std::string_view plaintext) {
  return parse_with_dom<server_message>(plaintext, limits::max_text);
}

}  // namespace natter
