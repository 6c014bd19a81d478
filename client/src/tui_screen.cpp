#include "natter/client/tui_screen.hpp"

#include <ncurses.h>

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "natter/client/nick_colour.hpp"
#include "natter/client/wide_text.hpp"

namespace natter::client {

namespace {

// The config file names colours by their ANSI numbers, which ncurses' constants are.
static_assert(COLOR_BLACK == 0 && COLOR_RED == 1 && COLOR_GREEN == 2 && COLOR_YELLOW == 3 && COLOR_BLUE == 4 &&
              COLOR_MAGENTA == 5 && COLOR_CYAN == 6 && COLOR_WHITE == 7);

// Color pairs; without color support the attributes alone keep the kinds apart.
enum pair : short { pair_whisper = 1, pair_system, pair_error, pair_own, pair_trace, pair_verified, pair_highlight,
                    pair_first_nick };
// The names' colours (nick_colour picks one); bright ones too where the terminal has 16.
constexpr short nick_palette[] = {COLOR_RED, COLOR_GREEN, COLOR_YELLOW, COLOR_BLUE, COLOR_MAGENTA, COLOR_CYAN};
constexpr std::size_t nick_palette_size = sizeof nick_palette / sizeof nick_palette[0];
constexpr short bright = 8;

constexpr int min_columns = 20;
constexpr int min_rows = 5;

int control(char c) { return c & 0x1F; }

// Bracketed paste (xterm's mode 2004, which tmux, VTE, kitty and others share): the terminal
// wraps pasted text in ESC[200~ … ESC[201~, which ncurses reports as these two key codes.
constexpr int paste_begin_code = KEY_MAX + 1;
constexpr int paste_end_code = KEY_MAX + 2;
constexpr const char* bracketed_paste_on = "\033[?2004h";
constexpr const char* bracketed_paste_off = "\033[?2004l";

std::optional<key_press> map_key(int status, wint_t ch) {
  if (status == KEY_CODE_YES) {
    switch (ch) {
      case KEY_ENTER: return key_press{key_code::enter};
      case KEY_BACKSPACE: return key_press{key_code::backspace};
      case KEY_DC: return key_press{key_code::del};
      case KEY_LEFT: return key_press{key_code::left};
      case KEY_RIGHT: return key_press{key_code::right};
      case KEY_HOME: return key_press{key_code::home};
      case KEY_END: return key_press{key_code::end};
      case KEY_UP: return key_press{key_code::up};
      case KEY_DOWN: return key_press{key_code::down};
      case KEY_PPAGE: return key_press{key_code::page_up};
      case KEY_NPAGE: return key_press{key_code::page_down};
      case paste_begin_code: return key_press{key_code::paste_begin};
      case paste_end_code: return key_press{key_code::paste_end};
      default: return std::nullopt;
    }
  }
  const auto c = static_cast<int>(ch);
  if (c == '\n' || c == '\r') return key_press{key_code::enter};
  if (c == '\t') return key_press{key_code::tab};
  if (c == 0x7F || c == control('H')) return key_press{key_code::backspace};
  if (c == control('A')) return key_press{key_code::home};
  if (c == control('E')) return key_press{key_code::end};
  if (c == control('B')) return key_press{key_code::left};
  if (c == control('F')) return key_press{key_code::right};
  if (c == control('P')) return key_press{key_code::up};
  if (c == control('N')) return key_press{key_code::down};
  if (c == control('U')) return key_press{key_code::ctrl_u};
  if (c == control('K')) return key_press{key_code::ctrl_k};
  if (c == control('W')) return key_press{key_code::ctrl_w};
  if (c == control('D')) return key_press{key_code::ctrl_d};
  if (c == control('C')) return key_press{key_code::ctrl_c};
  if (c < 0x20) return std::nullopt;  // Esc and other controls: ignored
  return key_press{key_code::character, static_cast<wchar_t>(ch)};
}

// Writes `text` at (y, x), cut to `columns` display columns.
void put(int y, int x, std::wstring_view text, int columns) {
  if (columns <= 0) return;
  std::wstring fitted(fit_width(text, static_cast<std::size_t>(columns)));
  std::replace(fitted.begin(), fitted.end(), L'\t', L' ');  // one column, as char_width counts it
  mvaddnwstr(y, x, fitted.c_str(), static_cast<int>(fitted.size()));
}

}  // namespace

tui_screen::tui_screen(colour_scheme colours) {
  if (initscr() == nullptr) throw std::runtime_error("cannot initialise the terminal");
  raw();  // Ctrl-C, Ctrl-W, Ctrl-U reach us as keys instead of signals and tty editing
  noecho();
  nonl();
  keypad(stdscr, TRUE);
  define_key("\033[200~", paste_begin_code);
  define_key("\033[201~", paste_end_code);
  // A terminal without the mode ignores the request; pastes then arrive as typing.
  std::fputs(bracketed_paste_on, stdout);
  std::fflush(stdout);
  nodelay(stdscr, TRUE);  // read() never blocks: the loop waits in poll()
  set_escdelay(25);
  scrollok(stdscr, FALSE);
  if (colours.enabled && has_colors()) {
    start_color();
    use_default_colors();
    // A bright colour (8-15) on a terminal of 8 falls back to its plain one.
    const auto usable = [](short c) { return c >= COLORS ? static_cast<short>(c % 8) : c; };
    init_pair(pair_whisper, usable(colours.whisper), -1);
    init_pair(pair_system, COLOR_CYAN, -1);
    init_pair(pair_error, COLOR_RED, -1);
    init_pair(pair_own, usable(colours.own), -1);
    init_pair(pair_trace, COLOR_BLUE, -1);
    init_pair(pair_verified, COLOR_GREEN, -1);
    init_pair(pair_highlight, COLOR_YELLOW, -1);
    nick_colours_ = COLORS >= 16 && COLOR_PAIRS > pair_first_nick + 2 * static_cast<int>(nick_palette_size)
                        ? 2 * nick_palette_size
                        : nick_palette_size;
    for (std::size_t i = 0; i < nick_colours_; ++i) {
      const short colour = static_cast<short>(nick_palette[i % nick_palette_size] + (i >= nick_palette_size ? bright : 0));
      init_pair(static_cast<short>(pair_first_nick + i), colour, -1);
    }
    colors_ = true;
  }
}

tui_screen::~tui_screen() {
  std::fputs(bracketed_paste_off, stdout);  // the shell after us wants pastes as plain text
  std::fflush(stdout);
  endwin();
}

std::optional<screen_input> tui_screen::read() {
  while (true) {
    wint_t ch = 0;
    const int status = get_wch(&ch);
    if (status == ERR) return std::nullopt;
    if (status == KEY_CODE_YES && ch == KEY_RESIZE) return screen_input{screen_input::kind::resize, {}};
    if (status == OK && static_cast<int>(ch) == control('L')) return screen_input{screen_input::kind::redraw, {}};
    if (auto key = map_key(status, ch)) return screen_input{screen_input::kind::key, *key};
  }
}

void tui_screen::invalidate() { clearok(curscr, TRUE); }

void tui_screen::bell() { beep(); }

void tui_screen::draw(tui_state& state) {
  int rows = 0;
  int columns = 0;
  getmaxyx(stdscr, rows, columns);
  erase();
  if (rows < min_rows || columns < min_columns) {
    mvaddstr(0, 0, "terminal too small");
    refresh();
    return;
  }
  const int user_width = std::clamp(columns / 5, 12, 24);
  const int message_width = columns - user_width - 1;
  const int pane_rows = rows - 2;
  state.set_pane_size(static_cast<std::size_t>(message_width), static_cast<std::size_t>(pane_rows));

  // Message pane: each kind has its own look, so whispers and notices stand out from the
  // conversation even without color.
  const auto lines = state.log().rows(static_cast<std::size_t>(message_width), static_cast<std::size_t>(pane_rows));
  int y = pane_rows - static_cast<int>(lines.size());
  for (const auto& line : lines) {
    attr_t attributes = A_NORMAL;
    short color = 0;
    switch (line.kind) {
      case line_kind::message: break;
      case line_kind::own_message: color = pair_own; break;
      case line_kind::whisper_in: color = pair_whisper; attributes = A_BOLD; break;
      case line_kind::whisper_out: color = pair_whisper; break;
      case line_kind::system: color = pair_system; attributes = colors_ ? A_NORMAL : A_DIM; break;
      case line_kind::error: color = pair_error; attributes = A_BOLD; break;
      case line_kind::trace: color = pair_trace; attributes = A_DIM; break;
    }
    if (line.highlight) {  // about us: stands out in every kind
      if (line.kind == line_kind::message) color = pair_highlight;
      attributes |= A_BOLD | (colors_ ? A_NORMAL : A_STANDOUT);
    }
    if (line.state == line_state::pending) attributes |= A_DIM;  // not acknowledged yet
    if (line.state == line_state::failed) {
      color = pair_error;
      attributes = A_BOLD;
    }
    attr_set(attributes, colors_ ? color : 0, nullptr);
    put(y, 0, line.text, message_width);
    if (colors_ && line.nick_length > 0 && line.state != line_state::failed) {
      // The writer's name in its own colour, drawn over the row at its column.
      const auto column = static_cast<int>(text_width(std::wstring_view(line.text).substr(0, line.nick_start)));
      const auto pair = static_cast<short>(pair_first_nick + nick_colour(narrow(line.nick), nick_colours_));
      attr_set(attributes | A_BOLD, pair, nullptr);
      put(y, column, std::wstring_view(line.text).substr(line.nick_start, line.nick_length), message_width - column);
    }
    ++y;
  }
  attr_set(A_NORMAL, 0, nullptr);
  mvvline(0, message_width, ACS_VLINE, pane_rows);

  // User list.
  const int x = message_width + 1;
  const auto users = state.users();
  attron(A_BOLD);
  put(0, x + 1, widen("online (" + std::to_string(state.online_count()) + ")"), user_width - 1);
  attroff(A_BOLD);
  const auto room = static_cast<std::size_t>(pane_rows - 1);
  for (std::size_t i = 0; i < users.size() && i < room; ++i) {
    const int row = static_cast<int>(i) + 1;
    if (i + 1 == room && users.size() > room) {
      put(row, x + 1, widen("… " + std::to_string(users.size() - i) + " more"), user_width - 1);
      break;
    }
    if (users[i].verified) {
      attr_set(A_BOLD, colors_ ? pair_verified : 0, nullptr);
      put(row, x, L"✓", 1);
    }
    attr_set(users[i].self ? A_BOLD : A_NORMAL, 0, nullptr);
    put(row, x + 1, widen(" " + users[i].name), user_width - 1);
  }
  attr_set(A_NORMAL, 0, nullptr);

  // Status line.
  attron(A_REVERSE);
  mvhline(rows - 2, 0, ' ', columns);
  put(rows - 2, 0, widen(" " + state.status(static_cast<std::size_t>(columns - 1))), columns);
  attroff(A_REVERSE);

  // Input line; the last column stays free so the cursor fits after the text.
  const std::wstring prompt = state.prompt();
  const auto prompt_width = static_cast<int>(text_width(prompt));
  attron(A_BOLD);
  put(rows - 1, 0, prompt, columns);
  attroff(A_BOLD);
  const int input_columns = std::max(1, columns - prompt_width - 1);
  const auto view = state.input().view(static_cast<std::size_t>(input_columns));
  put(rows - 1, prompt_width, view.visible, input_columns);
  move(rows - 1, std::min(columns - 1, prompt_width + static_cast<int>(view.cursor_column)));
  wnoutrefresh(stdscr);
  doupdate();
}

}  // namespace natter::client
