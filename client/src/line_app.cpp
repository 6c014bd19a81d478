#include "natter/client/line_app.hpp"

#include <chrono>
#include <iostream>
#include <variant>

#include "natter/client/event_queue.hpp"
#include "natter/client/known_hosts.hpp"
#include "natter/client/stdin_reader.hpp"
#include "natter/overloaded.hpp"

namespace natter::client {

namespace {

// How often the loop wakes without input, for pacing and --wait-ms.
constexpr auto poll_interval = std::chrono::milliseconds(50);
// Lines the reader may hand over before the UI has dealt with them: one for a person (so a
// y/N answer is read only once asked), a few for a script (a pipe is read ahead a little).
constexpr std::size_t pending_typed_lines = 1;
constexpr std::size_t pending_piped_lines = 4;

struct typed_line { std::string text; };
struct input_end {};
// Everything the UI thread waits for, from the driver's I/O thread and the reader's thread.
using ui_item = std::variant<client_event, typed_line, input_end>;

}  // namespace

int run_line_ui(const crypto::identity_v2& identity, driver_config config, const line_ui_settings& settings) {
  // Declared first, destroyed last: the driver's and the reader's threads push into it until
  // they are joined by their destructors.
  event_queue<ui_item> queue;
  const std::string server = host_key(config.host, config.port);
  const std::string name = config.session.name;
  config.handle_signals = true;  // SIGINT/SIGTERM quit cleanly
  client_driver driver(identity, std::move(config), [&queue](client_event e) { queue.push(std::move(e)); });
  line_ui ui(settings, server, name, driver, std::cout, std::cerr);
  stdin_reader reader(settings.interactive ? pending_typed_lines : pending_piped_lines,
                      [&queue](std::string line) { queue.push(typed_line{std::move(line)}); },
                      [&queue] { queue.push(input_end{}); });
  driver.start();
  reader.start();
  while (!ui.finished()) {
    if (auto item = queue.pop(poll_interval)) {
      std::visit(overloaded{[&](client_event& e) { ui.on_event(e); },
                            [&](typed_line& l) { ui.on_line(std::move(l.text)); },
                            [&](input_end&) { ui.on_input_end(); }},
                 *item);
    }
    ui.on_tick();
    for (std::size_t n = ui.take_finished_lines(); n > 0; --n) reader.consumed();
    if (!ui.wants_input()) reader.stop();
  }
  reader.stop();
  return ui.exit_code();
}

}  // namespace natter::client
