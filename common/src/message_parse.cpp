#include "natter/message_parse.hpp"

#include <nlohmann/json.hpp>

#include <type_traits>
#include <utility>

#include "flat_object_reader.hpp"
#include "natter/limits.hpp"
#include "natter/text.hpp"

namespace natter {

using json = nlohmann::json;

std::string_view to_string(leave_reason reason) {
  switch (reason) {
    case leave_reason::quit: return "quit";
    case leave_reason::dropped: return "dropped";
    case leave_reason::kicked: return "kicked";
    case leave_reason::timeout: return "timeout";
    case leave_reason::too_slow: return "too_slow";
    case leave_reason::protocol_error: return "protocol_error";
    case leave_reason::server_stopping: return "server_stopping";
  }
  return "dropped";
}

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

using detail::flat_object;
using detail::flat_object_reader;

// Field access that reports instead of throwing. Each getter returns false and fills `error`
// when the member is missing or has the wrong type. `Json` is nlohmann::json or flat_object.
template <typename Json>
class field_reader {
 public:
  field_reader(const Json& object, request_ref ref) : object_(object), ref_(ref) {}

  bool string(const char* key, std::string& out) {
    const auto it = object_.find(key);
    if (it == object_.end() || !it->is_string()) return fail(key, "a string");
    out = it->template get<std::string>();
    return true;
  }
  bool optional_string(const char* key, std::string& out) {
    const auto it = object_.find(key);
    if (it == object_.end() || it->is_null()) return true;
    return string(key, out);
  }
  bool unsigned_int(const char* key, std::uint64_t& out) {
    const auto it = object_.find(key);
    if (it == object_.end() || !it->is_number_unsigned()) return fail(key, "a non-negative integer");
    out = it->template get<std::uint64_t>();
    return true;
  }
  bool signed_int(const char* key, std::int64_t& out) {
    const auto it = object_.find(key);
    if (it == object_.end() || !it->is_number_integer()) return fail(key, "an integer");
    out = it->template get<std::int64_t>();
    return true;
  }
  bool boolean(const char* key, bool& out) {
    const auto it = object_.find(key);
    if (it == object_.end() || !it->is_boolean()) return fail(key, "a boolean");
    out = it->template get<bool>();
    return true;
  }

  message_error error() const { return error_; }

