// The operator's bans: what a target may be written as, and that bans survive a restart.
#include <doctest/doctest.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <cctype>
#include <filesystem>

#include "natter/crypto/fingerprint_v2.hpp"
#include "natter/server/ban_list.hpp"
#include "natter/server/name_registry.hpp"

using namespace natter;
using namespace natter::server;

TEST_CASE("a ban target is a v2 fingerprint, an identity key or an IP address, in canonical form") {
  REQUIRE(sodium_init() >= 0);
  const auto key = crypto::identity_v2::generate().public_key();
  const std::string fingerprint = crypto::fingerprint_v2(key);
  CHECK(parse_ban_target(fingerprint) == ban_target{ban_kind::identity, fingerprint});
  // As pasted: upper case, no prefix, no dashes.
  std::string pasted;
  for (char c : fingerprint.substr(2)) {
    if (c != '-') pasted += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  CHECK(parse_ban_target(pasted) == ban_target{ban_kind::identity, fingerprint});
  // A key is banned by its fingerprint: the one name the join check computes.
  CHECK(parse_ban_target(crypto::to_hex(key)) == ban_target{ban_kind::identity, fingerprint});

  CHECK(parse_ban_target("192.0.2.7") == ban_target{ban_kind::address, "192.0.2.7"});
  CHECK(parse_ban_target("[2001:DB8:0::0001]") == ban_target{ban_kind::address, "2001:db8::1"});
  CHECK(parse_ban_target("2001:db8::1") == ban_target{ban_kind::address, "2001:db8::1"});
  for (const char* bad : {"", "alice", "192.0.2", "192.0.2.7:4000", "2:abcd", "1234"}) {
    CHECK_MESSAGE(!parse_ban_target(bad), bad);
  }

  CHECK(address_host("192.0.2.7:4000") == "192.0.2.7");
  CHECK(address_host("[2001:db8:0::1]:4000") == "2001:db8::1");
  CHECK(address_host("garbage") == "");
}

TEST_CASE("add, find, remove and list; a second ban of the same target changes nothing") {
  ban_list bans;
  const ban_target ip{ban_kind::address, "192.0.2.7"};
  const ban_target who{ban_kind::identity, "2:0000-0000-0000-0000-0000-0000-0000-0000-0000-0001"};
  CHECK_FALSE(bans.find(ip));
  CHECK(bans.add({ip, "flood", 10}) == ban_result::done);
  CHECK(bans.add({ip, "other reason", 11}) == ban_result::nothing_to_do);
  CHECK(bans.add({who, "", 12}) == ban_result::done);
  REQUIRE(bans.find(ip));
  CHECK(bans.find(ip)->reason == "flood");
  CHECK_FALSE(bans.find({ban_kind::identity, ip.value}));  // kinds do not mix
  const auto all = bans.all();
  REQUIRE(all.size() == 2);
  CHECK(all[0].target == who);  // identities first
  CHECK(bans.remove(ip) == ban_result::done);
  CHECK(bans.remove(ip) == ban_result::nothing_to_do);
  CHECK(bans.all().size() == 1);
}

TEST_CASE("bans are kept beside the names in the registry's database and read back at start") {
  std::string dir = (std::filesystem::temp_directory_path() / "natter-bans-XXXXXX").string();
  REQUIRE(::mkdtemp(dir.data()));
  const auto database = std::filesystem::path(dir) / "names.sqlite3";
  const ban_target ip{ban_kind::address, "2001:db8::1"};
  const ban_target gone{ban_kind::address, "192.0.2.9"};
  {
    // The server opens both on the same file.
    sqlite_name_registry names(database);
    sqlite_ban_list bans(database);
    CHECK(names.claim("alice", name_owner::v2(crypto::identity_v2::generate().public_key()), 1) ==
          claim_result::claimed_new);
    CHECK(bans.add({ip, "spam bot", 42}) == ban_result::done);
    CHECK(bans.add({gone, "", 43}) == ban_result::done);
    CHECK(bans.remove(gone) == ban_result::done);
  }
  {
    // A row edited by hand into something that is no ban is skipped, not trusted.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(database.c_str(), &db) == SQLITE_OK);
    CHECK(sqlite3_exec(db, "INSERT INTO bans VALUES ('address', 'not an address', '', 1)", nullptr, nullptr,
                       nullptr) == SQLITE_OK);
    sqlite3_close(db);
  }
  sqlite_ban_list reopened(database);
  const auto all = reopened.all();
  REQUIRE(all.size() == 1);
  CHECK(all[0].target == ip);
  CHECK(all[0].reason == "spam bot");
  CHECK(all[0].banned_ms == 42);
  CHECK(sqlite_name_registry(database).lookup("alice"));
  std::filesystem::remove_all(dir);
}
