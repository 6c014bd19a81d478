#include "natter/client/verified_store.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "natter/crypto/fingerprint_v2.hpp"

namespace nc = natter::client;
namespace crypto = natter::crypto;

namespace {
crypto::public_key filled(std::uint8_t byte) {
  crypto::public_key key{};
  key.fill(byte);
  return key;
}
const crypto::public_key server_a = filled(0x11);
const crypto::public_key server_b = filled(0x22);
const crypto::ed25519_public_key user_a{filled(0x33)};
const crypto::ed25519_public_key user_b{filled(0x44)};
}  // namespace

TEST_CASE("verified store: server and user entries are keyed by the full key") {
  nc::verified_store store;
  CHECK_FALSE(store.server_verified("127.0.0.1:9900", server_a));
  store.mark_server("127.0.0.1:9900", server_a);
  CHECK(store.server_verified("127.0.0.1:9900", server_a));
  CHECK_FALSE(store.server_verified("127.0.0.1:9900", server_b));  // a changed key is not verified
  CHECK_FALSE(store.server_verified("127.0.0.1:9901", server_a));  // another server

  store.mark_user("127.0.0.1:9900", "Alice", user_b);
  CHECK(store.user_verified("127.0.0.1:9900", "alice", user_b));  // names fold
  CHECK_FALSE(store.user_verified("127.0.0.1:9900", "alice", user_a));
  CHECK_FALSE(store.user_verified("10.0.0.1:9900", "alice", user_b));  // per server
  // The same 32 bytes as a user's key are not the server's key, and the other way round.
  CHECK_FALSE(store.server_verified("127.0.0.1:9900", filled(0x44)));
  CHECK_FALSE(store.user_verified("127.0.0.1:9900", "", crypto::ed25519_public_key{server_a}));

  SUBCASE("marking a new key replaces the old entry") {
    store.mark_user("127.0.0.1:9900", "alice", user_a);
    CHECK(store.user_verified("127.0.0.1:9900", "alice", user_a));
    CHECK_FALSE(store.user_verified("127.0.0.1:9900", "alice", user_b));
    CHECK(store.entries().size() == 2);
  }
}

TEST_CASE("verified store: the file names full keys; round trip through text; bad lines are skipped") {
  nc::verified_store store;
  store.mark_server("[::1]:9900", server_a);
  store.mark_user("[::1]:9900", "bob", user_b);
  const auto text = store.serialize();
  CHECK(text.find("server [::1]:9900 " + std::string(64, '1') + "\n") != std::string::npos);
  CHECK(text.find("user [::1]:9900 bob " + std::string(64, '4') + "\n") != std::string::npos);
  const auto back = nc::verified_store::parse(text + "garbage line\nuser x bad!name " + std::string(64, '3') +
                                              "\nserver h:1 not-a-key\nserver h:2 " + std::string(63, '1') +
                                              "\n# comment\n");
  CHECK(back.entries().size() == 2);
  CHECK(back.server_verified("[::1]:9900", server_a));
  CHECK(back.user_verified("[::1]:9900", "BOB", user_b));
  // Upper-case hex is the same key, stored lower-case.
  const auto upper = nc::verified_store::parse("server h:1 " + std::string(64, 'A') + "\n");
  CHECK(upper.server_verified("h:1", filled(0xaa)));
  CHECK(upper.serialize().find(std::string(64, 'a')) != std::string::npos);
}

