#include "natter/client/input_line.hpp"

#include <doctest/doctest.h>

namespace nc = natter::client;

TEST_CASE("input line: editing with wide characters") {
  nc::input_line line;
  line.insert(L"안녕 world");
  CHECK(line.cursor() == 8);
  line.home();
  line.right();
  line.insert(L'X');  // between the two Hangul syllables
  CHECK(line.text() == L"안X녕 world");
  line.backspace();
  line.del();  // deletes 녕: one character, two columns
  CHECK(line.text() == L"안 world");
  line.end();
  line.kill_word_back();
  CHECK(line.text() == L"안 ");
  line.insert(L"a b");
  line.left();
  line.left();
  line.kill_to_end();
  CHECK(line.text() == L"안 a");
  line.kill_to_start();
  CHECK(line.text().empty());
  line.backspace();  // at the start: nothing happens
  line.left();
  CHECK(line.cursor() == 0);
}

TEST_CASE("input line: the cursor column counts display columns and scrolls") {
  nc::input_line line;
  line.insert(L"한국어");
  auto v = line.view(20);
  CHECK(v.visible == L"한국어");
  CHECK(v.cursor_column == 6);
  line.left();
  CHECK(line.view(20).cursor_column == 4);
  line.set(L"abcdefghij", 10);
  v = line.view(5);  // scrolled so the cursor (after j) is visible
  CHECK(v.cursor_column == 4);
  CHECK(v.visible == L"ghij");
  line.home();
  v = line.view(5);
  CHECK(v.visible == L"abcde");
  CHECK(v.cursor_column == 0);
}

TEST_CASE("input line: history keeps the draft") {
  nc::input_line line;
  line.insert(L"first");
  CHECK(line.submit() == L"first");
  line.insert(L"second");
  (void)line.submit();
  line.insert(L"second");
  (void)line.submit();  // not stored twice in a row
  line.insert(L"   ");
  (void)line.submit();  // blank: not stored
  CHECK(line.history().size() == 2);
  line.insert(L"draft");
  line.history_prev();
  CHECK(line.text() == L"second");
  line.history_prev();
  CHECK(line.text() == L"first");
  line.history_prev();  // oldest: stays
  CHECK(line.text() == L"first");
  line.history_next();
  line.history_next();
  CHECK(line.text() == L"draft");
  CHECK(line.cursor() == 5);
  for (int i = 0; i < 600; ++i) {
    line.set(std::to_wstring(i), 0);
    (void)line.submit();
  }
  CHECK(line.history().size() == nc::max_input_history);
}
