#include "natter/client/line_editor.hpp"

#include <fcntl.h>
#include <histedit.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <clocale>
#include <cstdio>
#include <cwchar>
#include <stdexcept>

namespace natter::client {

namespace {
std::wstring widen(const std::string& text) {
  std::wstring out;
  std::mbstate_t state{};
  const char* p = text.data();
  const char* end = p + text.size();
  while (p < end) {
    wchar_t wc = 0;
    const std::size_t n = std::mbrtowc(&wc, p, static_cast<std::size_t>(end - p), &state);
    if (n == static_cast<std::size_t>(-1) || n == static_cast<std::size_t>(-2)) break;  // printable() made it UTF-8
    out.push_back(wc);
    p += n == 0 ? 1 : n;
  }
  return out;
}
}  // namespace

line_editor::line_editor(std::size_t max_pending, line_handler on_line, end_handler on_end)
    : max_pending_(max_pending), on_line_(std::move(on_line)), on_end_(std::move(on_end)) {
  if (::pipe2(wake_pipe_, O_CLOEXEC | O_NONBLOCK) != 0) throw std::runtime_error("line editor: no pipe");
  // libedit's wide characters and our key decoding follow the locale, as the full screen does.
  std::setlocale(LC_CTYPE, "");
}

line_editor::~line_editor() {
  stop();
  if (thread_.joinable()) thread_.join();
  // Whatever was printed after the last hand-over (the goodbye), now on a terminal in its
  // normal mode.
  print_above();
  {
    std::lock_guard lock(mutex_);
    for (const auto& p : handed_over_) std::fputs(p.text.c_str(), p.to_err ? stderr : stdout);
    handed_over_.clear();
  }
  std::fflush(stdout);
  std::fflush(stderr);
  ::close(wake_pipe_[0]);
  ::close(wake_pipe_[1]);
}

void line_editor::start() { thread_ = std::thread([this] { run(); }); }

void line_editor::consumed() {
  {
    std::lock_guard lock(mutex_);
    if (pending_ > 0) --pending_;
  }
  wake();
}

void line_editor::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  wake();
}

void line_editor::wake() {
  const char byte = 1;
  (void)!::write(wake_pipe_[1], &byte, 1);  // a full pipe is already a wake-up
}

void line_editor::print_above() {
  if (gathered_.empty()) return;
  {
    std::lock_guard lock(mutex_);
    for (auto& p : gathered_) handed_over_.push_back(std::move(p));
  }
  gathered_.clear();
  wake();
}

// ---- the editor's thread -----------------------------------------------------------------------

void line_editor::run() {
  el_ = el_init("natter", stdin, stdout, stderr);
  if (el_ == nullptr) {
    on_end_();
    return;
  }
  HistoryW* history = history_winit();
  HistEventW event;
  history_w(history, &event, H_SETSIZE, line_history_size);
  history_w(history, &event, H_SETUNIQUE, 1);
  el_wset(el_, EL_HIST, history_w, history);
  el_set(el_, EL_EDITOR, "emacs");
  el_set(el_, EL_SIGNAL, 0);  // natter handles SIGINT/SIGTERM itself (client_driver)
  el_set(el_, EL_CLIENTDATA, this);
  el_wset(el_, EL_PROMPT, &line_editor::prompt_of);
  el_wset(el_, EL_GETCFN, &line_editor::read_key);
  el_source(el_, nullptr);  // the user's ~/.editrc, as every libedit program reads it

  while (wait_for_room()) {
    int count = 0;
    const wchar_t* line = el_wgets(el_, &count);
    {
      std::lock_guard lock(mutex_);
      if (stop_) break;
    }
    if (line == nullptr || count <= 0) {  // Ctrl-D on an empty line, or stdin closed
      on_end_();
      break;
    }
    std::wstring text(line, static_cast<std::size_t>(count));
    while (!text.empty() && (text.back() == L'\n' || text.back() == L'\r')) text.pop_back();
    if (!text.empty()) history_w(history, &event, H_ENTER, text.c_str());
    // The question, if one was shown, has been answered: its text stays where it was.
    prompt_.clear();
    std::string utf8;
    std::mbstate_t state{};
    char buffer[MB_LEN_MAX];
    for (wchar_t wc : text) {
      const std::size_t n = std::wcrtomb(buffer, wc, &state);
      if (n != static_cast<std::size_t>(-1)) utf8.append(buffer, n);
    }
    {
      std::lock_guard lock(mutex_);
      ++pending_;
    }
    on_line_(std::move(utf8));
  }
  el_end(el_);  // the terminal's normal mode again
  el_ = nullptr;
  history_wend(history);
}

