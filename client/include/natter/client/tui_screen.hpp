#pragma once
// The only code that talks to ncurses (ncursesw, the wide-character build): it turns terminal
// input into key_press values and draws a tui_state. Layout:
//
//   +------------------------------------------+-------------+
//   | message pane (scrollback, wrapped)        | online (N)  |
//   |                                           | ✓ alice     |
//   |                                           |   bob       |
//   +------------------------------------------+-------------+
//   | status: server | name | key FINGERPRINT state  (reverse video)
//   | > input line
//
// Only one thread (the UI thread) may use it: ncurses is not thread-safe.
#include <cstddef>
#include <optional>

#include "natter/client/config_file.hpp"
#include "natter/client/tui_state.hpp"

namespace natter::client {

struct screen_input {
  enum class kind { key, resize, redraw } what = kind::key;
  key_press key;
};

class tui_screen {
 public:
  // Takes over the terminal (initscr). The locale must already be set (see run_tui).
  // `colours` (the config file's [colours]): disabled gives the looks without colour, as on a
  // terminal that has none; a bright colour the terminal lacks is shown as its plain one.
  explicit tui_screen(colour_scheme colours = {});
  ~tui_screen();  // gives the terminal back (endwin)
  tui_screen(const tui_screen&) = delete;
  tui_screen& operator=(const tui_screen&) = delete;

  // The next pending input, without waiting; nullopt when there is none.
  [[nodiscard]] std::optional<screen_input> read();
  // Redraws everything (only what changed reaches the terminal: ncurses diffs the screen).
  // Tells `state` the pane height for Page Up/Down.
  void draw(tui_state& state);
  // Forgets what the terminal shows, so the next draw repaints all of it (Ctrl-L, resize).
  void invalidate();
  // Rings the terminal's bell (BEL); terminals that know urgency hints (xterm's bellIsUrgent,
  // VTE, kitty, tmux's bell flag) mark the window too.
  void bell();

 private:
  bool colors_ = false;
  std::size_t nick_colours_ = 0;  // colour pairs for names, from pair_first_nick on
};

}  // namespace natter::client
