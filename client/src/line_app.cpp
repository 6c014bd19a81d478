#include "natter/client/line_app.hpp"

#include <chrono>
#include <iostream>
#include <variant>

#include <unistd.h>

#include <cstdlib>
#include <string_view>

#include "natter/client/event_queue.hpp"
#include "natter/client/known_hosts.hpp"
#include "natter/client/line_editor.hpp"
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

// Line editing is for a person at a terminal; NATTER_NO_LINE_EDITING=1 turns it off (until the
// option parser has a flag for it).
bool wants_line_editing(const line_ui_settings& settings) {
  const char* off = std::getenv("NATTER_NO_LINE_EDITING");
  if (off != nullptr && *off != '\0' && std::string_view(off) != "0") return false;
  return settings.interactive && ::isatty(STDIN_FILENO) == 1 && ::isatty(STDOUT_FILENO) == 1;
}

// Prints what the UI wrote: with the line editor, above the line being edited; a plain reader
// wrote straight to the streams.
void show_output(stdin_reader&) {}
void show_output(line_editor& editor) { editor.print_above(); }

// The UI thread's loop, the same for a pipe (stdin_reader) and a person at a terminal
// (line_editor): both hand over lines with backpressure.
template <typename Input>
int run_loop(event_queue<ui_item>& queue, client_driver& driver, line_ui& ui, Input& input) {
  driver.start();
  input.start();
  while (!ui.finished()) {
    if (auto item = queue.pop(poll_interval)) {
      std::visit(overloaded{[&](client_event& e) { ui.on_event(e); },
                            [&](typed_line& l) { ui.on_line(std::move(l.text)); },
                            [&](input_end&) { ui.on_input_end(); }},
                 *item);
    }
    ui.on_tick();
    for (std::size_t n = ui.take_finished_lines(); n > 0; --n) input.consumed();
    if (!ui.wants_input()) input.stop();
    show_output(input);
  }
  input.stop();
  return ui.exit_code();
}

}  // namespace

int run_line_ui(const crypto::identity_v2& identity, driver_config config, const line_ui_settings& settings) {
  // Declared first, destroyed last: the driver's and the reader's threads push into it until
  // they are joined by their destructors.
  event_queue<ui_item> queue;
  const std::string server = host_key(config.host, config.port);
  const std::string name = config.session.name;
  config.handle_signals = true;  // SIGINT/SIGTERM quit cleanly
  client_driver driver(identity, std::move(config), [&queue](client_event e) { queue.push(std::move(e)); });
  if (wants_line_editing(settings)) {
    line_editor editor(pending_typed_lines, [&queue](std::string line) { queue.push(typed_line{std::move(line)}); },
                       [&queue] { queue.push(input_end{}); });
    line_ui ui(settings, server, name, driver, editor.out(), editor.err());
    return run_loop(queue, driver, ui, editor);
  }
  line_ui ui(settings, server, name, driver, std::cout, std::cerr);
  stdin_reader reader(settings.interactive ? pending_typed_lines : pending_piped_lines,
                      [&queue](std::string line) { queue.push(typed_line{std::move(line)}); },
                      [&queue] { queue.push(input_end{}); });
  return run_loop(queue, driver, ui, reader);
}

}  // namespace natter::client
