// Identity key files: creation, permissions, loading and refusal.
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <fstream>
#include <sstream>
#include <string>

#include "natter/crypto/key_file.hpp"
#include "test_support.hpp"

using natter::crypto::key_file_error;
using natter::test::temp_dir;

namespace {

unsigned mode_of(const std::filesystem::path& path) {
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  return st.st_mode & 07777u;
}

void write_file(const std::filesystem::path& path, const std::string& content, unsigned mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    REQUIRE(out.good());
    out << content;
  }
  REQUIRE(::chmod(path.c_str(), static_cast<mode_t>(mode)) == 0);
}

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

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
