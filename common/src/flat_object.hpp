#pragma once
// Private to natter_common: the common shape of a client request (one JSON object of scalar
// members) as the hand-written scanner reads it, so that message_parse.cpp can skip building
// nlohmann's DOM.
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace natter::detail {

// A JSON object whose members are all scalars (string, integer, boolean, null): the common shape
// of a client request (`say` above all). It offers the few members of nlohmann::json that
// schema_read.hpp uses, with the same meaning, so that one reader serves both and refuses the
// same things.
class flat_value {
 public:
  enum class kind { null, boolean, integer, unsigned_integer, string };
  flat_value(kind k, bool b, std::int64_t i, std::uint64_t u, std::string s)
      : kind_(k), boolean_(b), integer_(i), unsigned_(u), string_(std::move(s)) {}
  [[nodiscard]] bool is_null() const { return kind_ == kind::null; }
  [[nodiscard]] bool is_boolean() const { return kind_ == kind::boolean; }
  [[nodiscard]] bool is_string() const { return kind_ == kind::string; }
  [[nodiscard]] bool is_number_unsigned() const { return kind_ == kind::unsigned_integer; }
  [[nodiscard]] bool is_number_integer() const { return kind_ == kind::integer || is_number_unsigned(); }
  // Called only after the matching is_*() check, as on nlohmann::json.
  template <typename T>
  [[nodiscard]] T get() const {
    if constexpr (std::is_same_v<T, std::string>) return string_;
    else if constexpr (std::is_same_v<T, bool>) return boolean_;
    else return kind_ == kind::unsigned_integer ? static_cast<T>(unsigned_) : static_cast<T>(integer_);
  }

 private:
  kind kind_;
  bool boolean_;
  std::int64_t integer_;
  std::uint64_t unsigned_;
  std::string string_;
};

class flat_object {
 public:
  using member = std::pair<std::string, flat_value>;
  [[nodiscard]] bool is_object() const { return true; }
  [[nodiscard]] const flat_value* find(std::string_view key) const {
    for (const auto& m : members_) {
      if (m.first == key) return &m.second;
    }
    return nullptr;
  }
  [[nodiscard]] const flat_value* end() const { return nullptr; }
  std::vector<member>& members() { return members_; }

 private:
  std::vector<member> members_;
};

// Reads `text` into `out` if it is one object of scalar members, with strings of valid UTF-8 and
// without \u escapes, and integers without signs or fractions (what natter's client sends);
// false otherwise, and then `out` must not be used. flat_object_scan.cpp.
[[nodiscard]] bool scan_flat_object(std::string_view text, flat_object& out);

}  // namespace natter::detail
