#pragma once
// The message pane's model (pure): a bounded log of styled lines and a scroll position.
//
// History is bounded at max_scrollback_lines logical lines (oldest dropped first), so a chatty
// room or a flood cannot grow memory without limit. The scroll position counts logical lines
// up from the newest; 0 follows new messages. While scrolled back, new lines do not move the
// view (the offset grows with them), like a terminal's scrollback.
#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace natter::client {

inline constexpr std::size_t max_scrollback_lines = 5000;

enum class line_kind {
  message,      // a broadcast from someone else
  own_message,  // a broadcast we sent
  whisper_in,   // a whisper to us
  whisper_out,  // a whisper we sent
  system,       // joins, leaves, answers to commands, notices
  error,        // errors, refusals, lost connection
  trace,        // --trace frames
};

// Where a line we sent stands, as its row shows it: pending lines end in " …", failed ones
// in " ✗ not sent: REASON". (conversation_output's send_state, without including it here.)
enum class line_state { none, pending, sent, failed };

struct log_line {
  line_kind kind = line_kind::system;
  std::wstring text;
  std::uint64_t id = 0;  // nonzero: mark() may change its state
  line_state state = line_state::none;
  std::wstring reason;   // failed: why
  std::wstring nick;     // chat: who wrote it, so the screen can colour the name
  bool highlight = false;  // about us (a mention or a whisper to us)
};

class scrollback {
 public:
  explicit scrollback(std::size_t max_lines = max_scrollback_lines) : max_lines_(max_lines) {}

  void add(log_line line);
  void add(line_kind kind, std::wstring text, std::uint64_t id = 0, line_state state = line_state::none);
  // A line added with `id` changes state; nothing happens if it has left the log already.
  void mark(std::uint64_t id, line_state state, std::wstring reason = {});
  // The pane's size, so that scrolling back stops with the oldest line at the top of the pane
  // rather than scrolling on into blank rows above it. Until it is set, a line is a row.
  void set_view(std::size_t width, std::size_t height);
  void page_up(std::size_t lines);
  void page_down(std::size_t lines);
  void to_bottom();
  // /clear: the pane starts empty below what is there now; PageUp still shows the older lines.
  void clear_view();

  [[nodiscard]] std::size_t size() const { return lines_.size(); }
  [[nodiscard]] const log_line& at(std::size_t i) const { return lines_[i]; }
  [[nodiscard]] std::size_t offset() const { return offset_; }
  // Lines that arrived while scrolled back: "new messages below".
  [[nodiscard]] std::size_t unseen() const { return unseen_; }

  // The screen rows for a pane of `width` x `height`: the newest lines that fit above the
  // scroll position, wrapped (continuation rows indented by 2), top row first. Fewer than
  // `height` rows when the log is short; then they belong at the bottom of the pane.
  struct row {
    line_kind kind;
    std::wstring text;
    line_state state = line_state::none;
    bool highlight = false;
    // Where the writer's name is in `text` (characters; nick_length 0: nowhere).
    std::size_t nick_start = 0;
    std::size_t nick_length = 0;
    std::wstring nick;
  };
  [[nodiscard]] std::vector<row> rows(std::size_t width, std::size_t height) const;

 private:
  std::size_t max_lines_;
  std::deque<log_line> lines_;
  // The largest offset that still fills the pane from its top row (see set_view).
  [[nodiscard]] std::size_t max_offset() const;

  std::size_t offset_ = 0;
  std::size_t unseen_ = 0;
  std::size_t view_width_ = 0;   // 0: not known yet
  std::size_t view_height_ = 0;
  std::size_t cleared_ = 0;      // lines before this index are hidden at the bottom (/clear)
};

}  // namespace natter::client