TEST_CASE("verified store: an old line naming a v2 fingerprint is honoured until marked again") {
  const std::string old_file = "server h:1 " + crypto::server_fingerprint_v2(server_a) + "\nuser h:1 bob " +
                               crypto::fingerprint_v2(user_b) + "\nuser h:1 carol 3b6a27bcceb6a42d62a3a8d02a6f0d73\n";
  auto store = nc::verified_store::parse(old_file);
  REQUIRE(store.entries().size() == 3);
  CHECK(store.server_verified("h:1", server_a));
  CHECK_FALSE(store.server_verified("h:1", server_b));
  CHECK(store.user_verified("h:1", "bob", user_b));
  CHECK_FALSE(store.user_verified("h:1", "bob", user_a));
  // A user fingerprint is not a server one: the labels differ.
  CHECK_FALSE(nc::verified_store::parse("server h:1 " + crypto::fingerprint_v2(user_b) + "\n")
                  .server_verified("h:1", crypto::public_key(user_b.bytes)));
  // A protocol 1 fingerprint is kept in the file but matches no key.
  CHECK(store.serialize().find("carol 3b6a-27bc") != std::string::npos);
  // Marking again writes the key in place of the fingerprint.
  store.mark_server("h:1", server_a);
  CHECK(store.serialize().find("server h:1 " + std::string(64, '1')) != std::string::npos);
  CHECK(store.serialize().find(crypto::server_fingerprint_v2(server_a)) == std::string::npos);
}

TEST_CASE("verified store: save writes 0600 atomically, load reads it back, missing is empty") {
  const auto dir = std::filesystem::temp_directory_path() / ("natter-verified-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const auto path = dir / "sub" / "verified";
  CHECK(nc::verified_store::load(path).entries().empty());
  nc::verified_store store;
  store.mark_server("127.0.0.1:1", server_a);
  store.save(path);
  struct stat st{};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(nc::verified_store::load(path).server_verified("127.0.0.1:1", server_a));
  CHECK_FALSE(std::filesystem::exists(path.string() + ".tmp"));
  std::filesystem::remove_all(dir);
}

// How the file is read and rewritten (docs/SECURITY.md "Files").
namespace {
std::filesystem::path fresh_dir(const char* tag) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("natter-verified-" + std::string(tag) + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> names_in(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}
}  // namespace

TEST_CASE("verified store: save replaces an existing file, 0600, no temporary file left behind") {
  const auto dir = fresh_dir("replace");
  const auto path = dir / "verified";
  { std::ofstream(path) << "server old:1 " << std::string(64, '2') << "\n"; }
  REQUIRE(::chmod(path.c_str(), 0644) == 0);
  nc::verified_store store;
  store.mark_server("127.0.0.1:1", server_a);
  store.save(path);
  CHECK(names_in(dir) == std::vector<std::string>{"verified"});
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  CHECK(slurp(path) == store.serialize());
  std::filesystem::remove_all(dir);
}

TEST_CASE("verified store: a stale verified.tmp planted as a symlink is not followed") {
  const auto dir = fresh_dir("stale");
  const auto path = dir / "verified";
  const auto victim = dir / "victim";
  { std::ofstream(victim) << "precious\n"; }
  std::filesystem::create_symlink(victim, dir / "verified.tmp");
  nc::verified_store store;
  store.mark_server("127.0.0.1:1", server_a);
  store.save(path);
  CHECK(slurp(victim) == "precious\n");
  CHECK(std::filesystem::is_symlink(dir / "verified.tmp"));
  CHECK(nc::verified_store::load(path).server_verified("127.0.0.1:1", server_a));
  std::filesystem::remove_all(dir);
}

TEST_CASE("verified store: a symlinked or others-writable file is refused on load") {
  const auto dir = fresh_dir("refuse");
  const auto path = dir / "verified";
  const std::string content = "server 127.0.0.1:1 " + std::string(64, '1') + "\n";
  std::string reason;
  SUBCASE("symlink") {
    reason = " is a symlink: refused";
    { std::ofstream(dir / "elsewhere") << content; }
    std::filesystem::create_symlink(dir / "elsewhere", path);
  }
  SUBCASE("writable by others") {
    reason = " is writable by others (mode 0666): chmod 600 " + path.string();
    { std::ofstream(path) << content; }
    REQUIRE(::chmod(path.c_str(), 0666) == 0);
  }
  std::string message = "accepted";
  try {
    (void)nc::verified_store::load(path);
  } catch (const nc::verified_store_error& e) {
    message = e.what();
  }
  CHECK(message.find("verified keys file " + path.string() + reason) != std::string::npos);
  std::filesystem::remove_all(dir);
}
