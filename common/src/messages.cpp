#include "natter/messages.hpp"

#include "natter/limits.hpp"

namespace natter {

bool is_e2e_kind(std::string_view kind) {
  return kind == e2e_kind::handshake || kind == e2e_kind::key || kind == e2e_kind::whisper || kind == e2e_kind::room;
}

bool is_e2e_body(std::string_view body) {
  if (body.size() < 4 || body.size() > limits::max_e2e_body || body.size() % 4 != 0) return false;
  const auto is_digit = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/';
  };
  // Padding only at the end: "xx==" or "xxx=".
  std::size_t digits = body.size();
  if (body[digits - 1] == '=') --digits;
  if (body[digits - 1] == '=') --digits;
  if (body.size() - digits > 0 && digits % 4 < 2) return false;
  for (std::size_t i = 0; i < digits; ++i) {
    if (!is_digit(body[i])) return false;
  }
  return true;
}

std::string_view to_string(leave_reason reason) {
  switch (reason) {
    case leave_reason::quit: return "quit";
    case leave_reason::dropped: return "dropped";
    case leave_reason::kicked: return "kicked";
    case leave_reason::timeout: return "timeout";
    case leave_reason::too_slow: return "too_slow";
    case leave_reason::protocol_error: return "protocol_error";
    case leave_reason::server_stopping: return "server_stopping";
  }
  return "dropped";
}

}  // namespace natter
