#pragma once
// Line editing for the plain mode on a terminal (--plain with stdin and stdout a tty): history
// (Up/Down), Left/Right, Home/End, Ctrl-A/E/U/K/W and the rest of emacs-style editing, from
// libedit (BSD licence, Debian's libedit-dev). Pipes never get here: stdin_reader reads them,
// byte for byte as before. The interface is stdin_reader's, so line_app drives either.
//
// The design, and why. One thread, the editor's, owns the terminal: it runs el_wgets(), and
// everything natter prints in this mode reaches the terminal through that thread too. libedit
// reads keys through our EL_GETCFN function, which waits on stdin *and* on a wake-up pipe: when
// the UI thread has something to print (print_above), the function erases the line being
// edited, prints above it and has libedit redraw the line (EL_REFRESH), then goes back to
// waiting for keys. So messages arrive while a line is being typed and the line stays intact.
// (readline's callback interface, rl_callback_read_char, would keep everything on the UI thread,
// but libedit 3.1's implementation of it does not read escape sequences: Up inserts "^[[A".)
// The last partial line printed (a "[y/N] " question) becomes libedit's prompt, so a question
// stays in front of the answer being typed.
//
// Threads: the constructor, start(), out(), err(), print_above() and the destructor on the UI
// thread; on_line and on_end run on the editor's thread (they should only queue); consumed()
// and stop() from any thread.
#include <cstddef>
#include <functional>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

struct editline;

namespace natter::client {

// How many lines Up can recall (in memory only: typed lines are never written to disk).
inline constexpr int line_history_size = 500;

class line_editor {
 public:
  using line_handler = std::function<void(std::string line)>;
  using end_handler = std::function<void()>;

  // `max_pending`: lines handed over but not yet consumed() before the editor stops reading
  // (as stdin_reader's). Throws std::runtime_error if libedit cannot start.
  line_editor(std::size_t max_pending, line_handler on_line, end_handler on_end);
  ~line_editor();  // stops, joins, prints what is left; the terminal is in its normal mode again
  line_editor(const line_editor&) = delete;
  line_editor& operator=(const line_editor&) = delete;

  void start();
  void consumed();
  void stop();

  // Streams for the UI to write to instead of std::cout and std::cerr. What it writes is kept,
  // in order, until print_above() hands it to the editor's thread.
  [[nodiscard]] std::ostream& out() { return out_; }
  [[nodiscard]] std::ostream& err() { return err_; }
  void print_above();

 private:
  struct piece {
    bool to_err = false;
    std::string text;
  };
  // Appends to a list of pieces, so stdout and stderr keep their order relative to each other.
  class gathering_buffer final : public std::streambuf {
   public:
    gathering_buffer(std::vector<piece>& pieces, bool to_err) : pieces_(pieces), to_err_(to_err) {}

   protected:
    int_type overflow(int_type c) override;
    std::streamsize xsputn(const char* s, std::streamsize n) override;

   private:
    std::vector<piece>& pieces_;
    bool to_err_;
  };

  void run();
  bool wait_for_room();  // between lines: false once stopped
  void wake();
  // On the editor's thread: prints what print_above() handed over. `editing`: a line is on the
  // screen, to be erased first and redrawn after.
  void print_pending(bool editing);
  static int read_key(editline* el, wchar_t* out);
  static wchar_t* prompt_of(editline* el);

  std::size_t max_pending_;
  line_handler on_line_;
  end_handler on_end_;

  // UI thread only.
  std::vector<piece> gathered_;
  gathering_buffer out_buffer_{gathered_, false};
  gathering_buffer err_buffer_{gathered_, true};
  std::ostream out_{&out_buffer_};
  std::ostream err_{&err_buffer_};

  std::mutex mutex_;  // guards what follows
  std::vector<piece> handed_over_;
  std::size_t pending_ = 0;
  bool stop_ = false;

  int wake_pipe_[2] = {-1, -1};
  editline* el_ = nullptr;    // the editor's thread only, once started
  std::wstring prompt_;       // the editor's thread only
  std::thread thread_;
};

}  // namespace natter::client
