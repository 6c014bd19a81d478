#pragma once
// Private to natter_common: the words message_schema.hpp declares the messages in. A message is
// a tuple of `field`s, one per JSON member; the readers (schema_read.hpp) and the writers
// (schema_write.hpp) walk that tuple, so a member is named, typed and checked in one place.
//
// A field is a constexpr value: its key, the struct member it fills, and how strict a reader is
// about it. The member's C++ type picks the JSON type:
//   std::string -> string            std::uint64_t -> non-negative integer
//   std::int64_t -> integer          bool -> true/false, or one of two strings (as_words)
//   double -> number (lenient only)  std::vector<user_info> -> array of user objects
//   request_ref -> the optional `ref`, which the envelope reads and checks (message_parse.cpp)
//   std::uint64_t named "ref" -> the envelope's ref, required (an ack answers a request)
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "natter/messages.hpp"

namespace natter::schema {

// How a reader treats a member that is missing or of the wrong JSON type.
enum class presence {
  required,  // missing or wrong type: bad_message
  optional,  // missing or null: left at its default; wrong type: bad_message
  lenient,   // missing, null or wrong type: left at its default (or set by `fallback`). Used
             // where the client tolerates what an older or newer server writes.
};

// The rule a value must pass once every member has been read (PROTOCOL.md §5, "Field rules").
// Checks run after all reads so that a missing member is reported before a bad value.
enum class check {
  none,
  name,    // is_valid_name, else bad_name
  text,    // text_problem under the caller's max_text, else bad_text
  reason,  // a free-text reason: too long or not UTF-8 is dropped, not refused
  e2e_kind,  // is_e2e_kind, else bad_message
  e2e_body,  // is_e2e_body, else bad_body
};

template <typename M, typename T>
struct field {
  using message_type = M;
  using value_type = T;

  std::string_view key;
  T M::*member;
  presence read = presence::required;
  check rule = check::none;
  bool omit_empty = false;      // strings: an empty value is not written; bools: false is not
  bool M::*only_if = nullptr;   // written only when this flag (declared earlier) is only_if_value;
  bool only_if_value = true;    // a required member is then required only in that case
  std::string_view when_true{};   // bool written as one of two strings (as_words)
  std::string_view when_false{};
  T (*fallback)(const M&) = nullptr;  // lenient: the value when the member is unusable

  constexpr field optional() const { return with([](field& f) { f.read = presence::optional; }); }
  constexpr field lenient() const { return with([](field& f) { f.read = presence::lenient; }); }
  constexpr field checked(check c) const { return with([c](field& f) { f.rule = c; }); }
  constexpr field omitted_if_empty() const { return with([](field& f) { f.omit_empty = true; }); }
  constexpr field present_if(bool M::*flag, bool value = true) const {
    return with([flag, value](field& f) {
      f.only_if = flag;
      f.only_if_value = value;
    });
  }
  constexpr field as_words(std::string_view yes, std::string_view no) const {
    return with([yes, no](field& f) {
      f.when_true = yes;
      f.when_false = no;
    });
  }
  constexpr field or_else(T (*fn)(const M&)) const { return with([fn](field& f) { f.fallback = fn; }); }

  // Whether `m` carries this member when written.
  [[nodiscard]] constexpr bool written_for(const M& m) const {
    if (only_if != nullptr && m.*only_if != only_if_value) return false;
    if constexpr (std::is_same_v<T, std::string>) {
      if (omit_empty && (m.*member).empty()) return false;
    } else if constexpr (std::is_same_v<T, bool>) {
      // A flag added later (`action`) is written only when set, so messages without it keep
      // their bytes and older readers never see it.
      if (omit_empty && !(m.*member)) return false;
    } else if constexpr (std::is_same_v<T, request_ref>) {
      if (!(m.*member)) return false;
    }
    return true;
  }

 private:
  template <typename Edit>
  constexpr field with(Edit edit) const {
    field copy = *this;
    edit(copy);
    return copy;
  }
};

// member("text", &say_request::text): a required member; the modifiers above refine it.
template <typename M, typename T>
constexpr field<M, T> member(std::string_view key, T M::*m) {
  return field<M, T>{key, m};
}

// Every message declares a specialisation with `fields` (a std::tuple of field) and, unless it
// is only ever nested (user_info), its `type`. `fast_write` marks the hot messages that the
// hand-written writer serves (schema_write.hpp); the others go through nlohmann.
template <typename M>
struct message;

template <typename S>
concept has_type = requires { S::type; };

}  // namespace natter::schema
