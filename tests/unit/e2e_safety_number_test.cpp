// Safety numbers and room codes (e2e_safety_number).
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>

#include "e2e_test_support.hpp"
#include "natter/crypto/e2e_safety_number.hpp"

using natter::test::identity_filled;
using natter::test::party_of;
namespace e2e = natter::crypto::e2e;

TEST_CASE("e2e safety number: 60 digits in 12 groups, the same on both sides, changing with either key or name") {
  const auto alice = party_of(identity_filled(0xa1), "alice");
  const auto bob = party_of(identity_filled(0xb0), "bob");
  const auto number = e2e::safety_number(alice, bob);
  REQUIRE(number.has_value());
  CHECK(number->size() == 60 + 11);
  CHECK(std::count(number->begin(), number->end(), ' ') == 11);
  CHECK(std::count_if(number->begin(), number->end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) == 60);
  CHECK(e2e::safety_number(bob, alice) == number);

  auto alice_new_key = party_of(identity_filled(0xa2), "alice");
  auto bob_new_key = party_of(identity_filled(0xb1), "bob");
  auto bob_renamed = party_of(identity_filled(0xb0), "bobby");
  CHECK(e2e::safety_number(alice_new_key, bob) != number);
  CHECK(e2e::safety_number(alice, bob_new_key) != number);
  CHECK(e2e::safety_number(alice, bob_renamed) != number);
  // Each half belongs to one side: alice's changes leave bob's 30 digits in the number.
  const auto with_new_alice = *e2e::safety_number(alice_new_key, bob);
  const auto with_new_bob = *e2e::safety_number(alice, bob_new_key);
  const std::string alice_half = number->substr(0, 35) == with_new_bob.substr(0, 35) ||
                                         number->substr(0, 35) == with_new_bob.substr(36)
                                     ? number->substr(0, 35)
                                     : number->substr(36);
  CHECK((with_new_alice.find(alice_half) == std::string::npos));
  CHECK_FALSE(e2e::safety_number(party_of(identity_filled(1), ""), bob).has_value());
}

TEST_CASE("e2e room code: 4 groups of 4 base32, order-independent, exposing a ghost or a swapped key") {
  const std::vector<e2e::party> members = {party_of(identity_filled(0xa1), "alice"),
                                           party_of(identity_filled(0xb0), "bob"),
                                           party_of(identity_filled(0xc0), "carol")};
  const auto code = e2e::room_code("lobby", members);
  REQUIRE(code.has_value());
  CHECK(code->size() == 19);
  CHECK((*code)[4] == '-');
  CHECK((*code)[9] == '-');
  CHECK((*code)[14] == '-');
  CHECK(std::all_of(code->begin(), code->end(), [](char c) { return c == '-' || (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7'); }));

  auto reversed = members;
  std::reverse(reversed.begin(), reversed.end());
  CHECK(e2e::room_code("lobby", reversed) == code);

  auto ghost = members;
  ghost.push_back(party_of(identity_filled(0x99), "ghost"));
  CHECK(e2e::room_code("lobby", ghost) != code);
  auto swapped = members;
  swapped[1].key = identity_filled(0x98).public_key();
  CHECK(e2e::room_code("lobby", swapped) != code);
  CHECK(e2e::room_code("other", members) != code);

  auto twice = members;
  twice.push_back(members[0]);
  CHECK_FALSE(e2e::room_code("lobby", twice).has_value());
  CHECK_FALSE(e2e::room_code("lobby", {}).has_value());
  CHECK_FALSE(e2e::room_code("", members).has_value());
}
