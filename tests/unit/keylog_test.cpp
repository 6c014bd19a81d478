// The opt-in session key log (docs/PROTOCOL.md §8).
#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <fstream>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "natter/crypto/handshake.hpp"
#include "natter/crypto/key_file.hpp"
#include "natter/crypto/keylog.hpp"
#include "natter/frame.hpp"
#include "planted_files.hpp"
#include "test_support.hpp"

using natter::test::temp_dir;

namespace {

std::vector<std::string> read_lines(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

natter::crypto::nonce counting_nonce() {
  natter::crypto::nonce n{};
  for (std::size_t i = 0; i < n.size(); ++i) n[i] = static_cast<std::uint8_t>(i);
  return n;
}

natter::crypto::shared_key counting_key(std::uint8_t start) {
  std::array<std::uint8_t, 32> raw{};
  for (std::size_t i = 0; i < raw.size(); ++i) raw[i] = static_cast<std::uint8_t>(start + i);
  return natter::crypto::shared_key::from_bytes(raw);
}

// The message of the key_file_error opening `path` as a key log, or "accepted".
std::string keylog_refusal(const std::filesystem::path& path) {
  try {
    natter::crypto::keylog_writer log(path);
    log.append(counting_nonce(), counting_key(0x40));
  } catch (const natter::crypto::key_file_error& e) {
    return e.what();
  }
  return "accepted";
}

}  // namespace

TEST_CASE("a key log line has the documented format") {
  const std::string line = natter::crypto::keylog_line(counting_nonce(), counting_key(0xe0));
  CHECK(line ==
        "NATTER_SESSION_KEY "
        "000102030405060708090a0b0c0d0e0f1011121314151617 "
        "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
  CHECK(std::regex_match(line, std::regex("^NATTER_SESSION_KEY [0-9a-f]{48} [0-9a-f]{64}$")));
}

TEST_CASE("the key log file is created 0600 and appended to, one line per connection") {
  temp_dir tmp;
  const auto path = tmp / "keys.log";
  {
    natter::crypto::keylog_writer log(path);
    CHECK(log.path() == path);
    log.append(counting_nonce(), counting_key(0));
    log.append(counting_nonce(), counting_key(1));
  }
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777u) == 0600u);
  {
    natter::crypto::keylog_writer again(path);  // a second run must not truncate
    again.append(counting_nonce(), counting_key(2));
  }
  const auto lines = read_lines(path);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == natter::crypto::keylog_line(counting_nonce(), counting_key(0)));
  CHECK(lines[1] == natter::crypto::keylog_line(counting_nonce(), counting_key(1)));
  CHECK(lines[2] == natter::crypto::keylog_line(counting_nonce(), counting_key(2)));
}

TEST_CASE("an unopenable key log is a key_file_error") {
  temp_dir tmp;
  CHECK_THROWS_AS(natter::crypto::keylog_writer(tmp / "no" / "such" / "dir.log"), natter::crypto::key_file_error);
}

TEST_CASE("a logged session key opens that connection's frames") {
  using natter::crypto::handshake;
  using natter::crypto::role;
  const auto client_id = natter::crypto::key_pair::generate();
  const auto server_id = natter::crypto::key_pair::generate();
  temp_dir tmp;
  const auto path = tmp / "keys.log";
  std::vector<std::uint8_t> opening_kx;
  std::optional<natter::crypto::session_cipher> client_cipher;
  {
    // The key log is the client handshake's observer: it writes the key as it is derived.
    natter::crypto::keylog_writer log(path);
    handshake client(role::client, client_id, nullptr, &log);
    handshake server(role::server, server_id);
    REQUIRE(client.on_frame(server.start().at(0)).empty());
    const auto opening = client.accept_peer_key();
    opening_kx = opening.at(1);
    const auto server_kx = server.on_frame(opening.at(0));
    REQUIRE(server.on_frame(opening.at(1)).empty());
    REQUIRE(client.on_frame(server_kx.at(0)).empty());
    client_cipher.emplace(client.take_cipher());
  }
  auto& cipher = *client_cipher;
  const auto lines = read_lines(path);
  REQUIRE(lines.size() == 1);
  const std::smatch fields = [&] {
    std::smatch m;
    REQUIRE(std::regex_match(lines[0], m, std::regex("^NATTER_SESSION_KEY ([0-9a-f]{48}) ([0-9a-f]{64})$")));
    return m;
  }();
  // The connection id in the log is the nonce at the start of the client's key exchange frame.
  CHECK(fields[1].str() == natter::test::hex_of(std::span(opening_kx).first(24)));

  // What an inspection tool would do: rebuild the key from the log and open a sniffed frame.
  const auto raw = natter::crypto::public_key_from_hex(fields[2].str());  // 32 bytes of hex
  REQUIRE(raw.has_value());
  natter::crypto::session_cipher observer(natter::crypto::shared_key::from_bytes(*raw),
                                          natter::crypto::direction::server_to_client);
  std::vector<std::uint8_t> wire;
  natter::append_sealed_frame(cipher, R"({"type":"say","text":"hello"})", wire);
  const auto opened = observer.open(std::span(wire).subspan(4));
  CHECK(opened.status == natter::crypto::open_status::ok);
  CHECK(opened.plaintext == R"({"type":"say","text":"hello"})");
}

