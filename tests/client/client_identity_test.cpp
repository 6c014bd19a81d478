// Where the client finds its identity (client_identity.hpp): a v2 identity, a new one, or a
// protocol 1 key kept beside a new v2 identity for migrating names.
#include "natter/client/client_identity.hpp"

#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "natter/crypto/key_file.hpp"

namespace nc = natter::client;
namespace cr = natter::crypto;

namespace {
struct scratch {
  std::filesystem::path dir;
  scratch() {
    std::string d = (std::filesystem::temp_directory_path() / "natter-identity-XXXXXX").string();
    REQUIRE(::mkdtemp(d.data()));
    dir = d;
  }
  ~scratch() { std::filesystem::remove_all(dir); }
};
}  // namespace

TEST_CASE("no file: a new v2 identity is made there, 0600, and found again") {
  cr::init_sodium();
  scratch s;
  const auto path = s.dir / "natter" / "identity";
  const auto first = nc::load_client_identity(path);
  CHECK(first.created);
  CHECK(first.path == path);
  CHECK_FALSE(first.v1.has_value());
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  const auto again = nc::load_client_identity(path);
  CHECK_FALSE(again.created);
  CHECK(again.identity.public_key() == first.identity.public_key());
}

TEST_CASE("a protocol 1 key: kept untouched, a v2 identity beside it, and that one stays after the old key goes") {
  cr::init_sodium();
  scratch s;
  const auto path = s.dir / "identity";
  const auto v1 = cr::load_or_create_identity(path);  // what protocol 1's natter wrote
  REQUIRE(v1.created);
  const auto before = std::filesystem::last_write_time(path);

  const auto migrated = nc::load_client_identity(path);
  CHECK(migrated.created);
  CHECK(migrated.path == nc::migrated_identity_path(path));
  REQUIRE(migrated.v1.has_value());
  CHECK(migrated.v1->public_key_bytes == v1.keys.public_key_bytes);
  CHECK(migrated.v1_path == path);
  CHECK(std::filesystem::last_write_time(path) == before);

  const auto later = nc::load_client_identity(path);
  CHECK_FALSE(later.created);
  CHECK(later.identity.public_key() == migrated.identity.public_key());
  REQUIRE(later.v1.has_value());  // still proving the old key while it is there

  std::filesystem::remove(path);
  const auto without_v1 = nc::load_client_identity(path);
  CHECK(without_v1.identity.public_key() == migrated.identity.public_key());  // not a new identity
  CHECK_FALSE(without_v1.v1.has_value());
  CHECK_FALSE(std::filesystem::exists(path));  // and nothing made at the old name
}
