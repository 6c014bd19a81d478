// The opt-in end-to-end key log (e2e_keylog, docs/E2E.md §12): one line per message key, a
// pairwise line naming its direction, and the hop key log's file rules.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "e2e_test_support.hpp"
#include "natter/crypto/e2e_keylog.hpp"
#include "natter/crypto/e2e_sender_key.hpp"
#include "natter/crypto/key_file.hpp"
#include "planted_files.hpp"
#include "test_support.hpp"

using natter::test::t0;
using natter::test::temp_dir;
using natter::test::to_bytes;
namespace cr = natter::crypto;
namespace e2e = natter::crypto::e2e;

namespace {

// What the writer would append, kept in memory.
struct recorded_lines final : e2e::message_key_observer {
  std::vector<std::string> lines;
  void on_message_key(const e2e::message_key_use& use, const cr::secret_key& key) noexcept override {
    lines.push_back(e2e::e2e_keylog_line(use, key));
  }
};

cr::secret_key counting_key(std::uint8_t start) {
  cr::secret_key key;
  for (std::size_t i = 0; i < key.size(); ++i) key.data()[i] = static_cast<std::uint8_t>(start + i);
  return key;
}

const std::array<std::uint8_t, 8> some_id{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef};

// The message key a line ends with.
cr::secret_key key_of(const std::string& line) {
  cr::secret_key key;
  REQUIRE(line.size() > 64);
  REQUIRE(cr::from_hex(line.substr(line.size() - 64), {key.data(), cr::key_size}));
  return key;
}

std::vector<std::string> read_lines(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

}  // namespace

TEST_CASE("e2e key log: the documented line formats, a pairwise line with its direction") {
  const auto key = counting_key(0xa0);
  CHECK(e2e::e2e_keylog_line({e2e::chain_kind::pairwise, some_id, 7, "alice", "bob"}, key) ==
        "NATTER_E2E_KEY pairwise 0123456789abcdef 7 alice->bob "
        "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf");
  // A sender key id is one sender's: no direction.
  CHECK(e2e::e2e_keylog_line({e2e::chain_kind::sender_key, some_id, 4294967294u, {}, {}}, key) ==
        "NATTER_E2E_KEY room 0123456789abcdef 4294967294 "
        "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf");
}

TEST_CASE("e2e key log: a pairwise session's two directions give two lines one (id, n) apart only by direction") {
  const natter::test::e2e_pair pair;
  auto [alice, bob] = pair.sessions();
  recorded_lines alice_log;
  recorded_lines bob_log;
  alice.observe_keys(&alice_log);
  bob.observe_keys(&bob_log);

  const auto to_bob = alice.seal(to_bytes("to bob"));
  const auto to_alice = bob.seal(to_bytes("to alice"));
  REQUIRE(to_bob.has_value());
  REQUIRE(to_alice.has_value());
  REQUIRE(bob.open(*to_bob, t0).status == e2e::receive_status::ok);
  REQUIRE(alice.open(*to_alice, t0).status == e2e::receive_status::ok);

  // Each side wrote its seal, then its open; the sealer and the opener write the same line.
  REQUIRE(alice_log.lines.size() == 2);
  REQUIRE(bob_log.lines.size() == 2);
  CHECK(alice_log.lines[0] == bob_log.lines[1]);
  CHECK(bob_log.lines[0] == alice_log.lines[1]);
  const std::string id = cr::to_hex(alice.id());
  CHECK(std::regex_match(alice_log.lines[0], std::regex("^NATTER_E2E_KEY pairwise " + id + " 0 alice->bob [0-9a-f]{64}$")));
  CHECK(std::regex_match(bob_log.lines[0], std::regex("^NATTER_E2E_KEY pairwise " + id + " 0 bob->alice [0-9a-f]{64}$")));
  // Same id, same n, different keys: only the direction tells a dissector which line is whose.
  CHECK(alice_log.lines[0].substr(alice_log.lines[0].size() - 64) !=
        bob_log.lines[0].substr(bob_log.lines[0].size() - 64));

  // Each line opens its own direction's body and not the other's.
  const auto body_to_bob = e2e::parse_pairwise_body(*to_bob);
  const auto body_to_alice = e2e::parse_pairwise_body(*to_alice);
  REQUIRE(body_to_bob.has_value());
  REQUIRE(body_to_alice.has_value());
  const auto open_with = [](const std::string& line, const e2e::pairwise_body_view& body) {
    return e2e::open(key_of(line), body.nonce, body.header_bytes, body.ciphertext);
  };
  CHECK(open_with(alice_log.lines[0], *body_to_bob) == to_bytes("to bob"));
  CHECK(open_with(bob_log.lines[0], *body_to_alice) == to_bytes("to alice"));
  CHECK_FALSE(open_with(alice_log.lines[0], *body_to_alice).has_value());
  CHECK_FALSE(open_with(bob_log.lines[0], *body_to_bob).has_value());
}

TEST_CASE("e2e key log: a room message's line is the same for the sender and a receiver, and opens it") {
  auto sender = e2e::sender_key_sender::create("lobby");
  REQUIRE(sender.has_value());
  auto receiver = e2e::sender_key_receiver::from_distribution(sender->distribution());
  REQUIRE(receiver.has_value());
  recorded_lines sent;
  recorded_lines received;
  sender->observe_keys(&sent);
  receiver->observe_keys(&received);
  const auto message = sender->seal(to_bytes("hello room"));
  REQUIRE(message.has_value());
  REQUIRE(receiver->open(*message, t0).status == e2e::receive_status::ok);
  REQUIRE(sent.lines.size() == 1);
  REQUIRE(received.lines == sent.lines);
  CHECK(std::regex_match(sent.lines[0],
                         std::regex("^NATTER_E2E_KEY room " + cr::to_hex(sender->key_id()) + " 0 [0-9a-f]{64}$")));
  const auto view = e2e::parse_room_message(*message);
  REQUIRE(view.has_value());
  CHECK(e2e::open(key_of(sent.lines[0]), view->nonce, view->header_bytes, view->ciphertext) == to_bytes("hello room"));
}

TEST_CASE("e2e key log file: created 0600, appended to across runs, others' readable files refused") {
  temp_dir tmp;
  const auto path = tmp / "e2e.keylog";
  const auto key = counting_key(0x10);
  const e2e::message_key_use use{e2e::chain_kind::pairwise, some_id, 0, "alice", "bob"};
  {
    e2e::e2e_keylog_writer log(path);
    log.on_message_key(use, key);
  }
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777u) == 0600u);
  {
    e2e::e2e_keylog_writer again(path);  // a second run must not truncate
    again.on_message_key({e2e::chain_kind::sender_key, some_id, 1, {}, {}}, key);
  }
  const auto lines = read_lines(path);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == e2e::e2e_keylog_line(use, key));
  CHECK(lines[1].starts_with("NATTER_E2E_KEY room 0123456789abcdef 1 "));

  const auto planted = tmp / "planted.keylog";
  natter::test::write_file(planted, "", 0644);
  CHECK_THROWS_AS(e2e::e2e_keylog_writer{planted}, cr::key_file_error);
  CHECK(natter::test::read_file(planted).empty());
}
