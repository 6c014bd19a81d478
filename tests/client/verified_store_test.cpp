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

namespace nc = natter::client;

namespace {
constexpr const char* fp_a = "3b6a-27bc-ceb6-a42d-62a3-a8d0-2a6f-0d73";
constexpr const char* fp_b = "1503-4d48-517a-f22f-20be-1cca-c826-e9a9";
}  // namespace

TEST_CASE("verified store: server and user entries are keyed by the key") {
  nc::verified_store store;
  CHECK_FALSE(store.server_verified("127.0.0.1:9900", fp_a));
  store.mark_server("127.0.0.1:9900", fp_a);
  CHECK(store.server_verified("127.0.0.1:9900", fp_a));
  CHECK(store.server_verified("127.0.0.1:9900", "3B6A27BCCEB6A42D62A3A8D02A6F0D73"));  // any spelling
  CHECK_FALSE(store.server_verified("127.0.0.1:9900", fp_b));  // a changed key is not verified
  CHECK_FALSE(store.server_verified("127.0.0.1:9901", fp_a));  // another server

  store.mark_user("127.0.0.1:9900", "Alice", fp_b);
  CHECK(store.user_verified("127.0.0.1:9900", "alice", fp_b));  // names fold
  CHECK_FALSE(store.user_verified("127.0.0.1:9900", "alice", fp_a));
  CHECK_FALSE(store.user_verified("10.0.0.1:9900", "alice", fp_b));  // per server
  CHECK_FALSE(store.server_verified("127.0.0.1:9900", fp_b));        // a user key is not the server's

  SUBCASE("marking a new key replaces the old entry") {
    store.mark_user("127.0.0.1:9900", "alice", fp_a);
    CHECK(store.user_verified("127.0.0.1:9900", "alice", fp_a));
    CHECK_FALSE(store.user_verified("127.0.0.1:9900", "alice", fp_b));
    CHECK(store.entries().size() == 2);
  }
}

TEST_CASE("verified store: round trip through text; bad lines are skipped") {
  nc::verified_store store;
  store.mark_server("[::1]:9900", fp_a);
  store.mark_user("[::1]:9900", "bob", fp_b);
  const auto text = store.serialize();
  const auto back = nc::verified_store::parse(text + "garbage line\nuser x bad!name " + fp_a +
                                              "\nserver h:1 not-a-fingerprint\n# comment\n");
  CHECK(back.entries().size() == 2);
  CHECK(back.server_verified("[::1]:9900", fp_a));
  CHECK(back.user_verified("[::1]:9900", "BOB", fp_b));
}

TEST_CASE("verified store: save writes 0600 atomically, load reads it back, missing is empty") {
  const auto dir = std::filesystem::temp_directory_path() / ("natter-verified-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const auto path = dir / "sub" / "verified";
  CHECK(nc::verified_store::load(path).entries().empty());
  nc::verified_store store;
  store.mark_server("127.0.0.1:1", fp_a);
  store.save(path);
  struct stat st{};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  CHECK(nc::verified_store::load(path).server_verified("127.0.0.1:1", fp_a));
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
  { std::ofstream(path) << "server old:1 " << fp_b << "\n"; }
  REQUIRE(::chmod(path.c_str(), 0644) == 0);
  nc::verified_store store;
  store.mark_server("127.0.0.1:1", fp_a);
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
  store.mark_server("127.0.0.1:1", fp_a);
  store.save(path);
  CHECK(slurp(victim) == "precious\n");
  CHECK(std::filesystem::is_symlink(dir / "verified.tmp"));
  CHECK(nc::verified_store::load(path).server_verified("127.0.0.1:1", fp_a));
  std::filesystem::remove_all(dir);
}

TEST_CASE("verified store: a symlinked or others-writable file is refused on load") {
  const auto dir = fresh_dir("refuse");
  const auto path = dir / "verified";
  const std::string content = std::string("server 127.0.0.1:1 ") + fp_a + "\n";
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
