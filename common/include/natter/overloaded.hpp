#pragma once
// The usual visitor helper for std::visit over natter's message variants:
//   std::visit(overloaded{[](const say_request&) {...}, [](const auto&) {...}}, message);
namespace natter {

template <typename... Ts>
struct overloaded : Ts... {
  using Ts::operator()...;
};

}  // namespace natter
