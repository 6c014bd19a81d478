#pragma once
// Carries out what a conversation asks for, the same way for both front ends: requests go to
// the session link, a newly verified key to the verified store on disk.
#include <filesystem>
#include <optional>
#include <string>

#include "natter/client/conversation_output.hpp"
#include "natter/client/session_link.hpp"

namespace natter::client {

// Returns an error line to show if the action failed (only saving the verified store can).
[[nodiscard]] std::optional<std::string> run_action(conversation_action& action, session_link& link,
                                                    const std::filesystem::path& verified_path);

}  // namespace natter::client
