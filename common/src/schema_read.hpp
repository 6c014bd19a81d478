#pragma once
// Private to natter_common: reading a message from a parsed JSON object by its schema. `Json` is
// nlohmann::json or detail::flat_object (the scanner's output), which offers the few members of
// nlohmann::json used here with the same meaning; so both readers refuse exactly the same
// things, with the same errors.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

#include "flat_object.hpp"
#include "message_schema.hpp"
#include "natter/limits.hpp"
#include "natter/text.hpp"

namespace natter::schema {

inline message_error make_error(std::string_view code, std::string message, request_ref ref) {
  return {std::string(code), std::move(message), ref};
}

// What a reader knows beyond the object: the envelope's `ref` (already checked) and the
// caller's text limit.
struct read_context {
  request_ref ref;
  std::size_t max_text = limits::max_text;
};

template <typename M, typename Json>
std::optional<message_error> read_fields(const Json& object, const read_context& context, M& out);

namespace detail {

inline message_error wrong_type(std::string_view key, const char* expected, request_ref ref) {
  return make_error(errc::bad_message, "member \"" + std::string(key) + "\" must be " + expected, ref);
}

// nlohmann before 3.11 (CMakeLists.txt accepts 3.10) finds members by std::string only; natter's
// keys fit the short-string buffer, so that costs no allocation. The scanner's object takes a view.
template <typename Json>
auto find_member(const Json& object, std::string_view key) {
  if constexpr (std::is_same_v<Json, natter::detail::flat_object>) return object.find(key);
  else return object.find(std::string(key));
}

template <typename Json>
bool read_users(const Json& list, std::vector<user_info>& users) {
  if (!list.is_array()) return false;
  for (const auto& entry : list) {
    if (!entry.is_object()) return false;
    user_info user;
    if (read_fields(entry, read_context{}, user)) return false;
    users.push_back(std::move(user));
  }
  return true;
}

// Reads one member into `out`. Returns the error, if any; what happens when the member is
// missing or of the wrong type depends on f.read (see presence).
template <typename M, typename T, typename Json>
std::optional<message_error> read_one(const field<M, T>& f, const Json& object, const read_context& context, M& out) {
  T& value = out.*f.member;
  if constexpr (std::is_same_v<T, request_ref>) {
    value = context.ref;  // the envelope read and checked it (read_ref in message_parse.cpp)
    return std::nullopt;
  } else {
    if (f.only_if != nullptr && f.read == presence::required && out.*f.only_if != f.only_if_value) {
      return std::nullopt;  // required only when it would have been written
    }
    if constexpr (std::is_same_v<T, std::uint64_t>) {
      if (f.key == "ref") {  // a ref that is required: the envelope's, if there was one
        if (!context.ref) return make_error(errc::bad_message, std::string(message<M>::type) + " without ref", {});
        value = *context.ref;
        return std::nullopt;
      }
    }
    const auto it = find_member(object, f.key);
    const bool absent = it == object.end() || (f.read != presence::required && it->is_null());
    const auto fallback = [&]() -> std::optional<message_error> {
      if (f.fallback != nullptr) value = f.fallback(out);
      return std::nullopt;
    };
    if (absent && f.read != presence::required) return fallback();
    const char* expected = nullptr;
    if constexpr (std::is_same_v<T, std::string>) {
      if (!absent && it->is_string()) value = it->template get<std::string>();
      else expected = "a string";
    } else if constexpr (std::is_same_v<T, bool>) {
      if (!f.when_true.empty()) {  // a bool written as one of two words
        if (!absent && it->is_string()) value = it->template get<std::string>() == f.when_true;
        else expected = "a string";
      } else if (!absent && it->is_boolean()) {
        value = it->template get<bool>();
      } else {
        expected = "a boolean";
      }
    } else if constexpr (std::is_same_v<T, std::uint64_t>) {
      if (!absent && it->is_number_unsigned()) value = it->template get<std::uint64_t>();
      else expected = "a non-negative integer";
    } else if constexpr (std::is_same_v<T, std::int64_t>) {
      if (!absent && it->is_number_integer()) value = it->template get<std::int64_t>();
      else expected = "an integer";
    } else if constexpr (std::is_same_v<T, double>) {
      if (!absent && it->is_number() && it->template get<double>() >= 0) value = it->template get<double>();
      else expected = "a non-negative number";
    } else if constexpr (std::is_same_v<T, std::vector<user_info>>) {
      if (absent || !read_users(*it, value)) return make_error(errc::bad_message, "bad users list", context.ref);
    } else {
      static_assert(!sizeof(T), "no JSON mapping for this member type");
    }
    if (expected == nullptr) return std::nullopt;
    if (f.read == presence::lenient) return fallback();
    return wrong_type(f.key, expected, context.ref);
  }
}

template <typename M, typename T>
std::optional<message_error> check_one(const field<M, T>& f, const read_context& context, M& out) {
  if constexpr (std::is_same_v<T, std::string>) {
    std::string& value = out.*f.member;
    switch (f.rule) {
      case check::none: break;
      case check::name:
        if (!is_valid_name(value)) {
          return make_error(errc::bad_name, "names are 1-32 characters of A-Z a-z 0-9 _ . -", context.ref);
        }
        break;
      case check::text:
        if (const auto problem = text_problem(value, context.max_text)) {
          return make_error(errc::bad_text,
                            std::string(*problem) + " (at most " + std::to_string(context.max_text) +
                                " bytes of UTF-8)",
                            context.ref);
        }
        break;
      case check::reason:
        if (value.size() > limits::max_reason || !is_valid_utf8(value)) value.clear();
        break;
      case check::e2e_kind:
        if (!is_e2e_kind(value)) {
          return make_error(errc::bad_message, "kind must be handshake, key, whisper or room", context.ref);
        }
        break;
      case check::e2e_body:
        if (!is_e2e_body(value)) {
          return make_error(errc::bad_body,
                            "body must be base64 (with padding), 4 to " + std::to_string(limits::max_e2e_body) +
                                " characters",
                            context.ref);
        }
        break;
    }
  }
  return std::nullopt;
}

}  // namespace detail

// Reads every member of M (first pass), then checks the values (second pass); the first problem
// found is the error, with the envelope's ref.
template <typename M, typename Json>
std::optional<message_error> read_fields(const Json& object, const read_context& context, M& out) {
  std::optional<message_error> error;
  const auto first_error = [&](auto step) {
    return std::apply([&](const auto&... f) { return ((error = step(f)) || ...); }, message<M>::fields);
  };
  if (first_error([&](const auto& f) { return detail::read_one(f, object, context, out); })) return error;
  first_error([&](const auto& f) { return detail::check_one(f, context, out); });
  return error;
}

// Finds the alternative of Variant whose schema has `type` and reads it; nullopt if there is
// none (an unknown type). The result holds the message or the error that refuses it.
template <typename Variant, typename Json>
std::optional<std::variant<Variant, message_error>> read_by_type(std::string_view type, const Json& object,
                                                                 const read_context& context) {
  std::optional<std::variant<Variant, message_error>> result;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    const auto try_one = [&]<std::size_t K>(std::integral_constant<std::size_t, K>) {
      using M = std::variant_alternative_t<K, Variant>;
      if (type != message<M>::type) return false;
      M m{};
      if (auto error = read_fields(object, context, m)) result.emplace(std::move(*error));
      else result.emplace(Variant{std::in_place_index<K>, std::move(m)});
      return true;
    };
    (try_one(std::integral_constant<std::size_t, I>{}) || ...);
  }(std::make_index_sequence<std::variant_size_v<Variant>>{});
  return result;
}

}  // namespace natter::schema
