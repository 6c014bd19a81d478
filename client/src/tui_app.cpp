#include "natter/client/tui_app.hpp"

#include <fcntl.h>
#include <langinfo.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <chrono>
#include <clocale>
#include <cstring>
#include <iostream>

#include "natter/client/action_runner.hpp"
#include "natter/client/event_queue.hpp"
#include "natter/client/known_hosts.hpp"
#include "natter/client/tui_screen.hpp"
#include "natter/client/tui_state.hpp"
#include "natter/clock.hpp"

namespace natter::client {

namespace {

// Responsiveness under load: each loop round handles every pending key first, then at most
// this many events, so a burst of thousands of messages is worked off over many rounds and a
// key press waits for one chunk at most. Drawing is coalesced to one frame per frame_interval
// (~30/s): a burst costs one redraw per frame, not one per message.
constexpr std::size_t max_events_per_round = 256;
constexpr std::size_t max_keys_per_round = 256;
constexpr auto frame_interval = std::chrono::milliseconds(33);
constexpr auto idle_wait = std::chrono::milliseconds(250);  // also bounds how late a resize is seen
constexpr auto pacing_wait = std::chrono::milliseconds(20);  // while lines wait for the server's rate

// A self-pipe: the driver's I/O thread writes a byte after queueing an event, so the UI thread,
// sleeping in poll() on stdin and this pipe, wakes at once for either.
class wake_pipe {
 public:
  wake_pipe() {
    if (::pipe2(fds_, O_NONBLOCK | O_CLOEXEC) != 0) {
      throw std::runtime_error(std::string("cannot create a pipe: ") + std::strerror(errno));
    }
  }
  ~wake_pipe() {
    ::close(fds_[0]);
    ::close(fds_[1]);
  }
  wake_pipe(const wake_pipe&) = delete;
  wake_pipe& operator=(const wake_pipe&) = delete;

  // A full pipe already guarantees a wake-up, so a failed write needs no handling.
  void notify() {
    const char byte = 1;
    [[maybe_unused]] const auto n = ::write(fds_[1], &byte, 1);
  }
  void drain() {
    char buffer[256];
    while (::read(fds_[0], buffer, sizeof buffer) > 0) {
    }
  }
  [[nodiscard]] int read_fd() const { return fds_[0]; }

 private:
  int fds_[2] = {-1, -1};
};

// ncursesw shows and reads UTF-8 only in a UTF-8 locale. natter's text is UTF-8 by protocol,
// so if the environment names none (e.g. LANG unset), fall back to C.UTF-8 for character
// handling. Numbers stay in the "C" locale: nothing natter prints or parses is localised.
void set_locale() {
  std::setlocale(LC_ALL, "");
  if (std::strcmp(nl_langinfo(CODESET), "UTF-8") != 0) std::setlocale(LC_CTYPE, "C.UTF-8");
  std::setlocale(LC_NUMERIC, "C");
}

class tui_app {
 public:
  tui_app(const crypto::identity_v2& identity, driver_config config, const tui_settings& settings)
      : settings_(settings),
        state_(tui_config{host_key(config.host, config.port), config.session.name, settings.own_fingerprint,
                          settings.trace, false, settings.preferences},
               load_verified_or_empty(settings.verified_path, store_error_)),
        screen_(settings.colours),
        driver_(identity, with_signals(std::move(config)), [this](client_event e) {
          // Runs on the I/O thread: queue, then wake the UI thread.
          queue_.push(std::move(e));
          wake_.notify();
        }) {
    for (const auto& notice : settings.startup_notices) state_.report(line_kind::system, "* " + notice);
    if (!store_error_.empty()) state_.report(line_kind::error, "! " + store_error_);
  }

  int run() {
    driver_.start();
    bool dirty = true;
    auto last_draw = std::chrono::steady_clock::now() - frame_interval;
    while (!state_.finished()) {
      dirty |= handle_keys();
      std::size_t handled = 0;
      while (handled < max_events_per_round) {
        auto event = queue_.try_pop();
        if (!event) break;
        state_.on_event(*event);
        ++handled;
      }
      for (auto& action : state_.take_actions()) perform(action);  // e.g. lines typed before the join
      const bool was_pacing = state_.pacing();
      for (auto& action : state_.tick()) perform(action);  // pasted lines, at the server's rate
      dirty |= handled > 0 || was_pacing || state_.reconnecting();  // the countdown moves
      // A burst of mentions rings once, not once per line.
      if (state_.take_bells() > 0) screen_.bell();
      const auto now = std::chrono::steady_clock::now();
      if (dirty && now - last_draw >= frame_interval) {
        screen_.draw(state_);
        last_draw = now;
        dirty = false;
      }
      if (state_.finished()) break;
      std::chrono::milliseconds wait = idle_wait;
      if (handled == max_events_per_round) {
        wait = std::chrono::milliseconds(0);  // more events are waiting: just check the keyboard
      } else if (state_.pacing()) {
        wait = pacing_wait;  // the next paced line is due within a token's time
      } else if (dirty) {
        wait = std::chrono::duration_cast<std::chrono::milliseconds>(frame_interval - (now - last_draw)) +
               std::chrono::milliseconds(1);
      }
      pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {wake_.read_fd(), POLLIN, 0}};
      ::poll(fds, 2, static_cast<int>(wait.count()));  // EINTR (e.g. SIGWINCH) just loops
      wake_.drain();
    }
    return state_.exit_code();
  }

  [[nodiscard]] const tui_state& state() const { return state_; }

 private:
  static driver_config with_signals(driver_config config) {
    config.handle_signals = true;  // SIGTERM (and SIGINT from kill) quit cleanly
    return config;
  }

  // Returns true if anything changed on screen.
  bool handle_keys() {
    bool changed = false;
    for (std::size_t i = 0; i < max_keys_per_round; ++i) {
      const auto input = screen_.read();
      if (!input) break;
      changed = true;
      if (input->what != screen_input::kind::key) {
        screen_.invalidate();  // resize or Ctrl-L: repaint every cell
        continue;
      }
      for (auto& action : state_.on_key(input->key, natter::wall_ms())) perform(action);
    }
    return changed;
  }

  void perform(tui_action& action) {
    if (auto error = run_action(action, driver_, settings_.verified_path)) state_.report(line_kind::error, *error);
  }

  const tui_settings& settings_;
  std::string store_error_;
  tui_state state_;
  wake_pipe wake_;
  event_queue<client_event> queue_;
  // The screen is set up before the driver starts and, declared before it, is torn down after
  // the driver has stopped and joined its thread (which only touches queue_ and wake_).
  tui_screen screen_;
  client_driver driver_;
};

}  // namespace

bool terminal_fits_tui() {
  if (::isatty(STDIN_FILENO) != 1 || ::isatty(STDOUT_FILENO) != 1) return false;
  winsize size{};
  if (::ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) != 0) return false;
  return size.ws_col >= tui_min_columns && size.ws_row >= tui_min_rows;
}

int run_tui(const crypto::identity_v2& identity, driver_config config, const tui_settings& settings) {
  set_locale();
  std::vector<std::string> failures;
  int code = 0;
  {
    tui_app app(identity, std::move(config), settings);
    code = app.run();
    failures = app.state().failures();
  }
  // The screen is gone now: repeat why the session failed where it stays readable.
  for (const auto& f : failures) std::cerr << "natter: " << f << "\n";
  return code;
}

}  // namespace natter::client
