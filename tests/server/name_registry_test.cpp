// The SQLite name registry: first key owns a name, and that survives reopening the database.
#include <doctest/doctest.h>
#include <sodium.h>
#include <stdlib.h>

#include <filesystem>

#include "natter/server/name_registry.hpp"

using namespace natter;
using namespace natter::server;

TEST_CASE("names are claimed once, case-insensitively, and persist") {
  REQUIRE(sodium_init() >= 0);
  std::string dir = (std::filesystem::temp_directory_path() / "natter-reg-XXXXXX").string();
  REQUIRE(::mkdtemp(dir.data()));
  const auto db = std::filesystem::path(dir) / "names.sqlite3";
  const auto owner = crypto::key_pair::generate().public_key_bytes;
  const auto other = crypto::key_pair::generate().public_key_bytes;
  {
    sqlite_name_registry names(db);
    CHECK(names.claim("Alice", owner, 5) == claim_result::claimed_new);
    CHECK(names.claim("alice", owner, 6) == claim_result::owned_by_you);
    CHECK(names.claim("ALICE", other, 7) == claim_result::taken);
  }
  sqlite_name_registry reopened(db);
  CHECK(reopened.size_at_open() == 1);
  CHECK(reopened.claim("alice", other, 8) == claim_result::taken);
  const auto entry = reopened.lookup("aLiCe");
  REQUIRE(entry);
  CHECK(entry->display == "Alice");
  CHECK(entry->owner == owner);
  CHECK(entry->registered_ms == 5);
  std::filesystem::remove_all(dir);
}

TEST_CASE("an unopenable database is a clear error") {
  CHECK_THROWS_WITH_AS(sqlite_name_registry("/nonexistent-dir/x/names.sqlite3"),
                       doctest::Contains("cannot open name registry"), std::runtime_error);
}
