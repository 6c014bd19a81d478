#pragma once
// Private to natter_common: a SAX reader for the common shape of a client request (one JSON
// object of scalar members), used by message_parse.cpp to skip building nlohmann's DOM.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace natter::detail {

using json = nlohmann::json;

// A JSON object whose members are all scalars (string, integer, boolean, null), read by a SAX
// parser without building nlohmann's DOM: the common shape of a client request (`say` above
// all). It offers the few members of nlohmann::json that parse_client_object() uses, with the
// same meaning, so that the one parse_client_object() serves both and refuses the same things.
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

// SAX handler that accepts exactly one flat object and gives up (returns false) on anything
// else: a batch, a nested value, a float, a duplicate member, a top-level scalar, a syntax
// error. Giving up sends the frame down the DOM path, which then decides; so this handler never
// has to reproduce a refusal, only agree on what it accepts. (Duplicates: the DOM keeps the last
// one; rather than mimic that, they go to the DOM.)
class flat_object_reader {
 public:
  explicit flat_object_reader(flat_object& out) : out_(out) {}
  bool null() { return value(flat_value::kind::null, false, 0, 0, {}); }
  bool boolean(bool v) { return value(flat_value::kind::boolean, v, 0, 0, {}); }
  bool number_integer(json::number_integer_t v) { return value(flat_value::kind::integer, false, v, 0, {}); }
  bool number_unsigned(json::number_unsigned_t v) {
    return value(flat_value::kind::unsigned_integer, false, 0, v, {});
  }
  bool number_float(json::number_float_t, const json::string_t&) { return false; }
  bool string(json::string_t& v) { return value(flat_value::kind::string, false, 0, 0, std::move(v)); }
  bool binary(json::binary_t&) { return false; }
  bool start_object(std::size_t) {
    if (state_ != state::before) return false;
    state_ = state::in_object;
    return true;
  }
  bool key(json::string_t& k) {
    if (state_ != state::in_object || out_.find(k)) return false;
    key_ = std::move(k);
    state_ = state::after_key;
    return true;
  }
  bool end_object() {
    if (state_ != state::in_object) return false;
    state_ = state::done;
    return true;
  }
  bool start_array(std::size_t) { return false; }
  bool end_array() { return false; }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) { return false; }

 private:
  enum class state { before, in_object, after_key, done };
  bool value(flat_value::kind k, bool b, std::int64_t i, std::uint64_t u, std::string s) {
    if (state_ != state::after_key) return false;
    out_.members().emplace_back(std::move(key_), flat_value(k, b, i, u, std::move(s)));
    state_ = state::in_object;
    return true;
  }
  flat_object& out_;
  state state_ = state::before;
  std::string key_;
};

// Reads `text` into `out` if it is one object of scalar members written in plain ASCII without
// \u escapes, signs or fractions (what natter's client sends for a `say`); false otherwise, and
// then `out` must not be used. flat_object_scan.cpp.
[[nodiscard]] bool scan_flat_ascii_object(std::string_view text, flat_object& out);

}  // namespace natter::detail
