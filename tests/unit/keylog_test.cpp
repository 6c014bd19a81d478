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

#include "natter/crypto/handshake_v2.hpp"
#include "natter/crypto/identity_v2.hpp"
#include "natter/crypto/session_cipher_v2.hpp"
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

natter::crypto::public_key counting_nonce() {
  natter::crypto::public_key n{};
  for (std::size_t i = 0; i < n.size(); ++i) n[i] = static_cast<std::uint8_t>(i);
  return n;
}

natter::crypto::secret_key counting_key(std::uint8_t start) {
  natter::crypto::secret_key key;
  for (std::size_t i = 0; i < key.size(); ++i) key.data()[i] = static_cast<std::uint8_t>(start + i);
  return key;
}

// A line for the connection `counting_nonce()` with keys counting from `start` and `start + 0x40`.
std::string line_for(std::uint8_t start) {
  return natter::crypto::keylog_line(counting_nonce(), counting_key(start), counting_key(start + 0x40));
}

void append(natter::crypto::keylog_writer& log, std::uint8_t start) {
  log.append(counting_nonce(), counting_key(start), counting_key(start + 0x40));
}

// The message of the key_file_error opening `path` as a key log, or "accepted".
std::string keylog_refusal(const std::filesystem::path& path) {
  try {
    natter::crypto::keylog_writer log(path);
    append(log, 0x40);
  } catch (const natter::crypto::key_file_error& e) {
    return e.what();
  }
  return "accepted";
}

}  // namespace

TEST_CASE("a key log line has the documented format") {
  const std::string line = natter::crypto::keylog_line(counting_nonce(), counting_key(0xa0), counting_key(0xe0));
  CHECK(line ==
        "NATTER_V2_SESSION "
        "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f "
        "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf "
        "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff");
  CHECK(std::regex_match(line, std::regex("^NATTER_V2_SESSION [0-9a-f]{64} [0-9a-f]{64} [0-9a-f]{64}$")));
}

TEST_CASE("the key log file is created 0600 and appended to, one line per connection") {
  temp_dir tmp;
  const auto path = tmp / "keys.log";
  {
    natter::crypto::keylog_writer log(path);
    CHECK(log.path() == path);
    append(log, 0);
    append(log, 1);
  }
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777u) == 0600u);
  {
    natter::crypto::keylog_writer again(path);  // a second run must not truncate
    append(again, 2);
  }
  const auto lines = read_lines(path);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == line_for(0));
  CHECK(lines[1] == line_for(1));
  CHECK(lines[2] == line_for(2));
}

TEST_CASE("an unopenable key log is a key_file_error") {
  temp_dir tmp;
  CHECK_THROWS_AS(natter::crypto::keylog_writer(tmp / "no" / "such" / "dir.log"), natter::crypto::key_file_error);
}

TEST_CASE("the logged session keys open that connection's frames, both ways") {
  namespace cr = natter::crypto;
  const auto client_id = cr::identity_v2::generate();
  const auto server_id = cr::key_pair::generate();
  temp_dir tmp;
  const auto path = tmp / "keys.log";
  std::vector<std::uint8_t> message_1;
  std::optional<cr::session_cipher_v2> client_cipher;
  std::optional<cr::session_cipher_v2> server_cipher;
  {
    // The key log is the client handshake's observer: it writes the keys as Split() derives them.
    cr::keylog_writer log(path);
    auto client = cr::handshake_v2::client(client_id, &log);
    auto server = cr::handshake_v2::server(server_id, {65536, 4096});
    REQUIRE(client.on_frame(server.start().at(0)).empty());
    message_1 = client.accept_peer_key().at(0);
    const auto message_2 = server.on_frame(message_1).at(0);
    const auto message_3 = client.on_frame(message_2).at(0);
    REQUIRE(server.on_frame(message_3).empty());
    auto ck = client.take_keys();
    auto sk = server.take_keys();
    REQUIRE(ck.has_value());
    REQUIRE(sk.has_value());
    client_cipher.emplace(std::move(ck->client_to_server), std::move(ck->server_to_client), cr::direction::client_to_server);
    server_cipher.emplace(std::move(sk->server_to_client), std::move(sk->client_to_server), cr::direction::server_to_client);
  }
  const auto lines = read_lines(path);
  REQUIRE(lines.size() == 1);
  const std::smatch fields = [&] {
    std::smatch m;
    REQUIRE(std::regex_match(lines[0], m, std::regex("^NATTER_V2_SESSION ([0-9a-f]{64}) ([0-9a-f]{64}) ([0-9a-f]{64})$")));
    return m;
  }();
  // The connection id is the client's ephemeral key: message 1's 32 bytes after the 8-byte hello header.
  CHECK(fields[1].str() == natter::test::hex_of(std::span(message_1).subspan(8, 32)));

  // What an inspection tool does: rebuild both keys from the log and open sniffed frames.
  const auto key_from = [](const std::string& hex) {
    cr::secret_key key;
    REQUIRE(cr::from_hex(hex, std::span(key.data(), key.size())));
    return key;
  };
  // The observer opens c->s frames as the server would: it "sends" s->c (never used) and receives c->s.
  cr::session_cipher_v2 reads_client(key_from(fields[3].str()), key_from(fields[2].str()), cr::direction::server_to_client);
  cr::session_cipher_v2 reads_server(key_from(fields[2].str()), key_from(fields[3].str()), cr::direction::client_to_server);
  std::vector<std::uint8_t> up;
  natter::append_sealed_frame(*client_cipher, R"({"type":"say","text":"hello"})", up);
  const auto opened_up = reads_client.open(std::span(up).subspan(4));
  CHECK(opened_up.status == cr::session_cipher_v2::open_status::ok);
  CHECK(opened_up.plaintext == R"({"type":"say","text":"hello"})");
  std::vector<std::uint8_t> down;
  natter::append_sealed_frame(*server_cipher, R"({"type":"pong"})", down);
  const auto opened_down = reads_server.open(std::span(down).subspan(4));
  CHECK(opened_down.status == cr::session_cipher_v2::open_status::ok);
  CHECK(opened_down.plaintext == R"({"type":"pong"})");
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
      append(log, 0x40);
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
