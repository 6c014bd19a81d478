// The SQLite name registry: the first identity owns a name, that survives reopening the
// database, and a name registered under protocol 1 moves to a v2 identity once, by migrate().
#include <doctest/doctest.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>

#include "natter/server/name_registry.hpp"

using namespace natter;
using namespace natter::server;

namespace {

struct temp_db {
  std::filesystem::path dir;
  std::filesystem::path db;
  temp_db() {
    REQUIRE(sodium_init() >= 0);
    std::string d = (std::filesystem::temp_directory_path() / "natter-reg-XXXXXX").string();
    REQUIRE(::mkdtemp(d.data()));
    dir = d;
    db = dir / "names.sqlite3";
  }
  ~temp_db() { std::filesystem::remove_all(dir); }
};

crypto::ed25519_public_key new_identity() { return crypto::identity_v2::generate().public_key(); }

// A registry as protocol 1's natter-server left it: no key_version column, X25519 owners.
void write_v1_registry(const std::filesystem::path& db, const std::string& folded, const std::string& display,
                       const crypto::public_key& v1_owner) {
  sqlite3* handle = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &handle) == SQLITE_OK);
  REQUIRE(sqlite3_exec(handle,
                       "CREATE TABLE names (folded TEXT PRIMARY KEY, display TEXT NOT NULL,"
                       " public_key BLOB NOT NULL CHECK (length(public_key) = 32), registered_ms INTEGER NOT NULL)",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_stmt* insert = nullptr;
  REQUIRE(sqlite3_prepare_v2(handle, "INSERT INTO names VALUES (?, ?, ?, 42)", -1, &insert, nullptr) == SQLITE_OK);
  sqlite3_bind_text(insert, 1, folded.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(insert, 2, display.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_blob(insert, 3, v1_owner.data(), 32, SQLITE_TRANSIENT);
  CHECK(sqlite3_step(insert) == SQLITE_DONE);
  sqlite3_finalize(insert);
  sqlite3_close(handle);
}

}  // namespace

TEST_CASE("names are claimed once, case-insensitively, and persist") {
  temp_db t;
  const auto owner = name_owner::v2(new_identity());
  const auto other = name_owner::v2(new_identity());
  {
    sqlite_name_registry names(t.db);
    CHECK(names.claim("Alice", owner, 5) == claim_result::claimed_new);
    CHECK(names.claim("alice", owner, 6) == claim_result::owned_by_you);
    CHECK(names.claim("ALICE", other, 7) == claim_result::taken);
  }
  sqlite_name_registry reopened(t.db);
  CHECK(reopened.size_at_open() == 1);
  CHECK(reopened.claim("alice", other, 8) == claim_result::taken);
  const auto entry = reopened.lookup("aLiCe");
  REQUIRE(entry);
  CHECK(entry->display == "Alice");
  CHECK(entry->owner == owner);
  CHECK(entry->owner.version == 2);
  CHECK(entry->registered_ms == 5);
}

TEST_CASE("the same 32 bytes as a v1 key and as an identity are different owners") {
  memory_name_registry names;
  const auto identity = new_identity();
  crypto::public_key same_bytes = identity.bytes;
  CHECK(names.claim("bob", name_owner::v1(same_bytes), 1) == claim_result::claimed_new);
  CHECK(names.claim("bob", name_owner::v2(identity), 2) == claim_result::taken);
}

TEST_CASE("a protocol 1 registry is read as v1 owners, and a name migrates once, durably") {
  temp_db t;
  const auto v1_key = crypto::key_pair::generate().public_key_bytes;
  const auto stranger_v1 = crypto::key_pair::generate().public_key_bytes;
  write_v1_registry(t.db, "carol", "Carol", v1_key);
  const auto identity = new_identity();
  const auto thief = new_identity();
  {
    sqlite_name_registry names(t.db);
    REQUIRE(names.size_at_open() == 1);
    const auto entry = names.lookup("carol");
    REQUIRE(entry);
    CHECK(entry->owner == name_owner::v1(v1_key));
    // Without the migration the new identity cannot have the name.
    CHECK(names.claim("carol", name_owner::v2(identity), 9) == claim_result::taken);
    // Only the key that owns it moves it.
    CHECK(names.migrate("carol", stranger_v1, thief) == migrate_result::not_registered_to_that_key);
    CHECK(names.migrate("nobody", v1_key, thief) == migrate_result::not_registered_to_that_key);
    CHECK(names.migrate("Carol", v1_key, identity) == migrate_result::migrated);
    CHECK(names.claim("carol", name_owner::v2(identity), 10) == claim_result::owned_by_you);
    // Once: the v1 key no longer owns it, so a second proof of it (a thief's) moves nothing.
    CHECK(names.migrate("carol", v1_key, thief) == migrate_result::not_registered_to_that_key);
  }
  sqlite_name_registry reopened(t.db);
  const auto entry = reopened.lookup("carol");
  REQUIRE(entry);
  CHECK(entry->owner == name_owner::v2(identity));
  CHECK(entry->display == "Carol");
  CHECK(entry->registered_ms == 42);  // the registration keeps its date
}

TEST_CASE("free: a released name is gone from disk too, and the next key claims it") {
  temp_db t;
  const auto lost = new_identity(), fresh = new_identity();
  {
    sqlite_name_registry names(t.db);
    REQUIRE(names.claim("Alice", name_owner::v2(lost), 1) == claim_result::claimed_new);
    CHECK(names.release("alice") == release_result::released);
    CHECK(names.release("alice") == release_result::not_registered);
    CHECK_FALSE(names.lookup("alice"));
  }
  sqlite_name_registry reopened(t.db);
  CHECK_FALSE(reopened.lookup("alice"));
  CHECK(reopened.claim("alice", name_owner::v2(fresh), 2) == claim_result::claimed_new);
  CHECK(reopened.claim("alice", name_owner::v2(lost), 3) == claim_result::taken);
}

TEST_CASE("an unopenable database is a clear error") {
  CHECK_THROWS_WITH_AS(sqlite_name_registry("/nonexistent-dir/x/names.sqlite3"),
                       doctest::Contains("cannot open name registry"), std::runtime_error);
}
