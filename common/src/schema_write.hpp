#pragma once
// Private to natter_common: writing a message by its schema, in two ways that give the same
// bytes. write_dom() builds nlohmann's DOM and dumps it: the reference, and the only writer that
// copes with invalid UTF-8 (replaced by U+FFFD). write_fast() writes the text directly, members
// in key_order (nlohmann's), and gives up (nullopt) on a string that is not valid UTF-8.
// message_build.cpp picks between them; tests/unit/message_build_fast_test.cpp checks that they
// agree for every message.
#include <nlohmann/json.hpp>

#include <cstddef>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "json_text.hpp"
#include "message_schema.hpp"

namespace natter::schema {

// ---- through nlohmann ------------------------------------------------------------------------
template <typename M>
nlohmann::json to_json(const M& m);

template <typename M, typename T>
nlohmann::json value_json(const field<M, T>& f, const T& value) {
  if constexpr (std::is_same_v<T, bool>) {
    if (!f.when_true.empty()) return std::string(value ? f.when_true : f.when_false);
    return value;
  } else if constexpr (std::is_same_v<T, request_ref>) {
    return *value;  // written_for() made sure there is one
  } else if constexpr (std::is_same_v<T, std::vector<user_info>>) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& entry : value) list.push_back(to_json(entry));
    return list;
  } else {
    return value;
  }
}

template <typename M>
nlohmann::json to_json(const M& m) {
  nlohmann::json object = nlohmann::json::object();
  std::apply(
      [&](const auto&... f) {
        ((f.written_for(m) ? void(object[std::string(f.key)] = value_json(f, m.*f.member)) : void()), ...);
      },
      message<M>::fields);
  if constexpr (has_type<message<M>>) object["type"] = std::string(message<M>::type);
  return object;
}

// error_handler_t::replace: invalid UTF-8 becomes U+FFFD instead of an exception. Inputs are
// validated before they get here; this is the second line of defence.
template <typename M>
std::string write_dom(const M& m) {
  return to_json(m).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// ---- by hand -----------------------------------------------------------------------------------
template <typename M>
std::optional<std::string> write_fast(const M& m);

template <typename M>
inline constexpr auto key_order_v = key_order<M>();

template <typename M, typename T>
bool write_value(detail::json_text& out, const field<M, T>& f, const T& value) {
  if constexpr (std::is_same_v<T, std::string>) {
    return out.string(value);
  } else if constexpr (std::is_same_v<T, bool>) {
    if (f.when_true.empty()) out.boolean(value);
    else out.literal(value ? f.when_true : f.when_false);
  } else if constexpr (std::is_same_v<T, request_ref>) {
    out.number(*value);
  } else if constexpr (std::is_same_v<T, std::vector<user_info>>) {
    std::string list = "[";
    for (const auto& entry : value) {
      const auto element = write_fast(entry);
      if (!element) return false;
      if (list.size() > 1) list += ',';
      list += *element;
    }
    list += ']';
    out.raw(list);
  } else {
    out.number(value);
  }
  return true;
}

// The member at position I of key_order (the type when I == field_count).
template <std::size_t I, typename M>
bool write_member(detail::json_text& out, const M& m) {
  if constexpr (I == field_count<M>) {
    out.key("type").literal(message<M>::type);
    return true;
  } else {
    const auto& f = std::get<I>(message<M>::fields);
    if (!f.written_for(m)) return true;
    out.key(f.key);
    return write_value(out, f, m.*f.member);
  }
}

// Room for the whole text in one allocation, in the usual case (a few escapes at most).
template <typename M>
std::size_t size_hint(const M& m) {
  std::size_t size = 16;
  std::apply(
      [&](const auto&... f) {
        const auto value_size = [](const auto& value) -> std::size_t {
          using T = std::decay_t<decltype(value)>;
          if constexpr (std::is_same_v<T, std::string>) return value.size() + value.size() / 10 + 2;
          else if constexpr (std::is_same_v<T, std::vector<user_info>>) return 2 + value.size() * 96;
          else return 24;
        };
        ((size += f.key.size() + 4 + value_size(m.*f.member)), ...);
      },
      message<M>::fields);
  return size;
}

template <typename M>
std::optional<std::string> write_fast(const M& m) {
  detail::json_text out(size_hint(m));
  const bool ok = [&]<std::size_t... I>(std::index_sequence<I...>) {
    return (write_member<key_order_v<M>[I]>(out, m) && ...);
  }(std::make_index_sequence<key_order_v<M>.size()>{});
  if (!ok) return std::nullopt;
  return std::move(out).finish();
}

}  // namespace natter::schema
