#include "natter/message_build.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <optional>

#include "natter/text.hpp"

namespace natter {

using json = nlohmann::json;

namespace {

template <typename... Ts>
struct overloaded : Ts... {
  using Ts::operator()...;
};
// C++20 deduces this itself, but clang before 17 (the fuzz build uses clang) needs the guide.
template <typename... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

// error_handler_t::replace: invalid UTF-8 becomes U+FFFD instead of an exception. Inputs are
// validated before they get here; this is the second line of defence.
std::string dump(const json& j) { return j.dump(-1, ' ', false, json::error_handler_t::replace); }

void put_ref(json& j, const request_ref& ref) {
  if (ref) j["ref"] = *ref;
}

json users_json(const std::vector<user_info>& users) {
  json list = json::array();
  for (const auto& u : users) {
    list.push_back({{"name", u.name}, {"fingerprint", u.fingerprint}, {"since", u.since_ms}});
  }
  return list;
}

}  // namespace

std::string build(const client_message& message) {
  json j = std::visit(
      overloaded{
          [](const join_request& m) { json o{{"type", "join"}, {"name", m.name}}; put_ref(o, m.ref); return o; },
          [](const say_request& m) { json o{{"type", "say"}, {"text", m.text}}; put_ref(o, m.ref); return o; },
          [](const whisper_request& m) {
            json o{{"type", "whisper"}, {"to", m.to}, {"text", m.text}};
            put_ref(o, m.ref);
            return o;
          },
          [](const users_request& m) { json o{{"type", "users"}}; put_ref(o, m.ref); return o; },
          [](const whois_request& m) { json o{{"type", "whois"}, {"name", m.name}}; put_ref(o, m.ref); return o; },
          [](const ping_request& m) { json o{{"type", "ping"}}; put_ref(o, m.ref); return o; },
          [](const quit_request& m) {
            json o{{"type", "quit"}};
            if (!m.reason.empty()) o["reason"] = m.reason;
            return o;
          },
      },
      message);
  return dump(j);
}

namespace detail {
std::string build_with_json(const server_message& message) {
  json j = std::visit(
      overloaded{
          [](const welcome_event& m) {
            json o{{"type", "welcome"}, {"name", m.name}, {"users", users_json(m.users)},
                   {"user_count", m.user_count}, {"max_frame", m.max_frame}, {"max_text", m.max_text},
                   {"rate", m.rate}, {"burst", m.burst}};
            if (!m.motd.empty()) o["motd"] = m.motd;
            return o;
          },
          [](const ack_event& m) {
            return json{{"type", "ack"}, {"ref", m.ref}, {"id", m.id}, {"ts", m.ts_ms}};
          },
          [](const chat_event& m) {
            json o{{"type", "message"}, {"id", m.id}, {"ts", m.ts_ms}, {"from", m.from},
                   {"scope", m.whisper ? "whisper" : "all"}, {"text", m.text}};
            if (m.whisper) o["to"] = m.to;
            return o;
          },
          [](const presence_event& m) {
            json o{{"type", "presence"}, {"event", m.joined ? "joined" : "left"}, {"name", m.name}};
            if (m.joined) o["fingerprint"] = m.fingerprint;
            else o["reason"] = m.reason;
            return o;
          },
          [](const users_event& m) {
            json o{{"type", "users"}, {"users", users_json(m.users)}, {"more", m.more}};
            put_ref(o, m.ref);
            return o;
          },
          [](const whois_event& m) {
            json o{{"type", "whois"}, {"name", m.name}, {"fingerprint", m.fingerprint},
                   {"online", m.online}};
            put_ref(o, m.ref);
            return o;
          },
          [](const pong_event& m) { json o{{"type", "pong"}}; put_ref(o, m.ref); return o; },
          [](const error_event& m) {
            json o{{"type", "error"}, {"code", m.code}, {"message", m.message}};
            put_ref(o, m.ref);
            return o;
          },
          [](const bye_event& m) {
            return json{{"type", "bye"}, {"reason", m.reason}, {"message", m.message}};
          },
      },
      message);
  return dump(j);
}
}  // namespace detail

namespace {

// The hot server messages written by hand: once per `say` (the message, the ack) and per join
// and leave (presence, welcome), nlohmann's DOM cost more than a third of what sealing the message for
// 50 recipients costs. The output is byte for byte what detail::build_with_json() produces
// (tests/unit/message_build_fast_test.cpp compares them over random inputs): members in the
// sorted order of nlohmann's std::map objects, strings escaped as its dump() escapes them
// (ensure_ascii off). A string that is not valid UTF-8 makes the caller fall back to the DOM,
// whose error handler replaces it.

// True if none of the eight bytes in `word` needs escaping in a JSON string: all are ASCII, none
// is below 0x20, none is '"' or '\\'. The byte tests are the "has zero byte" and "has byte less
// than n" tricks of Bit Twiddling Hacks, exact as a yes/no answer for ASCII bytes (a borrow can
// only spread upwards from a byte that already matched).
bool plain_ascii_word(std::uint64_t word) {
  constexpr std::uint64_t ones = 0x0101010101010101ull;
  constexpr std::uint64_t highs = 0x8080808080808080ull;
  if (word & highs) return false;
  const auto has_zero_byte = [](std::uint64_t v) { return ((v - ones) & ~v & highs) != 0; };
  const bool has_control = ((word - ones * 0x20) & ~word & highs) != 0;
  return !has_control && !has_zero_byte(word ^ (ones * '"')) && !has_zero_byte(word ^ (ones * '\\'));
}

class json_text {
 public:
  explicit json_text(std::size_t reserve) { out_.reserve(reserve); }

