#include "natter/client/completion.hpp"

#include <doctest/doctest.h>

namespace nc = natter::client;

namespace {
const std::vector<std::wstring> names{L"alice", L"Albert", L"bob"};

nc::completion at_end(std::wstring_view line) { return nc::complete(line, line.size(), names); }
}  // namespace

TEST_CASE("completion: commands at the start") {
  auto c = at_end(L"/wh");
  CHECK(c.text == L"/whois ");
  CHECK(c.cursor == 7);
  c = at_end(L"/ve");
  CHECK(c.text == L"/verify ");
  c = at_end(L"/w");  // /w and /whois: nothing decided, both listed
  CHECK(c.text == L"/w");
  CHECK(c.candidates == std::vector<std::wstring>{L"/w", L"/whois"});
  c = at_end(L"/x");
  CHECK(c.text == L"/x");
  CHECK(c.candidates.empty());
}

TEST_CASE("completion: names, with ': ' at the start of a line") {
  auto c = at_end(L"bo");
  CHECK(c.text == L"bob: ");
  c = at_end(L"/w bo");
  CHECK(c.text == L"/w bob ");
  c = at_end(L"/whois B");
  CHECK(c.text == L"/whois bob ");
  c = at_end(L"thanks ALI");  // case-insensitive, spelled as the user spells it
  CHECK(c.text == L"thanks alice ");
  c = at_end(L"/w al");  // alice and Albert share "al"
  CHECK(c.text == L"/w al");
  CHECK(c.candidates.size() == 2);
}

TEST_CASE("completion: in the middle of a line") {
  const std::wstring line = L"hi bo there";
  auto c = nc::complete(line, 5, names);
  CHECK(c.text == L"hi bob there");
  CHECK(c.cursor == 7);  // after the existing space
}
