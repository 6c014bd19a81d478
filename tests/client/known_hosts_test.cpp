#include "natter/client/known_hosts.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace nc = natter::client;

namespace {
natter::crypto::public_key key_of(std::uint8_t fill) {
  natter::crypto::public_key k{};
  k.fill(fill);
  return k;
}

std::filesystem::path temp_dir() {
  auto base = std::filesystem::temp_directory_path() /
              ("natter_kh_test_" + std::to_string(::getpid()) + "_" + std::to_string(std::rand()));
  std::filesystem::remove_all(base);
  return base;
}
}  // namespace

TEST_CASE("host_key brackets IPv6 and folds case") {
  CHECK(nc::host_key("127.0.0.1", 9900) == "127.0.0.1:9900");
  CHECK(nc::host_key("::1", 9900) == "[::1]:9900");
  CHECK(nc::host_key("Chat.Example.ORG", 1234) == "chat.example.org:1234");
}

TEST_CASE("known_hosts parses pins, comments and skips malformed lines") {
  const std::string hex(64, 'a');
  const std::string content = "# natter pins\n"
                              "\n"
                              "127.0.0.1:9900 " + hex + "\n"
                              "broken-line-without-key\n"
                              "host:1 nothex\n"
                              "  [::1]:9900   " + std::string(64, 'b') + "  \r\n"
                              "127.0.0.1:9900 " + std::string(64, 'c');
  const auto pins = nc::known_hosts::parse(content);
  REQUIRE(pins.entries().size() == 3);
  CHECK(pins.malformed_lines() == 2);

  const auto* first = pins.find("127.0.0.1:9900");
  REQUIRE(first != nullptr);
  CHECK(first->key == key_of(0xaa));  // the first of duplicate lines wins, as in ssh
  CHECK(first->line == 3);

  const auto* v6 = pins.find("[::1]:9900");
  REQUIRE(v6 != nullptr);
  CHECK(v6->key == key_of(0xbb));
  CHECK(pins.find("127.0.0.1:9901") == nullptr);
  CHECK(pins.find("[::1]:9900") == v6);
}

TEST_CASE("known_hosts lookups are case-insensitive in the host") {
  auto pins = nc::known_hosts::parse("Chat.Example.org:9900 " + std::string(64, '0') + "1\n" );
  // 65 hex digits: malformed
  CHECK(pins.entries().empty());
  pins = nc::known_hosts::parse("Chat.Example.org:9900 " + std::string(64, '1') + "\n");
  CHECK(pins.find("chat.example.ORG:9900") != nullptr);
}

TEST_CASE("known_hosts::load of a missing file is empty") {
  const auto dir = temp_dir();
  const auto pins = nc::known_hosts::load(dir / "nope");
  CHECK(pins.entries().empty());
}