  // Appends `"key":` with the separator the previous member needs. Keys are natter's own literals.
  json_text& key(std::string_view k) {
    out_ += first_ ? '{' : ',';
    first_ = false;
    out_ += '"';
    out_ += k;
    out_ += "\":";
    return *this;
  }
  json_text& number(std::uint64_t v) { return integer(v); }
  json_text& number(std::int64_t v) { return integer(v); }
  // Doubles as nlohmann writes them (shortest round trip, "0.0" for zero): by nlohmann itself.
  json_text& number(double v) {
    out_ += json(v).dump();
    return *this;
  }
  json_text& boolean(bool v) {
    out_ += v ? "true" : "false";
    return *this;
  }
  // A value written by another json_text (an array element, a nested object).
  json_text& raw(std::string_view text) {
    out_ += text;
    return *this;
  }
  // False if `s` is not valid UTF-8: the caller must not use the result.
  [[nodiscard]] bool string(std::string_view s) {
    if (!is_valid_utf8(s)) return false;
    out_ += '"';
    std::size_t run = 0;  // start of the bytes not yet copied
    for (std::size_t i = 0; i < s.size(); ++i) {
      // Eight plain bytes at a time (most chat text), then byte by byte.
      while (i + 8 <= s.size()) {
        std::uint64_t word = 0;
        std::memcpy(&word, s.data() + i, sizeof word);
        if (!plain_ascii_word(word)) break;
        i += 8;
      }
      if (i == s.size()) break;
      const auto c = static_cast<unsigned char>(s[i]);
      if (c >= 0x20 && c != '"' && c != '\\') continue;
      out_.append(s, run, i - run);
      run = i + 1;
      switch (c) {
        case '"': out_ += "\\\""; break;
        case '\\': out_ += "\\\\"; break;
        case '\b': out_ += "\\b"; break;
        case '\f': out_ += "\\f"; break;
        case '\n': out_ += "\\n"; break;
        case '\r': out_ += "\\r"; break;
        case '\t': out_ += "\\t"; break;
        default: {
          static constexpr char hex[] = "0123456789abcdef";  // nlohmann writes lower case
          const char escaped[] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 0xF]};
          out_.append(escaped, sizeof escaped);
        }
      }
    }
    out_.append(s, run, s.size() - run);
    out_ += '"';
    return true;
  }
  std::string finish() && {
    out_ += '}';
    return std::move(out_);
  }

