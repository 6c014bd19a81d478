#include "natter/client/input_line.hpp"

#include <algorithm>

#include "natter/client/wide_text.hpp"

namespace natter::client {

void input_line::insert(wchar_t c) {
  text_.insert(text_.begin() + static_cast<std::ptrdiff_t>(cursor_), c);
  ++cursor_;
}

void input_line::insert(std::wstring_view text) {
  text_.insert(cursor_, text);
  cursor_ += text.size();
}

void input_line::left() {
  if (cursor_ > 0) --cursor_;
}

void input_line::right() {
  if (cursor_ < text_.size()) ++cursor_;
}

void input_line::home() { cursor_ = 0; }
void input_line::end() { cursor_ = text_.size(); }

void input_line::backspace() {
  if (cursor_ == 0) return;
  text_.erase(--cursor_, 1);
}

void input_line::del() {
  if (cursor_ < text_.size()) text_.erase(cursor_, 1);
}

void input_line::kill_to_start() {
  text_.erase(0, cursor_);
  cursor_ = 0;
}

void input_line::kill_to_end() { text_.erase(cursor_); }

void input_line::kill_word_back() {
  std::size_t start = cursor_;
  while (start > 0 && text_[start - 1] == L' ') --start;
  while (start > 0 && text_[start - 1] != L' ') --start;
  text_.erase(start, cursor_ - start);
  cursor_ = start;
}

void input_line::history_prev() {
  if (history_pos_ == 0) return;
  if (history_pos_ == history_.size()) draft_ = text_;
  --history_pos_;
  text_ = history_[history_pos_];
  cursor_ = text_.size();
}

void input_line::history_next() {
  if (history_pos_ >= history_.size()) return;
  ++history_pos_;
  text_ = history_pos_ == history_.size() ? draft_ : history_[history_pos_];
  cursor_ = text_.size();
}

std::wstring input_line::submit() {
  std::wstring line = std::move(text_);
  clear();
  const bool blank = line.find_first_not_of(L' ') == std::wstring::npos;
  if (!blank && (history_.empty() || history_.back() != line)) {
    history_.push_back(line);
    if (history_.size() > max_input_history) history_.pop_front();
  }
  history_pos_ = history_.size();
  draft_.clear();
  return line;
}

void input_line::set(std::wstring text, std::size_t cursor) {
  text_ = std::move(text);
  cursor_ = std::min(cursor, text_.size());
}

void input_line::clear() {
  text_.clear();
  cursor_ = 0;
  history_pos_ = history_.size();
}

input_line::view_result input_line::view(std::size_t columns) const {
  if (columns == 0) return {};
  // Scroll so that the cursor (and a wide character under it) fits: drop characters from the
  // left until the text before the cursor leaves one column for the cursor itself.
  std::size_t start = 0;
  std::size_t before = text_width(std::wstring_view(text_).substr(0, cursor_));
  while (start < cursor_ && before + 1 > columns) {
    before -= static_cast<std::size_t>(char_width(text_[start]));
    ++start;
  }
  const std::wstring_view rest = std::wstring_view(text_).substr(start);
  return {std::wstring(fit_width(rest, columns)), before};
}

}  // namespace natter::client
