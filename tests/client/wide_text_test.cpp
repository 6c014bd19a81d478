#include "natter/client/wide_text.hpp"

#include <doctest/doctest.h>

namespace nc = natter::client;

TEST_CASE("wide text: UTF-8 round trip, invalid bytes replaced") {
  CHECK(nc::widen("abc") == L"abc");
  CHECK(nc::widen("안녕") == L"\uC548\uB155");
  CHECK(nc::narrow(L"\uC548\uB155 é 🎉") == "안녕 é 🎉");
  CHECK(nc::widen("a\xff" "b") == L"a\uFFFDb");
  CHECK(nc::widen("\xe2\x82") == L"\uFFFD");            // truncated sequence
  CHECK(nc::widen("\xc0\xafz") == L"\uFFFDz");         // overlong
  CHECK(nc::widen("\xed\xa0\x80") != L"\xD800");        // no surrogates
}

TEST_CASE("wide text: Korean takes two columns, combining marks none") {
  CHECK(nc::char_width(L'a') == 1);
  CHECK(nc::char_width(L'\uC548') == 2);
  CHECK(nc::char_width(L'\u0301') == 0);
  CHECK(nc::text_width(L"안녕 hi") == 7);
  CHECK(nc::fit_width(L"안녕하세요", 5) == L"안녕");  // never half a character
  CHECK(nc::fit_width(L"abc", 10) == L"abc");
}

TEST_CASE("wide text: wrapping counts columns and prefers spaces") {
  auto rows = nc::wrap(L"hello world again", 11);
  REQUIRE(rows.size() == 2);
  CHECK(rows[0] == L"hello ");
  CHECK(rows[1] == L"world again");
  rows = nc::wrap(L"안녕하세요", 4);  // 10 columns in rows of 4: 2 characters each
  REQUIRE(rows.size() == 3);
  CHECK(rows[0] == L"안녕");
  CHECK(rows[2] == L"요");
  rows = nc::wrap(L"abcdefgh", 4, 2);  // continuation rows leave room for an indent
  REQUIRE(rows.size() == 3);
  CHECK(rows[0] == L"abcd");
  CHECK(rows[1] == L"ef");
  CHECK(rows[2] == L"gh");
  CHECK(nc::wrap(L"", 10).size() == 1);
}