// The key log path is often in /tmp, where another user can plant the name first
// (docs/SECURITY.md "Files"). Session keys must never reach a file anyone else can read.

TEST_CASE("a key log planted as a symlink is refused, and its target is left untouched") {
  temp_dir tmp;
  const auto victim = tmp / "victim";
  const auto path = tmp / "keys.log";
  SUBCASE("to an existing file of ours") {
    natter::test::write_file(victim, "precious\n", 0600);
    std::filesystem::create_symlink(victim, path);
    CHECK(keylog_refusal(path).find("key log " + path.string() + " is a symlink: refused") != std::string::npos);
    CHECK(natter::test::read_file(victim) == "precious\n");
  }
  SUBCASE("dangling, to where the attacker will read") {
    std::filesystem::create_symlink(victim, path);
    CHECK(keylog_refusal(path).find(path.string() + " is a symlink: refused") != std::string::npos);
    CHECK_FALSE(std::filesystem::exists(victim));
  }
  CHECK(std::filesystem::is_symlink(path));
}

TEST_CASE("a planted key log others can read is refused, not appended to") {
  temp_dir tmp;
  const auto path = tmp / "keys.log";
  for (const unsigned mode : {0644u, 0640u, 0604u, 0622u}) {
    CAPTURE(mode);
    natter::test::write_file(path, "", mode);
    const std::string message = keylog_refusal(path);
    CHECK(message.find(path.string()) != std::string::npos);
    CHECK(message.find("chmod 600") != std::string::npos);
    CHECK(natter::test::read_file(path).empty());
  }
}

TEST_CASE("a key log that is a FIFO or a directory is refused as such") {
  temp_dir tmp;
  const auto path = tmp / "keys.log";
  SUBCASE("FIFO: refused without blocking for a reader") {
    natter::test::make_fifo(path);
    const std::string message = natter::test::error_from_fifo(path, [&] {
      natter::crypto::keylog_writer log(path);
      log.append(counting_nonce(), counting_key(0x40));
    });
    CHECK(message.find(path.string() + " is a FIFO: refused") != std::string::npos);
  }
  SUBCASE("directory") {
    std::filesystem::create_directory(path);
    CHECK(keylog_refusal(path).find(path.string() + " is a directory: refused") != std::string::npos);
  }
}

TEST_CASE("a key log with a second name (hard link) is refused") {
  temp_dir tmp;
  const auto other = tmp / "notes";
  natter::test::write_file(other, "mine\n", 0600);
  const auto path = tmp / "keys.log";
  std::filesystem::create_hard_link(other, path);
  CHECK(keylog_refusal(path).find(path.string() + " has 2 hard links: refused") != std::string::npos);
  CHECK(natter::test::read_file(other) == "mine\n");
}

TEST_CASE("a key log owned by another user is refused") {
  if (!natter::test::can_chown()) {
    MESSAGE("skipped: not root, cannot chown a file to uid 65534");
    return;
  }
  temp_dir tmp;
  const auto path = tmp / "keys.log";
  natter::test::write_file(path, "", 0600);
  REQUIRE(::chown(path.c_str(), natter::test::nobody_uid, static_cast<gid_t>(-1)) == 0);
  CHECK(keylog_refusal(path).find(path.string() + " is owned by uid 65534") != std::string::npos);
  CHECK(natter::test::read_file(path).empty());
}
