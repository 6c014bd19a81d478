// Identity files v2 (docs/PROTOCOL.md §6): creation, permissions, loading, refusal, and v1 files
// recognised for migration.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <variant>

#include "natter/crypto/identity_file_v2.hpp"
#include "planted_files.hpp"
#include "test_support.hpp"

using natter::crypto::identity_file_v2_error;
using natter::crypto::identity_v2;
using natter::crypto::load_identity_v2;
using natter::crypto::load_or_create_identity_v2;
using natter::crypto::loaded_identity_v2;
using natter::crypto::v1_identity_found;
using natter::test::mode_of;
using natter::test::read_file;
using natter::test::temp_dir;
using natter::test::write_file;

namespace {

// RFC 8032 §7.1 TEST 1: seed and Ed25519 public key.
const std::string seed_hex = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60";
const std::string ed25519_hex = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a";
const std::string good_v2 = "natter identity v2\n# test\n" + seed_hex + "\n";

// RFC 7748 §6.1: Alice's X25519 secret and public key (the v1 key file test's key).
const std::string alice_secret_hex = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
const std::string alice_public_hex = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";

std::string seed_of(const identity_v2& id) {
  return natter::test::hex_of(std::span<const std::uint8_t>(id.seed().data(), id.seed().size()));
}

identity_v2 loaded_v2(const std::filesystem::path& path) {
  auto result = load_identity_v2(path);
  REQUIRE(std::holds_alternative<identity_v2>(result));
  return std::move(std::get<identity_v2>(result));
}

std::string error_text(const std::filesystem::path& path) {
  try {
    (void)load_identity_v2(path);
  } catch (const identity_file_v2_error& e) {
    return e.what();
  }
  FAIL("load_identity_v2 accepted " << path);
  return {};
}

std::string create_error_text(const std::filesystem::path& path) {
  try {
    (void)load_or_create_identity_v2(path);
  } catch (const identity_file_v2_error& e) {
    return e.what();
  }
  FAIL("load_or_create_identity_v2 accepted " << path);
  return {};
}

}  // namespace

TEST_CASE("identity file v2: created 0600 in a new 0700 directory, header then seed, reloaded equal") {
  temp_dir tmp;
  const auto dir = tmp / "config" / "natter";
  const auto path = dir / "identity.v2";
  auto result = load_or_create_identity_v2(path);
  REQUIRE(std::holds_alternative<loaded_identity_v2>(result));
  auto& created = std::get<loaded_identity_v2>(result);
  CHECK(created.created);
  CHECK(mode_of(path) == 0600u);
  CHECK(mode_of(dir) == 0700u);

  const std::string content = read_file(path);
  CHECK(content.starts_with("natter identity v2\n#"));
  const auto last = content.rfind('\n', content.size() - 2);
  REQUIRE(last != std::string::npos);
  CHECK(content.substr(last + 1) == seed_of(created.identity) + "\n");
  // The public key is not written (it is derived), and the seed appears once.
  CHECK(content.find(natter::crypto::to_hex(created.identity.public_key())) == std::string::npos);

  const auto again = loaded_v2(path);
  CHECK(again.public_key() == created.identity.public_key());
  CHECK(again.x25519().public_key_bytes == created.identity.x25519().public_key_bytes);

  auto second = load_or_create_identity_v2(path);
  REQUIRE(std::holds_alternative<loaded_identity_v2>(second));
  CHECK_FALSE(std::get<loaded_identity_v2>(second).created);
  CHECK(std::get<loaded_identity_v2>(second).identity.public_key() == created.identity.public_key());
  CHECK(read_file(path) == content);
}

TEST_CASE("identity file v2: a file with a known seed gives the known Ed25519 key") {
  temp_dir tmp;
  const auto path = tmp / "id.v2";
  SUBCASE("as written") { write_file(path, good_v2, 0600); }
  SUBCASE("no comment, no final newline") { write_file(path, "natter identity v2\n" + seed_hex, 0600); }
  SUBCASE("CRLF, blank and trailing comment lines") {
    write_file(path, "natter identity v2\r\n# a\r\n\r\n" + seed_hex + "\r\n# b\r\n\r\n", 0600);
  }
  SUBCASE("uppercase hex") {
    std::string upper = seed_hex;
    for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    write_file(path, "natter identity v2\n" + upper + "\n", 0600);
  }
  SUBCASE("read-only for the owner") { write_file(path, good_v2, 0400); }
  const auto id = loaded_v2(path);
  CHECK(natter::crypto::to_hex(id.public_key()) == ed25519_hex);
  CHECK(seed_of(id) == seed_hex);
}

