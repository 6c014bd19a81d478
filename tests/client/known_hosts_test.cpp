#include "natter/client/known_hosts.hpp"

#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

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
