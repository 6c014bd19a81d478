// peer_pins: TOFU pins of peers' identity keys per server, and their file.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "e2e_test_net.hpp"
#include "natter/client/peer_pins.hpp"

namespace natter::test {
namespace {

using client::peer_pin_status;
using client::peer_pins;

TEST_CASE("peer_pins: first sight pins, the same key passes, another key is a change") {
  const auto alice = identity_of(0xa1).public_key();
  const auto other = identity_of(0x77).public_key();
  peer_pins pins;
  CHECK(pins.check("h:1", "Alice", alice) == peer_pin_status::new_pin);
  CHECK(pins.check("h:1", "alice", alice) == peer_pin_status::pinned);  // names fold
  CHECK(pins.check("h:1", "alice", other) == peer_pin_status::changed);
  CHECK(pins.pinned("h:1", "alice") == alice);  // a change is not pinned by itself
  CHECK(pins.check("h:2", "alice", other) == peer_pin_status::new_pin);  // per server
  pins.accept("h:1", "alice", other);
  CHECK(pins.check("h:1", "alice", other) == peer_pin_status::pinned);
}

TEST_CASE("peer_pins: saved and loaded; malformed lines dropped") {
  const auto dir = std::filesystem::temp_directory_path() / ("natter-pins-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const auto path = dir / "peers";
  const auto bob = identity_of(0xb0).public_key();
  peer_pins pins;
  (void)pins.check("127.0.0.1:7777", "bob", bob);
  pins.save(path);
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  {
    std::ofstream extra(path, std::ios::app);
    extra << "peer 127.0.0.1:7777 carol nothex\nrubbish\n";
  }
  auto loaded = peer_pins::load(path);
  CHECK(loaded.pinned("127.0.0.1:7777", "bob") == bob);
  CHECK_FALSE(loaded.pinned("127.0.0.1:7777", "carol").has_value());
  CHECK(peer_pins::load(dir / "missing").serialize() == peer_pins{}.serialize());
  ::chmod(path.c_str(), 0666);
  CHECK_THROWS_AS((void)peer_pins::load(path), client::peer_pins_error);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace natter::test