bool line_editor::wait_for_room() {
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (stop_) return false;
      if (pending_ < max_pending_) return true;
    }
    // Nothing is being edited: print as it comes, and wait to be woken.
    print_pending(false);
    pollfd fd{wake_pipe_[0], POLLIN, 0};
    if (::poll(&fd, 1, 100) > 0) {
      char drain[64];
      while (::read(wake_pipe_[0], drain, sizeof drain) > 0) {
      }
    }
  }
}

void line_editor::print_pending(bool editing) {
  std::vector<piece> pieces;
  {
    std::lock_guard lock(mutex_);
    pieces.swap(handed_over_);
  }
  if (pieces.empty()) return;
  // The text after the last newline is not printed: libedit shows it as the prompt.
  std::string all;
  for (const auto& p : pieces) all += p.text;
  const auto last_newline = all.rfind('\n');
  std::size_t left = last_newline == std::string::npos ? 0 : last_newline + 1;
  const std::string partial = all.substr(left);
  // Erase the line being edited (the cursor may be anywhere on it).
  if (editing) std::fputs("\r\x1b[K", stdout);
  std::fflush(stdout);
  for (const auto& p : pieces) {
    const std::size_t n = std::min(left, p.text.size());
    if (n > 0) {
      std::FILE* stream = p.to_err ? stderr : stdout;
      std::fwrite(p.text.data(), 1, n, stream);
      std::fflush(stream);
    }
    left -= n;
  }
  if (!partial.empty()) prompt_ = widen(partial);
  if (editing) el_set(el_, EL_REFRESH);  // the prompt and the line again, the cursor where it was
}

int line_editor::read_key(editline* el, wchar_t* out) {
  void* data = nullptr;
  el_get(el, EL_CLIENTDATA, &data);
  auto* self = static_cast<line_editor*>(data);
  std::mbstate_t state{};
  for (;;) {
    {
      std::lock_guard lock(self->mutex_);
      if (self->stop_) return 0;  // el_wgets returns, and run() sees stop_
    }
    // What was handed over is printed before waiting: its wake-up byte may already have been
    // drained by wait_for_room(), which is woken by consumed() through the same pipe.
    self->print_pending(true);
    pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {self->wake_pipe_[0], POLLIN, 0}};
    const int ready = ::poll(fds, 2, 100);
    if (ready < 0 && errno != EINTR) return -1;
    if (ready <= 0) continue;
    if (fds[1].revents != 0) {
      char drain[64];
      while (::read(self->wake_pipe_[0], drain, sizeof drain) > 0) {
      }
      self->print_pending(true);
    }
    if (fds[0].revents == 0) continue;
    char byte = 0;
    const auto n = ::read(STDIN_FILENO, &byte, 1);
    if (n == 0) return 0;  // end of input
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      return -1;
    }
    wchar_t wc = 0;
    const std::size_t used = std::mbrtowc(&wc, &byte, 1, &state);
    if (used == static_cast<std::size_t>(-2)) continue;  // the middle of a UTF-8 sequence
    if (used == static_cast<std::size_t>(-1)) {  // not UTF-8: take the byte as it is
      state = {};
      wc = static_cast<unsigned char>(byte);
    }
    *out = wc;
    return 1;
  }
}

wchar_t* line_editor::prompt_of(editline* el) {
  void* data = nullptr;
  el_get(el, EL_CLIENTDATA, &data);
  return static_cast<line_editor*>(data)->prompt_.data();  // libedit only reads it
}

line_editor::gathering_buffer::int_type line_editor::gathering_buffer::overflow(int_type c) {
  if (traits_type::eq_int_type(c, traits_type::eof())) return traits_type::not_eof(c);
  const char ch = traits_type::to_char_type(c);
  xsputn(&ch, 1);
  return c;
}

std::streamsize line_editor::gathering_buffer::xsputn(const char* s, std::streamsize n) {
  if (pieces_.empty() || pieces_.back().to_err != to_err_) pieces_.push_back({to_err_, {}});
  pieces_.back().text.append(s, static_cast<std::size_t>(n));
  return n;
}

}  // namespace natter::client
