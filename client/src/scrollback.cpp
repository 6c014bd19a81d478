#include "natter/client/scrollback.hpp"

#include <algorithm>

#include "natter/client/wide_text.hpp"

namespace natter::client {

namespace {

constexpr std::size_t continuation_indent = 2;

// The text as shown: a line we sent says whether it went.
std::wstring shown_text(const log_line& line) {
  switch (line.state) {
    case line_state::pending: return line.text + L" …";
    case line_state::failed: return line.text + L" ✗ not sent: " + line.reason;
    case line_state::none:
    case line_state::sent: break;
  }
  return line.text;
}

// How far continuation rows are indented. A table row of /help ("  /w NAME TEXT      whisper
// …") wraps under its second column, so the descriptions stay one column; others by 2.
std::size_t hanging_indent(const log_line& line, std::size_t width) {
  if (line.kind != line_kind::system || !line.text.starts_with(L"  ")) return continuation_indent;
  const std::size_t first = line.text.find_first_not_of(L' ');
  const std::size_t gap = line.text.find(L"  ", first);
  if (first == std::wstring::npos || gap == std::wstring::npos) return continuation_indent;
  const std::size_t second = line.text.find_first_not_of(L' ', gap);
  if (second == std::wstring::npos) return continuation_indent;
  const std::size_t column = text_width(std::wstring_view(line.text).substr(0, second));
  return column <= width / 2 ? column : continuation_indent;
}

// The line's screen rows at `width`, continuation rows with their indent in place.
std::vector<std::wstring> line_rows(const log_line& line, std::size_t width) {
  const std::size_t indent = hanging_indent(line, width);
  auto rows = wrap(shown_text(line), width, indent);
  for (std::size_t k = 1; k < rows.size(); ++k) rows[k].insert(0, indent, L' ');
  return rows;
}

// The screen rows of one line, with the name located in its first row.
std::vector<scrollback::row> styled_rows(const log_line& line, std::size_t width) {
  std::vector<scrollback::row> out;
  for (auto& text : line_rows(line, width)) {
    scrollback::row r{line.kind, std::move(text), line.state, line.highlight, 0, 0, {}};
    if (out.empty() && !line.nick.empty()) {
      // "<bob> hi", "*bob* (whisper) psst", "-> *bob* yo": the name follows its bracket.
      for (const auto* open : {L"<", L"*"}) {
        const auto at = r.text.find(open + line.nick);
        if (at == std::wstring::npos) continue;
        r.nick_start = at + 1;
        r.nick_length = line.nick.size();
        r.nick = line.nick;
        break;
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace

void scrollback::add(line_kind kind, std::wstring text, std::uint64_t id, line_state state) {
  add(log_line{kind, std::move(text), id, state, {}, {}, false});
}

void scrollback::add(log_line line) {
  lines_.push_back(std::move(line));
  if (lines_.size() > max_lines_) {
    lines_.pop_front();
    if (cleared_ > 0) --cleared_;
  }
  // Keep a scrolled-back view where it is; it can never point above the oldest line.
  if (offset_ > 0) {
    offset_ = std::min(offset_ + 1, lines_.size() - 1);
    ++unseen_;
  }
}

void scrollback::set_view(std::size_t width, std::size_t height) {
  view_width_ = width;
  view_height_ = height;
  offset_ = std::min(offset_, max_offset());  // a wider pane needs fewer rows for the same lines
}

std::size_t scrollback::max_offset() const {
  if (lines_.empty()) return 0;
  if (view_width_ == 0 || view_height_ == 0) return lines_.size() - 1;
  // Count rows from the oldest line down until they fill the pane: those lines are the view at
  // the top, and every line after them lies below it.
  std::size_t rows_used = 0;
  for (std::size_t i = 0; i < lines_.size(); ++i) {
    rows_used += line_rows(lines_[i], view_width_).size();
    if (rows_used >= view_height_) return lines_.size() - (i + 1);
  }
  return 0;  // everything fits: nothing to scroll
}

void scrollback::to_bottom() {
  offset_ = 0;
  unseen_ = 0;
}

void scrollback::clear_view() {
  to_bottom();
  cleared_ = lines_.size();
}

void scrollback::mark(std::uint64_t id, line_state state, std::wstring reason) {
  // Ids grow with time and marks concern recent lines: search from the newest.
  for (auto it = lines_.rbegin(); it != lines_.rend(); ++it) {
    if (it->id != id) continue;
    it->state = state;
    it->reason = std::move(reason);
    return;
  }
}

void scrollback::page_up(std::size_t lines) { offset_ = std::min(offset_ + lines, max_offset()); }

void scrollback::page_down(std::size_t lines) {
  if (lines >= offset_) {
    to_bottom();
  } else {
    offset_ -= lines;
  }
}

std::vector<scrollback::row> scrollback::rows(std::size_t width, std::size_t height) const {
  std::vector<row> out;
  if (width == 0 || height == 0) return out;
  if (offset_ > 0 && offset_ >= max_offset() && view_width_ == width && view_height_ == height) {
    // Scrolled to the top: the oldest line on the top row, the pane filled from there down
    // (offsets count whole lines, so bottom-aligning could hide the top of a wrapped one).
    for (std::size_t i = 0; i < lines_.size() && out.size() < height; ++i) {
      for (auto& r : styled_rows(lines_[i], width)) {
        if (out.size() == height) break;
        out.push_back(std::move(r));
      }
    }
    return out;
  }
  // Built bottom-up, reversed at the end.
  // At the bottom, /clear hides what came before it; scrolled back, everything is there.
  const std::size_t first = offset_ == 0 ? cleared_ : 0;
  for (std::size_t i = lines_.size() - std::min(offset_, lines_.size()); i > first && out.size() < height; --i) {
    const log_line& line = lines_[i - 1];
    auto wrapped = styled_rows(line, width);
    for (std::size_t k = wrapped.size(); k > 0 && out.size() < height; --k) {
      out.push_back(std::move(wrapped[k - 1]));
    }
  }
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace natter::client