TEST_CASE("identity file v2: a v1 key file is detected as v1, with its key, and left alone") {
  temp_dir tmp;
  const auto path = tmp / "identity";
  SUBCASE("written by hand") { write_file(path, "# natter identity\n" + alice_secret_hex + "\n", 0600); }
  SUBCASE("bare v1 hex") { write_file(path, alice_secret_hex, 0600); }
  const std::string before = read_file(path);

  auto loaded = load_identity_v2(path);
  REQUIRE(std::holds_alternative<v1_identity_found>(loaded));
  CHECK(natter::test::hex_of(std::get<v1_identity_found>(loaded).v1_keys.public_key_bytes) == alice_public_hex);
  CHECK(std::get<v1_identity_found>(loaded).path == path);

  auto again = load_or_create_identity_v2(path);
  REQUIRE(std::holds_alternative<v1_identity_found>(again));
  CHECK(natter::test::hex_of(std::get<v1_identity_found>(again).v1_keys.public_key_bytes) == alice_public_hex);
  CHECK(read_file(path) == before);
  // A v2 file is never written over it.
  CHECK_THROWS_AS(natter::crypto::create_identity_file_v2(path, identity_v2::generate()), identity_file_v2_error);
  CHECK(read_file(path) == before);
}

TEST_CASE("identity file v2: a key file the v1 code created is detected as v1") {
  temp_dir tmp;
  const auto path = tmp / "identity";
  const auto v1 = natter::crypto::load_or_create_identity(path);
  REQUIRE(v1.created);
  auto loaded = load_or_create_identity_v2(path);
  REQUIRE(std::holds_alternative<v1_identity_found>(loaded));
  CHECK(std::get<v1_identity_found>(loaded).v1_keys.public_key_bytes == v1.keys.public_key_bytes);
  // Migration creates the v2 identity beside it.
  const auto id = identity_v2::generate();
  natter::crypto::create_identity_file_v2(tmp / "identity.v2", id);
  CHECK(loaded_v2(tmp / "identity.v2").public_key() == id.public_key());
  CHECK(natter::crypto::load_identity(path).public_key_bytes == v1.keys.public_key_bytes);
}

TEST_CASE("identity file v2: malformed files are refused with the reason and left alone") {
  temp_dir tmp;
  const auto path = tmp / "id.v2";
  struct bad {
    std::string content, reason;
  };
  for (const bad& b : {
           bad{"natter identity v2\n", "no seed line"},
           bad{"natter identity v2", "no seed line"},
           bad{"natter identity v2\n# only a comment\n", "no seed line"},
           bad{"natter identity v2\n" + seed_hex.substr(0, 63) + "\n", "expected 64 hex digits"},
           bad{"natter identity v2\n" + seed_hex + "0\n", "expected 64 hex digits"},
           bad{"natter identity v2\nzz" + seed_hex.substr(2) + "\n", "expected 64 hex digits"},
           bad{"natter identity v2\n" + seed_hex.substr(0, 32) + " " + seed_hex.substr(32) + "\n", "expected 64 hex digits"},
           bad{"natter identity v2\n" + seed_hex + "\n" + seed_hex + "\n", "more than one seed line"},
           bad{"natter identity v2\n" + seed_hex + "\ntrailing\n", "more than one seed line"},
           bad{"natter identity v3\n" + seed_hex + "\n", "unsupported version"},
           bad{"natter identity v2 \xff\n" + seed_hex + "\n", "unsupported version"},
           bad{"# natter identity v2\n" + seed_hex.substr(1) + "\n", "is not a natter identity"},
           bad{"", "is not a natter identity"},
           bad{"hello\n", "is not a natter identity"},
           bad{"NATTER IDENTITY V2\n" + seed_hex + "\n", "is not a natter identity"},
           bad{"natter identity v2\n" + std::string(5000, '#') + "\n" + seed_hex + "\n", "too large"},
       }) {
    CAPTURE(b.content.substr(0, 80));
    write_file(path, b.content, 0600);
    const std::string message = error_text(path);
    CHECK(message.find(path.string()) != std::string::npos);
    CHECK(message.find(b.reason) != std::string::npos);
    CHECK(create_error_text(path).find(b.reason) != std::string::npos);
    CHECK(read_file(path) == b.content);
  }
}

TEST_CASE("identity file v2: a missing file is an error for load_identity_v2") {
  temp_dir tmp;
  CHECK_THROWS_AS((void)load_identity_v2(tmp / "absent"), identity_file_v2_error);
  CHECK_FALSE(std::filesystem::exists(tmp / "absent"));
}

