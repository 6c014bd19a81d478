#pragma once
// The usual visitor helper for std::visit over natter's message variants:
//   std::visit(overloaded{[](const say_request&) {...}, [](const auto&) {...}}, message);
namespace natter {

template <typename... Ts>
struct overloaded : Ts... {
  using Ts::operator()...;
};
// C++20 deduces this for aggregates by itself; clang 14 (Debian 12's, the fuzz builds) does not.
template <typename... Ts>
overloaded(Ts...) -> overloaded<Ts...>;

}  // namespace natter
