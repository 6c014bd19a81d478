#include "natter/client/scrollback.hpp"

#include <doctest/doctest.h>

namespace nc = natter::client;

TEST_CASE("scrollback: bounded history drops the oldest lines") {
  nc::scrollback log;
  for (int i = 0; i < 6000; ++i) log.add(nc::line_kind::message, std::to_wstring(i));
  CHECK(log.size() == nc::max_scrollback_lines);
  CHECK(log.at(0).text == L"1000");
  CHECK(log.at(log.size() - 1).text == L"5999");
}

TEST_CASE("scrollback: rows are the newest lines, wrapped, bottom aligned") {
  nc::scrollback log(100);
  log.add(nc::line_kind::system, L"one");
  log.add(nc::line_kind::whisper_in, L"two is long");
  auto rows = log.rows(6, 10);
  REQUIRE(rows.size() == 4);
  CHECK(rows[0].text == L"one");
  CHECK(rows[1].text == L"two ");
  CHECK(rows[1].kind == nc::line_kind::whisper_in);
  CHECK(rows[2].text == L"  is ");  // continuation rows are indented
  CHECK(rows[3].text == L"  long");
  CHECK(rows[3].kind == nc::line_kind::whisper_in);
  rows = log.rows(6, 2);  // only the bottom of the newest line fits
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].text == L"  is ");
}

TEST_CASE("scrollback: page up and down; new lines keep a scrolled view still") {
  nc::scrollback log(100);
  for (int i = 0; i < 50; ++i) log.add(nc::line_kind::message, std::to_wstring(i));
  log.page_up(10);
  CHECK(log.offset() == 10);
  auto rows = log.rows(20, 3);
  CHECK(rows.back().text == L"39");
  log.add(nc::line_kind::message, L"50");
  CHECK(log.rows(20, 3).back().text == L"39");  // did not move
  CHECK(log.unseen() == 1);  // "new messages below": only what arrived while scrolled back
  log.set_view(20, 3);
  log.page_up(1000);
  // It stops with the oldest line at the top of the pane, not in blank rows above it.
  CHECK(log.offset() == 48);
  const auto top = log.rows(20, 3);
  REQUIRE(top.size() == 3);
  CHECK(top.front().text == L"0");
  log.page_down(45);
  CHECK(log.offset() == 3);
  CHECK(log.unseen() == 1);
  log.page_down(45);
  CHECK(log.offset() == 0);
  CHECK(log.unseen() == 0);
  CHECK(log.rows(20, 3).back().text == L"50");
}

TEST_CASE("scrollback: the top counts wrapped rows; a short log does not scroll") {
  nc::scrollback log(100);
  log.set_view(6, 3);
  log.add(nc::line_kind::message, L"one");
  log.add(nc::line_kind::message, L"two");
  log.page_up(10);
  CHECK(log.offset() == 0);  // it all fits
  log.add(nc::line_kind::message, L"three is long");  // three rows at width 6
  log.add(nc::line_kind::message, L"four");
  log.page_up(10);
  CHECK(log.offset() == 1);  // "one", "two" and the first row of "three" fill the pane
  const auto rows = log.rows(6, 3);
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].text == L"one");
  CHECK(rows[2].text == L"three ");
}

TEST_CASE("scrollback: /clear empties the view and keeps the log") {
  nc::scrollback log(100);
  for (int i = 0; i < 5; ++i) log.add(nc::line_kind::message, std::to_wstring(i));
  log.clear_view();
  CHECK(log.rows(20, 3).empty());
  log.add(nc::line_kind::message, L"after");
  CHECK(log.rows(20, 3).size() == 1);
  CHECK(log.size() == 6);
  log.page_up(2);
  CHECK(log.rows(20, 3).back().text == L"3");
}

TEST_CASE("scrollback: a line we sent shows pending, then nothing, or why it failed") {
  nc::scrollback log(100);
  log.add(nc::line_kind::own_message, L"<alice> hi", 1, nc::line_state::pending);
  log.add(nc::line_kind::whisper_out, L"-> *nobody* hi", 2, nc::line_state::pending);
  auto rows = log.rows(80, 10);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0].text == L"<alice> hi …");
  CHECK(rows[0].state == nc::line_state::pending);
  log.mark(1, nc::line_state::sent);
  log.mark(2, nc::line_state::failed, L"no such user");
  log.mark(99, nc::line_state::sent);  // gone from the log: nothing happens
  rows = log.rows(80, 10);
  CHECK(rows[0].text == L"<alice> hi");
  CHECK(rows[1].text == L"-> *nobody* hi ✗ not sent: no such user");
  CHECK(rows[1].state == nc::line_state::failed);
}