TEST_CASE("known_hosts::append creates a private file and directory, and round-trips") {
  const auto dir = temp_dir() / "natter";
  const auto path = dir / "known_hosts";
  nc::known_hosts::append(path, "127.0.0.1:9900", key_of(1));
  nc::known_hosts::append(path, "[::1]:9900", key_of(2));

  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  REQUIRE(::stat(dir.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0700);

  const auto pins = nc::known_hosts::load(path);
  REQUIRE(pins.entries().size() == 2);
  CHECK(pins.find("127.0.0.1:9900")->key == key_of(1));
  CHECK(pins.find("[::1]:9900")->key == key_of(2));
  std::filesystem::remove_all(dir.parent_path());
}

TEST_CASE("known_hosts::append does not glue onto a last line without newline") {
  const auto dir = temp_dir();
  std::filesystem::create_directories(dir);
  const auto path = dir / "known_hosts";
  {
    std::ofstream out(path);
    out << "a:1 " << std::string(64, 'a');  // no final newline
  }
  nc::known_hosts::append(path, "b:2", key_of(0xbb));
  const auto pins = nc::known_hosts::load(path);
  CHECK(pins.entries().size() == 2);
  CHECK(pins.malformed_lines() == 0);
  std::filesystem::remove_all(dir);
}

// How the file is read and rewritten (docs/SECURITY.md "Files").
namespace {
std::vector<std::string> names_in(const std::filesystem::path& dir) {
  std::vector<std::string> names;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) names.push_back(entry.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

void plant(const std::filesystem::path& path, const std::string& content, mode_t mode) {
  { std::ofstream(path, std::ios::binary) << content; }
  REQUIRE(::chmod(path.c_str(), mode) == 0);
}

std::string load_error(const std::filesystem::path& path) {
  try {
    (void)nc::known_hosts::load(path);
  } catch (const nc::known_hosts_error& e) {
    return e.what();
  }
  return "accepted";
}
}  // namespace

TEST_CASE("known_hosts::append rewrites the file atomically: 0600, no temporary file left behind") {
  const auto dir = temp_dir();
  std::filesystem::create_directories(dir);
  const auto path = dir / "known_hosts";
  // An old or hand-made file with a wider mode: the rewrite makes it 0600 like a new one.
  plant(path, "# mine\na:1 " + std::string(64, 'a') + "\n", 0644);
  nc::known_hosts::append(path, "b:2", key_of(0xbb));
  CHECK(names_in(dir) == std::vector<std::string>{"known_hosts"});
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  CHECK(slurp(path) == "# mine\na:1 " + std::string(64, 'a') + "\n" + nc::known_hosts::format_line("b:2", key_of(0xbb)) + "\n");
  std::filesystem::remove_all(dir);
}

TEST_CASE("known_hosts::append does not follow a stale known_hosts.tmp planted as a symlink") {
  const auto dir = temp_dir();
  std::filesystem::create_directories(dir);
  const auto path = dir / "known_hosts";
  const auto victim = dir / "victim";
  plant(victim, "precious\n", 0600);
  std::filesystem::create_symlink(victim, dir / "known_hosts.tmp");
  nc::known_hosts::append(path, "b:2", key_of(0xbb));
  CHECK(slurp(victim) == "precious\n");
  CHECK(std::filesystem::is_symlink(dir / "known_hosts.tmp"));
  CHECK(nc::known_hosts::load(path).find("b:2") != nullptr);
  CHECK(names_in(dir) == std::vector<std::string>{"known_hosts", "known_hosts.tmp", "victim"});
  std::filesystem::remove_all(dir);
}

TEST_CASE("a known_hosts that is a symlink is refused, and not written through") {
  const auto dir = temp_dir();
  std::filesystem::create_directories(dir);
  const auto path = dir / "known_hosts";
  const auto victim = dir / "elsewhere";
  const std::string pins = "a:1 " + std::string(64, 'a') + "\n";
  plant(victim, pins, 0600);
  std::filesystem::create_symlink(victim, path);
  CHECK(load_error(path).find("known hosts file " + path.string() + " is a symlink: refused") != std::string::npos);
  CHECK_THROWS_AS(nc::known_hosts::append(path, "b:2", key_of(0xbb)), nc::known_hosts_error);
  CHECK(slurp(victim) == pins);
  CHECK(std::filesystem::is_symlink(path));
  std::filesystem::remove_all(dir);
}

TEST_CASE("a known_hosts others can write, or another user owns, is refused") {
  const auto dir = temp_dir();
  std::filesystem::create_directories(dir);
  const auto path = dir / "known_hosts";
  const std::string pins = "a:1 " + std::string(64, 'a') + "\n";
  SUBCASE("writable by others") {
    for (const mode_t mode : {0666, 0620, 0602}) {
      CAPTURE(mode);
      plant(path, pins, mode);
      const std::string message = load_error(path);
      CHECK(message.find(path.string() + " is writable by others") != std::string::npos);
      CHECK(message.find("chmod 600") != std::string::npos);
    }
  }
  SUBCASE("readable by others is fine: pins are not secret") {
    plant(path, pins, 0644);
    CHECK(load_error(path) == "accepted");
  }
  SUBCASE("owned by uid 65534") {
    if (::geteuid() != 0) {
      MESSAGE("skipped: not root, cannot chown a file to uid 65534");
    } else {
      plant(path, pins, 0644);
      REQUIRE(::chown(path.c_str(), 65534, static_cast<gid_t>(-1)) == 0);
      CHECK(load_error(path).find(path.string() + " is owned by uid 65534") != std::string::npos);
    }
  }
  std::filesystem::remove_all(dir);
}
