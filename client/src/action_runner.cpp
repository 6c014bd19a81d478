#include "natter/client/action_runner.hpp"

#include "natter/client/verified_store.hpp"
#include "natter/overloaded.hpp"

namespace natter::client {

namespace {

// Reads the file again and adds the one entry, so marks made meanwhile by another natter
// (another terminal, the other UI) are kept rather than overwritten with our older copy.
std::optional<std::string> save_verified(const save_verified_action& entry, const std::filesystem::path& path) {
  try {
    auto store = verified_store::load(path);
    if (entry.name.empty()) {
      const auto key = crypto::public_key_from_hex(entry.key);
      if (!key) return "! not saved: the server key to mark is not 64 hex digits";
      store.mark_server(entry.server, *key);
    } else {
      const auto key = crypto::ed25519_public_key_from_hex(entry.key);
      if (!key) return "! not saved: " + entry.name + "'s key to mark is not 64 hex digits";
      store.mark_user(entry.server, entry.name, *key);
    }
    store.save(path);
  } catch (const verified_store_error& e) {
    return std::string("! ") + e.what();
  }
  return std::nullopt;
}

}  // namespace

std::optional<std::string> run_action(conversation_action& action, session_link& link,
                                      const std::filesystem::path& verified_path) {
  return std::visit(overloaded{
                        [&](send_action& a) -> std::optional<std::string> {
                          link.submit(std::move(a.message), a.route);
                          return std::nullopt;
                        },
                        [&](quit_action& a) -> std::optional<std::string> {
                          link.quit_when_acknowledged(std::move(a.reason));
                          return std::nullopt;
                        },
                        [&](trust_action& a) -> std::optional<std::string> {
                          link.answer_trust(a.trusted);
                          return std::nullopt;
                        },
                        [&](save_verified_action& a) { return save_verified(a, verified_path); },
                        // The full screen clears its own pane; line mode never asks for it.
                        [](clear_view_action&) -> std::optional<std::string> { return std::nullopt; },
                        [&](e2e_command_action& a) -> std::optional<std::string> {
                          link.e2e_command(std::move(a.command));
                          return std::nullopt;
                        },
                    },
                    action);
}

}  // namespace natter::client
