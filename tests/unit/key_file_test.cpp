// Identity key files: creation, permissions, loading and refusal.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <string>

#include "natter/crypto/key_file.hpp"
#include "planted_files.hpp"
#include "test_support.hpp"

using natter::crypto::key_file_error;
using natter::test::mode_of;
using natter::test::read_file;
using natter::test::temp_dir;
using natter::test::write_file;

namespace {

// RFC 7748 §6.1 / libsodium test/default/box.c: Alice's secret key and its public key.
const std::string alice_secret_hex = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
const std::string alice_public_hex = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";

std::string error_text(const std::filesystem::path& path) {
  try {
    (void)natter::crypto::load_identity(path);
  } catch (const key_file_error& e) {
    return e.what();
  }
  FAIL("load_identity accepted " << path);
  return {};
}

}  // namespace

TEST_CASE("a new identity is created 0600 in a new 0700 directory") {
  temp_dir tmp;
  const auto dir = tmp / "config" / "natter";
  const auto path = dir / "identity.key";
  const auto created = natter::crypto::load_or_create_identity(path);
  CHECK(created.created);
  CHECK(mode_of(path) == 0600u);
  CHECK(mode_of(dir) == 0700u);
  CHECK(created.keys.public_key_bytes != natter::crypto::public_key{});

  // The file holds the secret as 64 hex digits after a comment line; nothing else.
  const std::string content = read_file(path);
  CHECK(content.front() == '#');
  const auto newline = content.find('\n');
  REQUIRE(newline != std::string::npos);
  const std::string key_line = content.substr(newline + 1);
  REQUIRE(key_line.size() == 65);
  CHECK(key_line.back() == '\n');
  CHECK(key_line.substr(0, 64) == natter::test::hex_of(std::span<const std::uint8_t>(created.keys.secret.data(), 32)));
  CHECK(content.find(natter::test::hex_of(created.keys.public_key_bytes)) == std::string::npos);
}

TEST_CASE("loading again gives the same key, and nothing is rewritten") {
  temp_dir tmp;
  const auto path = tmp / "id.key";
  const auto first = natter::crypto::load_or_create_identity(path);
  REQUIRE(first.created);
  const std::string before = read_file(path);

  const auto second = natter::crypto::load_or_create_identity(path);
  CHECK_FALSE(second.created);
  CHECK(second.keys.public_key_bytes == first.keys.public_key_bytes);
  CHECK(natter::crypto::load_identity(path).public_key_bytes == first.keys.public_key_bytes);
  CHECK(read_file(path) == before);
}

TEST_CASE("a key file with a known secret yields the known public key") {
  temp_dir tmp;
  const auto path = tmp / "alice.key";
  SUBCASE("with a comment") { write_file(path, "# alice\n" + alice_secret_hex + "\n", 0600); }
  SUBCASE("bare hex, no newline") { write_file(path, alice_secret_hex, 0600); }
  SUBCASE("CRLF line ending") { write_file(path, "# alice\r\n" + alice_secret_hex + "\r\n", 0600); }
  SUBCASE("read-only for the owner") { write_file(path, alice_secret_hex + "\n", 0400); }
  const auto keys = natter::crypto::load_identity(path);
  CHECK(natter::test::hex_of(keys.public_key_bytes) == alice_public_hex);
}

TEST_CASE("a key file others can read is refused with the fix in the message") {
  temp_dir tmp;
  const auto path = tmp / "id.key";
  for (const unsigned mode : {0644u, 0640u, 0604u, 0660u, 0666u}) {
    CAPTURE(mode);
    write_file(path, alice_secret_hex + "\n", mode);
    const std::string message = error_text(path);
    CHECK(message.find("chmod 600") != std::string::npos);
    CHECK(message.find(path.string()) != std::string::npos);
    // load_or_create must refuse too, not replace the key.
    CHECK_THROWS_AS((void)natter::crypto::load_or_create_identity(path), key_file_error);
    CHECK(read_file(path) == alice_secret_hex + "\n");
  }
}

TEST_CASE("malformed key files are refused and left alone") {
  temp_dir tmp;
  const auto path = tmp / "id.key";
  for (const std::string& content : {
           std::string{},
           std::string("# only a comment\n"),
           std::string("hello\n"),
           alice_secret_hex.substr(0, 63) + "\n",
           alice_secret_hex + "0\n",
           "zz" + alice_secret_hex.substr(2) + "\n",
           alice_secret_hex.substr(0, 32) + " " + alice_secret_hex.substr(32) + "\n",
           std::string("-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ\n"),
       }) {
    CAPTURE(content);
    write_file(path, content, 0600);
    const std::string message = error_text(path);
    CHECK(message.find(path.string()) != std::string::npos);
    CHECK_THROWS_AS((void)natter::crypto::load_or_create_identity(path), key_file_error);
    CHECK(read_file(path) == content);
  }
}

TEST_CASE("a missing key file is an error for load_identity") {
  temp_dir tmp;
  CHECK_THROWS_AS((void)natter::crypto::load_identity(tmp / "absent.key"), key_file_error);
}

TEST_CASE("a new key is never written through an existing name (O_EXCL)") {
  temp_dir tmp;
  // A dangling symlink at the key path: exists() says no, but creating through it would write the
  // secret wherever the link points. O_EXCL refuses to follow it.
  const auto target = tmp / "elsewhere";
  const auto path = tmp / "id.key";
  std::filesystem::create_symlink(target, path);
  CHECK_THROWS_AS((void)natter::crypto::load_or_create_identity(path), key_file_error);
  CHECK_FALSE(std::filesystem::exists(target));
}

