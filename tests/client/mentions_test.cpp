// What makes a line about us, and each name's colour.
#include "natter/client/mentions.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>

#include "natter/client/nick_colour.hpp"

namespace nc = natter::client;

TEST_CASE("mentions: our name as a word, in any case") {
  for (const char* text : {"alice: hi", "thanks Alice!", "ALICE", "ask alice.", "안녕 alice", "(alice)"}) {
    CHECK_MESSAGE(nc::mentions_name(text, "alice"), text);
  }
  for (const char* text : {"malice", "alice_b is here", "alice-2", "2alice", "nobody", ""}) {
    CHECK_FALSE_MESSAGE(nc::mentions_name(text, "alice"), text);
  }
  CHECK(nc::mentions_name("malice and alice", "alice"));  // a later match counts
  CHECK_FALSE(nc::mentions_name("anything", ""));
}

TEST_CASE("nick colour: stable, case-insensitive, in range, and spread over the palette") {
  CHECK(nc::nick_colour("bob", 6) == nc::nick_colour("BOB", 6));
  CHECK(nc::nick_colour("bob", 6) == nc::nick_colour("bob", 6));
  CHECK(nc::nick_colour("x", 0) == 0);
  // FNV-1a of "bob" is 0x86c6a0d4: pinned, so a change of hash (everyone's colours) is seen.
  CHECK(nc::nick_colour("bob", 1000003) == 0x86c6a0d4u % 1000003);
  std::set<std::size_t> used;
  for (const char* name : {"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy"}) {
    const auto c = nc::nick_colour(name, 6);
    CHECK(c < 6);
    used.insert(c);
  }
  CHECK(used.size() >= 4);
}
