#include "natter/client/line_ui.hpp"

#include <utility>

#include "natter/client/action_runner.hpp"

namespace natter::client {

namespace {

conversation_config line_config(const line_ui_settings& settings, std::string server, std::string own_name) {
  conversation_config config;
  config.server = std::move(server);
  config.own_name = std::move(own_name);
  config.own_fingerprint = settings.own_fingerprint;
  config.interactive = settings.interactive;
  config.stay = settings.stay;
  config.wait_ms = settings.wait_ms;
  config.trace = settings.trace;
  config.echo_sent = false;          // the terminal already shows what was typed
  apply_preferences(config, settings.preferences);
  return config;
}

// A script never verifies keys, so only a person's session reads the store.
verified_store store_for(const line_ui_settings& settings, std::string& error) {
  return settings.interactive ? load_verified_or_empty(settings.verified_path, error) : verified_store{};
}

}  // namespace

line_ui::line_ui(const line_ui_settings& settings, std::string server, std::string own_name, session_link& link,
                 std::ostream& out, std::ostream& err, ms_clock steady)
    : settings_(settings),
      link_(link),
      out_(out),
      err_(err),
      conversation_(line_config(settings, std::move(server), std::move(own_name)), store_for(settings, store_error_),
                    conversation_probes{std::move(steady), [&link] {
                                          return session_progress{link.unacknowledged(), link.refused()};
                                        }}) {
  if (!store_error_.empty()) write({shown_kind::error, "! " + store_error_});
}

void line_ui::on_event(const client_event& event) {
  conversation_.on_event(event);
  flush();
}

void line_ui::on_line(std::string line) {
  conversation_.on_line(std::move(line), natter::wall_ms());
  flush();
}

void line_ui::on_input_end() {
  if (settings_.interactive) {
    err_ << '\n' << std::flush;  // Ctrl-D leaves the cursor after the prompt
  }
  conversation_.on_input_end();
  flush();
}

void line_ui::on_tick() {
  conversation_.tick();
  flush();
}

void line_ui::flush() {
  for (const auto& line : conversation_.take_lines()) write(line);
  for (auto& action : conversation_.take_actions()) {
    if (auto error = run_action(action, link_, settings_.verified_path)) write({shown_kind::error, *error});
  }
}

void line_ui::write(const shown_line& line) {
  // The bell goes to the terminal (stderr), never into a script's stdout.
  if (line.ring && settings_.interactive) err_ << '\a' << std::flush;
  switch (line.kind) {
    case shown_kind::chat:
    case shown_kind::own_chat:
    case shown_kind::whisper_in:
    case shown_kind::whisper_out:
    case shown_kind::info:
      out_ << line.text << '\n' << std::flush;
      return;
    case shown_kind::hint:
    case shown_kind::notice:
    case shown_kind::error:
    case shown_kind::trace:
      err_ << line.text << '\n' << std::flush;
      return;
    case shown_kind::prompt:
      err_ << line.text << std::flush;  // the answer is typed on the same line
      return;
  }
}

}  // namespace natter::client
