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

}  // namespace

void scrollback::add(line_kind kind, std::wstring text, std::uint64_t id, line_state state) {
  lines_.push_back({kind, std::move(text), id, state, {}});
  if (lines_.size() > max_lines_) lines_.pop_front();
  // Keep a scrolled-back view where it is; it can never point above the oldest line.
  if (offset_ > 0) offset_ = std::min(offset_ + 1, lines_.size() - 1);
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

void scrollback::page_up(std::size_t lines) {
  if (lines_.empty()) return;
  offset_ = std::min(offset_ + lines, lines_.size() - 1);
}

void scrollback::page_down(std::size_t lines) { offset_ = lines >= offset_ ? 0 : offset_ - lines; }

std::vector<scrollback::row> scrollback::rows(std::size_t width, std::size_t height) const {
  std::vector<row> out;  // built bottom-up, reversed at the end
  if (width == 0 || height == 0) return out;
  const std::wstring indent(continuation_indent, L' ');
  for (std::size_t i = lines_.size() - std::min(offset_, lines_.size()); i > 0 && out.size() < height; --i) {
    const log_line& line = lines_[i - 1];
    auto wrapped = wrap(shown_text(line), width, continuation_indent);
    for (std::size_t k = wrapped.size(); k > 0 && out.size() < height; --k) {
      out.push_back({line.kind, k == 1 ? std::move(wrapped[0]) : indent + wrapped[k - 1], line.state});
    }
  }
  std::reverse(out.begin(), out.end());
  return out;
}

}  // namespace natter::client