 private:
  template <typename T>
  json_text& integer(T v) {
    char digits[24];
    const auto end = std::to_chars(digits, digits + sizeof digits, v).ptr;
    out_.append(digits, end);
    return *this;
  }

  std::string out_;
  bool first_ = true;
};

std::optional<std::string> build_fast(const ack_event& m) {
  json_text j(64);
  j.key("id").number(m.id);
  j.key("ref").number(m.ref);
  j.key("ts").number(m.ts_ms);
  if (!j.key("type").string("ack")) return std::nullopt;
  return std::move(j).finish();
}

std::optional<std::string> build_fast(const chat_event& m) {
  json_text j(96 + m.from.size() + m.to.size() + m.text.size() * 11 / 10);
  if (!j.key("from").string(m.from)) return std::nullopt;
  j.key("id").number(m.id);
  if (!j.key("scope").string(m.whisper ? "whisper" : "all")) return std::nullopt;
  if (!j.key("text").string(m.text)) return std::nullopt;
  if (m.whisper && !j.key("to").string(m.to)) return std::nullopt;
  j.key("ts").number(m.ts_ms);
  if (!j.key("type").string("message")) return std::nullopt;
  return std::move(j).finish();
}

std::optional<std::string> build_fast(const presence_event& m) {
  json_text j(96 + m.name.size() + m.fingerprint.size() + m.reason.size());
  if (!j.key("event").string(m.joined ? "joined" : "left")) return std::nullopt;
  if (m.joined && !j.key("fingerprint").string(m.fingerprint)) return std::nullopt;
  if (!j.key("name").string(m.name)) return std::nullopt;
  if (!m.joined && !j.key("reason").string(m.reason)) return std::nullopt;
  if (!j.key("type").string("presence")) return std::nullopt;
  return std::move(j).finish();
}

// `[{"fingerprint":…,"name":…,"since":…},…]`, or nullopt if a string is not valid UTF-8.
std::optional<std::string> users_text(const std::vector<user_info>& users) {
  std::string out;
  out.reserve(2 + users.size() * 96);
  out += '[';
  for (const auto& u : users) {
    json_text j(96);
    if (!j.key("fingerprint").string(u.fingerprint) || !j.key("name").string(u.name)) return std::nullopt;
    j.key("since").number(u.since_ms);
    if (out.size() > 1) out += ',';
    out += std::move(j).finish();
  }
  out += ']';
  return out;
}

// Once per join, with up to 256 users.
std::optional<std::string> build_fast(const welcome_event& m) {
  const auto users = users_text(m.users);
  if (!users) return std::nullopt;
  json_text j(160 + m.name.size() + m.motd.size() + users->size());
  j.key("burst").number(m.burst);
  j.key("max_frame").number(m.max_frame);
  j.key("max_text").number(m.max_text);
  if (!m.motd.empty() && !j.key("motd").string(m.motd)) return std::nullopt;
  if (!j.key("name").string(m.name)) return std::nullopt;
  j.key("rate").number(m.rate);
  if (!j.key("type").string("welcome")) return std::nullopt;
  j.key("user_count").number(m.user_count);
  j.key("users").raw(*users);
  return std::move(j).finish();
}

}  // namespace

std::string build(const server_message& message) {
  std::optional<std::string> fast;
  if (const auto* m = std::get_if<chat_event>(&message)) fast = build_fast(*m);
  else if (const auto* a = std::get_if<ack_event>(&message)) fast = build_fast(*a);
  else if (const auto* p = std::get_if<presence_event>(&message)) fast = build_fast(*p);
  else if (const auto* w = std::get_if<welcome_event>(&message)) fast = build_fast(*w);
  if (fast) return std::move(*fast);
  return detail::build_with_json(message);
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