 private:
  bool fail(const char* key, const char* expected) {
    error_ = {std::string(errc::bad_message), std::string("member \"") + key + "\" must be " + expected,
              ref_};
    return false;
  }
  const Json& object_;
  request_ref ref_;
  message_error error_;
};

// `ref` is optional everywhere; a present but invalid ref is an error of its own.
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

message_error make_error(std::string_view code, std::string message, request_ref ref) {
  return {std::string(code), std::move(message), ref};
}

template <typename Json>
parsed_client_item parse_client_object(const Json& object, text_limits limits) {
  if (!object.is_object()) return make_error(errc::bad_json, "a message must be a JSON object", {});
  request_ref ref;
  if (auto bad = read_ref(object, ref)) return *bad;
  const auto type_it = object.find("type");
  if (type_it == object.end() || !type_it->is_string()) {
    return make_error(errc::bad_message, "member \"type\" must be a string", ref);
  }
  const std::string type = type_it->template get<std::string>();
  field_reader<Json> read(object, ref);

  const auto check_name = [&](const std::string& name) -> std::optional<message_error> {
    if (is_valid_name(name)) return std::nullopt;
    return make_error(errc::bad_name, "names are 1-32 characters of A-Z a-z 0-9 _ . -", ref);
  };
  const auto check_text = [&](const std::string& text) -> std::optional<message_error> {
    if (const auto problem = text_problem(text, limits.max_text)) {
      return make_error(errc::bad_text, std::string(*problem) + " (at most " +
                                            std::to_string(limits.max_text) + " bytes of UTF-8)",
                        ref);
    }
    return std::nullopt;
  };

  if (type == "join") {
    join_request m{{}, ref};
    if (!read.string("name", m.name)) return read.error();
    if (auto bad = check_name(m.name)) return *bad;
    return client_message{std::move(m)};
  }
  if (type == "say") {
    say_request m{{}, ref};
    if (!read.string("text", m.text)) return read.error();
    if (auto bad = check_text(m.text)) return *bad;
    return client_message{std::move(m)};
  }
  if (type == "whisper") {
    whisper_request m{{}, {}, ref};
    if (!read.string("to", m.to) || !read.string("text", m.text)) return read.error();
    if (auto bad = check_name(m.to)) return *bad;
    if (auto bad = check_text(m.text)) return *bad;
    return client_message{std::move(m)};
  }
  if (type == "users") return client_message{users_request{ref}};
  if (type == "whois") {
    whois_request m{{}, ref};
    if (!read.string("name", m.name)) return read.error();
    if (auto bad = check_name(m.name)) return *bad;
    return client_message{std::move(m)};
  }
  if (type == "ping") return client_message{ping_request{ref}};
  if (type == "quit") {
    quit_request m;
    if (!read.optional_string("reason", m.reason)) return read.error();
    if (m.reason.size() > limits::max_reason || !is_valid_utf8(m.reason)) m.reason.clear();
    return client_message{std::move(m)};
  }
  return make_error(errc::unknown_type, "unknown message type \"" + printable(type.substr(0, 32)) + "\"",
                    ref);
}

bool read_users(const json& object, std::vector<user_info>& users) {
  const auto it = object.find("users");
  if (it == object.end() || !it->is_array()) return false;
  for (const auto& entry : *it) {
    if (!entry.is_object()) return false;
    user_info user;
    field_reader<json> read(entry, {});
    if (!read.string("name", user.name)) return false;
    read.optional_string("fingerprint", user.fingerprint);
    if (const auto since = entry.find("since"); since != entry.end() && since->is_number_integer()) {
      user.since_ms = since->get<std::int64_t>();
    }
    users.push_back(std::move(user));
  }
  return true;
}

parsed_server_item parse_server_object(const json& object) {
  if (!object.is_object()) return make_error(errc::bad_json, "a message must be a JSON object", {});
  request_ref ref;
  if (auto bad = read_ref(object, ref)) return *bad;
  const auto type_it = object.find("type");
  if (type_it == object.end() || !type_it->is_string()) {
    return make_error(errc::bad_message, "member \"type\" must be a string", ref);
  }
  const std::string type = type_it->get<std::string>();
  field_reader<json> read(object, ref);

  if (type == "message") {
    chat_event m;
    std::string scope;
    if (!read.unsigned_int("id", m.id) || !read.signed_int("ts", m.ts_ms) ||
        !read.string("from", m.from) || !read.string("text", m.text) || !read.string("scope", scope)) {
      return read.error();
    }
    m.whisper = scope == "whisper";
    if (m.whisper && !read.string("to", m.to)) return read.error();
    return server_message{std::move(m)};
  }
  if (type == "ack") {
    ack_event m;
    if (!ref || !read.unsigned_int("id", m.id) || !read.signed_int("ts", m.ts_ms)) {
      return ref ? read.error() : make_error(errc::bad_message, "ack without ref", ref);
    }
    m.ref = *ref;
    return server_message{m};
  }
  if (type == "presence") {
    presence_event m;
    std::string event;
    if (!read.string("event", event) || !read.string("name", m.name)) return read.error();
    m.joined = event == "joined";
    read.optional_string("fingerprint", m.fingerprint);
    read.optional_string("reason", m.reason);
    return server_message{std::move(m)};
  }
  if (type == "welcome") {
    welcome_event m;
    if (!read.string("name", m.name) || !read.unsigned_int("max_frame", m.max_frame) ||
        !read.unsigned_int("max_text", m.max_text)) {
      return read.error();
    }
    if (!read_users(object, m.users)) return make_error(errc::bad_message, "bad users list", ref);
    read.optional_string("motd", m.motd);
    m.user_count = m.users.size();
    // Rate hints are optional (absent: unknown, treated as no limit).
    if (const auto rate = object.find("rate"); rate != object.end() && rate->is_number() && rate->get<double>() >= 0) {
      m.rate = rate->get<double>();
    }
    if (const auto burst = object.find("burst"); burst != object.end() && burst->is_number() && burst->get<double>() >= 0) {
      m.burst = burst->get<double>();
    }
    if (const auto count = object.find("user_count"); count != object.end() && count->is_number_unsigned()) {
      m.user_count = count->get<std::uint64_t>();
    }
    return server_message{std::move(m)};
  }
  if (type == "users") {
    users_event m{ref, {}, false};
    if (!read_users(object, m.users)) return make_error(errc::bad_message, "bad users list", ref);
    if (const auto more = object.find("more"); more != object.end() && more->is_boolean()) {
      m.more = more->get<bool>();
    }
    return server_message{std::move(m)};
  }
  if (type == "whois") {
    whois_event m{ref, {}, {}, false};
    if (!read.string("name", m.name) || !read.string("fingerprint", m.fingerprint) ||
        !read.boolean("online", m.online)) {
      return read.error();
    }
    return server_message{std::move(m)};
  }
  if (type == "pong") return server_message{pong_event{ref}};
  if (type == "error") {
    error_event m{{}, {}, ref};
    if (!read.string("code", m.code) || !read.string("message", m.message)) return read.error();
    return server_message{std::move(m)};
  }
  if (type == "bye") {
    bye_event m;
    if (!read.string("reason", m.reason)) return read.error();
    read.optional_string("message", m.message);
    return server_message{std::move(m)};
  }
  return make_error(errc::unknown_type, "unknown message type \"" + printable(type.substr(0, 32)) + "\"",
                    ref);
}

// Shared frame-level logic: depth check, parse without exceptions, object-or-batch.
template <typename Item, typename ParseObject>
std::vector<Item> parse_frame(std::string_view plaintext, ParseObject parse_object) {
  std::vector<Item> items;
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
  if (parsed.is_array()) {
    if (parsed.empty()) {
      items.emplace_back(make_error(errc::bad_json, "empty batch", {}));
    } else if (parsed.size() > limits::max_batch) {
      items.emplace_back(make_error(errc::too_many_batched,
                                    "a batch holds at most " + std::to_string(limits::max_batch) +
                                        " messages",
                                    {}));
    } else {
      for (const auto& element : parsed) items.push_back(parse_object(element));
    }
    return items;
  }
  items.push_back(parse_object(parsed));
  return items;
}

}  // namespace

std::vector<parsed_client_item> parse_client_frame(std::string_view plaintext, text_limits limits) {
  // Fast path for the common frame, one flat object (a `say`): no DOM. Anything it does not
  // accept, a syntax error included, is parsed again below and refused (or accepted) there.
  flat_object object;
  // The scanner reads only flat objects (depth 1) and gives up on anything deeper, so it needs no
  // depth check of its own; the parsers behind it do.
  if (detail::scan_flat_ascii_object(plaintext, object)) {
    std::vector<parsed_client_item> items;
    items.push_back(parse_client_object(object, limits));
    return items;
  }
  if (json_depth_within(plaintext, limits::max_json_depth)) {
    object.members().clear();
    flat_object_reader reader(object);
    if (json::sax_parse(plaintext, &reader, json::input_format_t::json, /*strict=*/true)) {
      std::vector<parsed_client_item> items;
      items.push_back(parse_client_object(object, limits));
      return items;
    }
  }
  return parse_frame<parsed_client_item>(
      plaintext, [limits](const json& element) { return parse_client_object(element, limits); });
}

std::vector<parsed_server_item> parse_server_frame(std::string_view plaintext) {
  return parse_frame<parsed_server_item>(plaintext, parse_server_object);
}

}  // namespace natter
