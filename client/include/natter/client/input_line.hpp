#pragma once
// The editable input line of the full-screen UI (pure): a wide-character buffer with a cursor,
// readline-style editing and a history of submitted lines. The cursor is an index into the
// buffer; columns are computed only when the line is shown (view()), so wide characters edit
// as one unit and display as two columns.
#include <cstddef>
#include <deque>
#include <string>

namespace natter::client {

// Submitted lines remembered for Up/Down.
inline constexpr std::size_t max_input_history = 500;

class input_line {
 public:
  void insert(wchar_t c);
  void insert(std::wstring_view text);
  void left();
  void right();
  void home();                // Home, Ctrl-A
  void end();                 // End, Ctrl-E
  void backspace();           // delete before the cursor
  void del();                 // delete under the cursor (Delete)
  void kill_to_start();       // Ctrl-U
  void kill_to_end();         // Ctrl-K
  void kill_word_back();      // Ctrl-W: the word before the cursor and the spaces after it
  void history_prev();        // Up: older line; the draft being typed is kept
  void history_next();        // Down: newer line, finally the draft again
  // Empties the line and returns it; non-blank lines go into the history (not twice in a row).
  std::wstring submit();
  // Replaces the content (tab completion); the cursor goes to `cursor` (clamped).
  void set(std::wstring text, std::size_t cursor);
  void clear();

  [[nodiscard]] const std::wstring& text() const { return text_; }
  [[nodiscard]] std::size_t cursor() const { return cursor_; }
  [[nodiscard]] bool empty() const { return text_.empty(); }
  [[nodiscard]] const std::deque<std::wstring>& history() const { return history_; }

  // What to show in `columns` columns: the part of the line around the cursor (scrolled
  // horizontally so the cursor stays visible) and the cursor's column within it.
  struct view_result {
    std::wstring visible;
    std::size_t cursor_column = 0;
  };
  [[nodiscard]] view_result view(std::size_t columns) const;

 private:
  std::wstring text_;
  std::size_t cursor_ = 0;
  std::deque<std::wstring> history_;
  std::size_t history_pos_ = 0;  // == history_.size(): editing the draft
  std::wstring draft_;
};

}  // namespace natter::client