TEST_CASE("creating a key leaves an existing parent directory's mode alone") {
  temp_dir tmp;
  const auto dir = tmp / "shared";
  std::filesystem::create_directory(dir);
  REQUIRE(::chmod(dir.c_str(), 0755) == 0);
  const auto created = natter::crypto::load_or_create_identity(dir / "id.key");
  CHECK(created.created);
  CHECK(mode_of(dir / "id.key") == 0600u);
  CHECK(mode_of(dir) == 0755u);
}

TEST_CASE("an unwritable location is reported as key_file_error") {
  temp_dir tmp;
  const auto blocker = tmp / "file";
  write_file(blocker, "x", 0600);
  // A regular file where a directory should be.
  CHECK_THROWS_AS((void)natter::crypto::load_or_create_identity(blocker / "sub" / "id.key"), key_file_error);
}

// What another user may plant (docs/SECURITY.md "Files"). The server's server.key and the
// client's identity are both loaded by load_or_create_identity, so these cover both.

TEST_CASE("a key file that is a symlink is refused, even to a good private key") {
  temp_dir tmp;
  const auto real = tmp / "real.key";
  write_file(real, alice_secret_hex + "\n", 0600);
  const auto path = tmp / "server.key";
  std::filesystem::create_symlink(real, path);
  const std::string message = error_text(path);
  CHECK(message.find(path.string() + " is a symlink: refused") != std::string::npos);
  CHECK_THROWS_AS((void)natter::crypto::load_or_create_identity(path), key_file_error);
  CHECK(read_file(real) == alice_secret_hex + "\n");
  CHECK(std::filesystem::is_symlink(path));
}

TEST_CASE("a key file that is a FIFO is refused without blocking") {
  temp_dir tmp;
  const auto path = tmp / "identity";
  natter::test::make_fifo(path);
  const std::string message = natter::test::error_from_fifo(path, [&] { (void)natter::crypto::load_identity(path); });
  CHECK(message.find(path.string() + " is a FIFO: refused") != std::string::npos);
  const std::string again =
      natter::test::error_from_fifo(path, [&] { (void)natter::crypto::load_or_create_identity(path); });
  CHECK(again.find("is a FIFO: refused") != std::string::npos);
}

TEST_CASE("a key file that is a directory is refused as such") {
  temp_dir tmp;
  const auto path = tmp / "identity";
  std::filesystem::create_directory(path);
  REQUIRE(::chmod(path.c_str(), 0700) == 0);
  CHECK(error_text(path).find(path.string() + " is a directory: refused") != std::string::npos);
}

TEST_CASE("a key file in a directory others can write is refused, and none is created there") {
  temp_dir tmp;
  const auto dir = tmp / "state";
  std::filesystem::create_directory(dir);
  const auto path = dir / "server.key";
  for (const unsigned mode : {0775u, 0757u, 01777u}) {
    CAPTURE(mode);
    REQUIRE(::chmod(dir.c_str(), 0700) == 0);
    write_file(path, alice_secret_hex + "\n", 0600);
    REQUIRE(::chmod(dir.c_str(), static_cast<mode_t>(mode)) == 0);
    const std::string message = error_text(path);
    CHECK(message.find(path.string()) != std::string::npos);
    CHECK(message.find("writable by others") != std::string::npos);
    CHECK_THROWS_AS((void)natter::crypto::load_or_create_identity(path), key_file_error);
    CHECK(read_file(path) == alice_secret_hex + "\n");

    // No key yet: load_or_create must not create one where someone else could swap it.
    std::filesystem::remove(path);
    CHECK_THROWS_AS((void)natter::crypto::load_or_create_identity(path), key_file_error);
    CHECK_FALSE(std::filesystem::exists(path));
  }
}

TEST_CASE("a key file or key directory owned by another user is refused") {
  if (!natter::test::can_chown()) {
    MESSAGE("skipped: not root, cannot chown a file to uid 65534");
    return;
  }
  temp_dir tmp;
  const auto path = tmp / "identity";
  write_file(path, alice_secret_hex + "\n", 0600);
  SUBCASE("the file") {
    REQUIRE(::chown(path.c_str(), natter::test::nobody_uid, static_cast<gid_t>(-1)) == 0);
    CHECK(error_text(path).find(path.string() + " is owned by uid 65534") != std::string::npos);
    CHECK_THROWS_AS((void)natter::crypto::load_or_create_identity(path), key_file_error);
  }
  SUBCASE("the directory") {
    REQUIRE(::chmod(tmp.path().c_str(), 0755) == 0);
    REQUIRE(::chown(tmp.path().c_str(), natter::test::nobody_uid, static_cast<gid_t>(-1)) == 0);
    CHECK(error_text(path).find("owned by uid 65534 (neither you nor root)") != std::string::npos);
    CHECK_THROWS_AS((void)natter::crypto::load_or_create_identity(path), key_file_error);
    REQUIRE(::chown(tmp.path().c_str(), ::geteuid(), static_cast<gid_t>(-1)) == 0);  // so it can be removed
  }
  CHECK(read_file(path) == alice_secret_hex + "\n");
}
