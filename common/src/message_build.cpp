#include "natter/message_build.hpp"

#include <nlohmann/json.hpp>

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

std::string build(const server_message& message) {
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