TEST_CASE("identity file v2: readable or writable by others is refused with the fix") {
  temp_dir tmp;
  const auto path = tmp / "id.v2";
  for (const unsigned mode : {0644u, 0640u, 0604u, 0660u, 0602u, 0620u}) {
    CAPTURE(mode);
    write_file(path, good_v2, mode);
    const std::string message = error_text(path);
    CHECK(message.find("chmod 600 " + path.string()) != std::string::npos);
    CHECK(create_error_text(path).find("chmod 600") != std::string::npos);
    CHECK(read_file(path) == good_v2);
  }
}

TEST_CASE("identity file v2: a symlink is refused, even to a good private identity") {
  temp_dir tmp;
  const auto real = tmp / "real.v2";
  write_file(real, good_v2, 0600);
  const auto path = tmp / "id.v2";
  std::filesystem::create_symlink(real, path);
  CHECK(error_text(path).find("identity file " + path.string() + " is a symlink: refused") != std::string::npos);
  CHECK(create_error_text(path).find("is a symlink: refused") != std::string::npos);
  CHECK(std::filesystem::is_symlink(path));
  CHECK(read_file(real) == good_v2);
}

TEST_CASE("identity file v2: a new identity is never written through a dangling symlink (O_EXCL)") {
  temp_dir tmp;
  const auto target = tmp / "elsewhere";
  const auto path = tmp / "id.v2";
  std::filesystem::create_symlink(target, path);
  CHECK_THROWS_AS((void)load_or_create_identity_v2(path), identity_file_v2_error);
  CHECK_FALSE(std::filesystem::exists(target));
}

TEST_CASE("identity file v2: a FIFO is refused without blocking") {
  temp_dir tmp;
  const auto path = tmp / "id.v2";
  natter::test::make_fifo(path);
  const std::string message = natter::test::error_from_fifo(path, [&] { (void)load_identity_v2(path); });
  CHECK(message.find(path.string() + " is a FIFO: refused") != std::string::npos);
  const std::string again = natter::test::error_from_fifo(path, [&] { (void)load_or_create_identity_v2(path); });
  CHECK(again.find("is a FIFO: refused") != std::string::npos);
}

TEST_CASE("identity file v2: a directory is refused as such") {
  temp_dir tmp;
  const auto path = tmp / "id.v2";
  std::filesystem::create_directory(path);
  REQUIRE(::chmod(path.c_str(), 0700) == 0);
  CHECK(error_text(path).find(path.string() + " is a directory: refused") != std::string::npos);
  CHECK_THROWS_AS((void)load_or_create_identity_v2(path), identity_file_v2_error);
}

TEST_CASE("identity file v2: in a directory others can write, refused and none created") {
  temp_dir tmp;
  const auto dir = tmp / "state";
  std::filesystem::create_directory(dir);
  const auto path = dir / "id.v2";
  for (const unsigned mode : {0775u, 0757u, 01777u}) {
    CAPTURE(mode);
    REQUIRE(::chmod(dir.c_str(), 0700) == 0);
    write_file(path, good_v2, 0600);
    REQUIRE(::chmod(dir.c_str(), static_cast<mode_t>(mode)) == 0);
    CHECK(error_text(path).find("writable by others") != std::string::npos);
    CHECK(create_error_text(path).find("writable by others") != std::string::npos);
    CHECK(read_file(path) == good_v2);
    std::filesystem::remove(path);
    CHECK(create_error_text(path).find("writable by others") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(path));
  }
}

TEST_CASE("identity file v2: a file or directory owned by another user is refused") {
  if (!natter::test::can_chown()) {
    MESSAGE("skipped: not root, cannot chown a file to uid 65534");
    return;
  }
  temp_dir tmp;
  const auto path = tmp / "id.v2";
  write_file(path, good_v2, 0600);
  SUBCASE("the file") {
    REQUIRE(::chown(path.c_str(), natter::test::nobody_uid, static_cast<gid_t>(-1)) == 0);
    CHECK(error_text(path).find(path.string() + " is owned by uid 65534") != std::string::npos);
    CHECK_THROWS_AS((void)load_or_create_identity_v2(path), identity_file_v2_error);
  }
  SUBCASE("the directory") {
    REQUIRE(::chmod(tmp.path().c_str(), 0755) == 0);
    REQUIRE(::chown(tmp.path().c_str(), natter::test::nobody_uid, static_cast<gid_t>(-1)) == 0);
    CHECK(error_text(path).find("owned by uid 65534 (neither you nor root)") != std::string::npos);
    CHECK_THROWS_AS((void)load_or_create_identity_v2(path), identity_file_v2_error);
    REQUIRE(::chown(tmp.path().c_str(), ::geteuid(), static_cast<gid_t>(-1)) == 0);
  }
  CHECK(read_file(path) == good_v2);
}
