#pragma once
// Private to natter_common: every message of docs/PROTOCOL.md §5, declared once. The parsers
// (both the flat scanner's objects and nlohmann's DOM) and the writers (nlohmann's and the fast
// one) are all driven by these tables, so adding a member is one line here (plus the struct in
// messages.hpp and the table in PROTOCOL.md).
//
// Fields are listed in the order a reader checks them: when several members are wrong, the
// error names the first. Writers do not follow this order; they write members sorted by key
// (key_order below), the order nlohmann's std::map gives and PROTOCOL.md documents.
#include <algorithm>
#include <array>
#include <cstddef>
#include <string_view>
#include <tuple>
#include <utility>

#include "message_fields.hpp"

namespace natter::schema {

// ---- client -> server ------------------------------------------------------------------------
template <>
struct message<join_request> {
  static constexpr std::string_view type = "join";
  static constexpr auto fields = std::tuple{
      member("name", &join_request::name).checked(check::name),
      member("ref", &join_request::ref),
      member("migrate_from", &join_request::migrate_from).optional().omitted_if_empty(),
      member("migration_proof", &join_request::migration_proof).optional().omitted_if_empty(),
  };
};
template <>
struct message<say_request> {
  static constexpr std::string_view type = "say";
  static constexpr auto fields = std::tuple{
      member("text", &say_request::text).checked(check::text),
      member("ref", &say_request::ref),
      member("action", &say_request::action).optional().omitted_if_empty(),
  };
};
template <>
struct message<whisper_request> {
  static constexpr std::string_view type = "whisper";
  static constexpr auto fields = std::tuple{
      member("to", &whisper_request::to).checked(check::name),
      member("text", &whisper_request::text).checked(check::text),
      member("ref", &whisper_request::ref),
      member("action", &whisper_request::action).optional().omitted_if_empty(),
  };
};
template <>
struct message<users_request> {
  static constexpr std::string_view type = "users";
  static constexpr auto fields = std::tuple{member("ref", &users_request::ref)};
};
template <>
struct message<whois_request> {
  static constexpr std::string_view type = "whois";
  static constexpr auto fields = std::tuple{
      member("name", &whois_request::name).checked(check::name),
      member("ref", &whois_request::ref),
  };
};
template <>
struct message<ping_request> {
  static constexpr std::string_view type = "ping";
  static constexpr auto fields = std::tuple{member("ref", &ping_request::ref)};
};
template <>
struct message<quit_request> {
  static constexpr std::string_view type = "quit";
  static constexpr auto fields = std::tuple{
      member("reason", &quit_request::reason).optional().omitted_if_empty().checked(check::reason),
  };
};

template <>
struct message<e2e_request> {
  static constexpr std::string_view type = "e2e";
  static constexpr auto fields = std::tuple{
      member("kind", &e2e_request::kind).checked(check::e2e_kind),
      member("to", &e2e_request::to).optional().omitted_if_empty(),  // judged with the kind (connection_core)
      member("body", &e2e_request::body).checked(check::e2e_body),
      member("ref", &e2e_request::ref),
  };
};
template <>
struct message<away_request> {
  static constexpr std::string_view type = "away";
  static constexpr auto fields = std::tuple{
      member("message", &away_request::message).optional().omitted_if_empty().checked(check::reason),
      member("ref", &away_request::ref),
  };
};

// ---- server -> client ------------------------------------------------------------------------
// The client reads what a server sends leniently where a member is only a hint (the motd, the
// rate, a user's fingerprint), so that an older or newer server still gets through.
template <>
struct message<user_info> {  // an element of `users`; it has no type of its own
  static constexpr auto fields = std::tuple{
      member("name", &user_info::name),
      member("fingerprint", &user_info::fingerprint).lenient(),
      member("since", &user_info::since_ms).lenient(),
      member("key", &user_info::key).lenient().omitted_if_empty(),
      member("away", &user_info::away).lenient().omitted_if_empty(),
  };
};
template <>
struct message<welcome_event> {
  static constexpr std::string_view type = "welcome";
  static constexpr bool fast_write = true;  // once per join, with up to 256 users
  static constexpr auto fields = std::tuple{
      member("name", &welcome_event::name),
      member("max_frame", &welcome_event::max_frame),
      member("max_text", &welcome_event::max_text),
      member("users", &welcome_event::users),
      member("motd", &welcome_event::motd).lenient().omitted_if_empty(),
      member("user_count", &welcome_event::user_count).lenient().or_else([](const welcome_event& m) {
        return std::uint64_t{m.users.size()};  // a server that does not say: the list is all
      }),
      member("rate", &welcome_event::rate).lenient(),
      member("burst", &welcome_event::burst).lenient(),
  };
};
template <>
struct message<ack_event> {
  static constexpr std::string_view type = "ack";
  static constexpr bool fast_write = true;  // once per say and whisper
  static constexpr auto fields = std::tuple{
      member("ref", &ack_event::ref),  // required: an ack answers a request
      member("id", &ack_event::id),
      member("ts", &ack_event::ts_ms),
      member("away", &ack_event::away).lenient().omitted_if_empty(),
  };
};
template <>
struct message<chat_event> {
  static constexpr std::string_view type = "message";
  static constexpr bool fast_write = true;  // once per say (for all its recipients) and whisper
  static constexpr auto fields = std::tuple{
      member("id", &chat_event::id),
      member("ts", &chat_event::ts_ms),
      member("from", &chat_event::from),
      member("text", &chat_event::text),
      member("scope", &chat_event::whisper).as_words("whisper", "all"),
      member("to", &chat_event::to).present_if(&chat_event::whisper),
      member("action", &chat_event::action).lenient().omitted_if_empty(),
  };
};
template <>
struct message<presence_event> {
  static constexpr std::string_view type = "presence";
  static constexpr bool fast_write = true;  // every join and leave, to everyone online
  static constexpr auto fields = std::tuple{
      member("event", &presence_event::joined).as_words("joined", "left"),
      member("name", &presence_event::name),
      member("fingerprint", &presence_event::fingerprint).lenient().present_if(&presence_event::joined),
      member("reason", &presence_event::reason).lenient().present_if(&presence_event::joined, false),
      member("key", &presence_event::key).lenient().omitted_if_empty(),
      // Free text from the leaver or the operator: too long or not UTF-8 is dropped, as for quit.
      member("message", &presence_event::message).lenient().omitted_if_empty().checked(check::reason),
  };
};
template <>
struct message<users_event> {
  static constexpr std::string_view type = "users";
  static constexpr auto fields = std::tuple{
      member("ref", &users_event::ref),
      member("users", &users_event::users),
      member("more", &users_event::more).lenient(),
  };
};
template <>
struct message<whois_event> {
  static constexpr std::string_view type = "whois";
  static constexpr auto fields = std::tuple{
      member("ref", &whois_event::ref),
      member("name", &whois_event::name),
      member("fingerprint", &whois_event::fingerprint),
      member("online", &whois_event::online),
      member("key", &whois_event::key).lenient().omitted_if_empty(),
      member("away", &whois_event::away).lenient().omitted_if_empty(),
  };
};
template <>
struct message<e2e_event> {
  static constexpr std::string_view type = "e2e";
  static constexpr bool fast_write = true;  // once per room body, for all its recipients
  static constexpr auto fields = std::tuple{
      member("id", &e2e_event::id),
      member("ts", &e2e_event::ts_ms),
      member("from", &e2e_event::from),
      member("kind", &e2e_event::kind),
      member("to", &e2e_event::to).optional().omitted_if_empty(),
      member("body", &e2e_event::body),
  };
};
template <>
struct message<pong_event> {
  static constexpr std::string_view type = "pong";
  static constexpr auto fields = std::tuple{member("ref", &pong_event::ref)};
};
template <>
struct message<error_event> {
  static constexpr std::string_view type = "error";
  static constexpr auto fields = std::tuple{
      member("code", &error_event::code),
      member("message", &error_event::message),
      member("ref", &error_event::ref),
  };
};
template <>
struct message<bye_event> {
  static constexpr std::string_view type = "bye";
  static constexpr auto fields = std::tuple{
      member("reason", &bye_event::reason),
      member("message", &bye_event::message).lenient(),
  };
};

// ---- derived facts -----------------------------------------------------------------------------
template <typename M>
inline constexpr std::size_t field_count = std::tuple_size_v<decltype(message<M>::fields)>;

// Members in the order they are written: sorted by key, "type" among them (its index is
// field_count<M>). nlohmann's objects are std::maps, so this is the order its dump() has always
// produced; computing it here lets the fast writer produce the same bytes.
template <typename M>
constexpr auto key_order() {
  constexpr std::size_t n = field_count<M> + (has_type<message<M>> ? 1 : 0);
  std::array<std::string_view, n> keys{};
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((keys[I] = std::get<I>(message<M>::fields).key), ...);
  }(std::make_index_sequence<field_count<M>>{});
  if constexpr (has_type<message<M>>) keys[field_count<M>] = "type";
  std::array<std::size_t, n> order{};
  for (std::size_t i = 0; i < n; ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return keys[a] < keys[b]; });
  for (std::size_t i = 1; i < n; ++i) {
    if (keys[order[i - 1]] == keys[order[i]]) throw "a message declares a key twice";  // compile error
  }
  return order;
}

template <typename M>
constexpr bool writes_fast() {
  if constexpr (requires { message<M>::fast_write; }) return message<M>::fast_write;
  return false;
}

}  // namespace natter::schema
