#include "natter/messages.hpp"

namespace natter {

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
