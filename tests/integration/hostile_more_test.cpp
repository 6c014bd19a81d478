// More hostile clients (hostile_test.cpp has the first set): slowloris after join, 2 and 4 GiB
// length prefixes, deceptive names, whispers to oneself, and connection hoarding. Each case checks
// that a well-behaved pair of users is served while the hostile connection is still there.
#include <doctest/doctest.h>

#include <thread>

#include "natter/crypto/session_cipher_v2.hpp"
#include "natter/frame.hpp"
#include "proc_stats.hpp"
#include "serving_check.hpp"
#include "server_process.hpp"
#include "test_peer.hpp"

using namespace natter;
using namespace natter::test;

namespace {

bytes as_bytes(std::string_view text) { return bytes(text.begin(), text.end()); }

// Waits for the server's goodbye; true if it names `reason` and the connection then closes.
bool told_and_closed(test_peer& peer, const std::string& reason, std::chrono::milliseconds timeout) {
  const auto bye = peer.wait_for_type<bye_event>(timeout);
  if (!bye) return false;
  CHECK(bye->reason == reason);
  return peer.wait_closed();
}

}  // namespace

TEST_CASE("slowloris after join: half a frame then silence is cut off after the idle timeout") {
  server_process server({"--idle-timeout", "1"});
  test_peer loris(server.port());
  REQUIRE(loris.join("loris"));
  const auto started = std::chrono::steady_clock::now();
  // A header announcing 200 bytes, and only 50 of them.
  bytes half = {0x00, 0x00, 0x00, 0xc8};
  half.resize(4 + 50, 'x');
  loris.send_raw(half);
  check_still_serving(server, "loris");  // while the half frame is pending
  CHECK(told_and_closed(loris, "timeout", 5s));
  // Not before the timeout: a partial frame is not a reason to close, silence is.
  CHECK(std::chrono::steady_clock::now() - started >= 900ms);
  CHECK(server.wait_for_log("loris (127.0.0.1"));
  check_still_serving(server, "loris2");
}

TEST_CASE("slowloris after join: a frame dribbled a byte at a time is not activity") {
  server_process server({"--idle-timeout", "1"});
  test_peer loris(server.port());
  REQUIRE(loris.join("dribbler"));
  const auto started = std::chrono::steady_clock::now();
  const std::uint8_t header[] = {0x00, 0x00, 0x01, 0x00};  // 256 bytes announced
  loris.send_raw(header);
  std::optional<bye_event> bye;
  // One byte every 100 ms would take 25 s to finish the frame; the timeout must come first.
  for (int i = 0; i < 60 && !bye; ++i) {
    const std::uint8_t one[] = {'x'};
    loris.send_raw(one);
    if (auto m = loris.next(100ms); m && std::holds_alternative<bye_event>(*m)) bye = std::get<bye_event>(*m);
    if (loris.closed()) break;
    if (i == 3) check_still_serving(server, "dribble");
  }
  REQUIRE(bye);
  CHECK(bye->reason == "timeout");
  CHECK(std::chrono::steady_clock::now() - started < 4s);
  CHECK(loris.wait_closed());
}

TEST_CASE("2 GiB and 4 GiB length prefixes are refused before anything is allocated") {
  server_process server;
  const std::size_t rss_before = resident_kib(server.pid());
  int round = 0;
  for (const std::uint32_t length : {0x80000000u, 0xffffffffu, 0x00010001u /* limit + 1 */}) {
    CAPTURE(length);
    const std::uint8_t prefix[] = {static_cast<std::uint8_t>(length >> 24), static_cast<std::uint8_t>(length >> 16),
                                   static_cast<std::uint8_t>(length >> 8), static_cast<std::uint8_t>(length), 'x',
                                   'y', 'z'};
    // Names differ per round: a closed connection's name is freed asynchronously.
    const std::string tag = std::to_string(++round);
    {  // in place of the hello
      test_peer peer(server.port());
      peer.send_raw(prefix);
      check_still_serving(server, "pre" + tag);
      CHECK(peer.wait_closed());
    }
    {  // after join
      test_peer peer(server.port());
      REQUIRE(peer.join("huge" + tag));
      peer.send_raw(prefix);
      check_still_serving(server, "post" + tag);
      CHECK(told_and_closed(peer, "protocol_error", 3s));
    }
  }
  CHECK(server.wait_for_log("frame length over the limit"));
  check_still_serving(server, "huge");
  // A server that believed the prefix would have tried to reserve gigabytes. What it holds now
  // includes a few connections' buffers; 16 MiB is far below any honoured 2 GiB request.
  const std::size_t rss_after = resident_kib(server.pid());
  INFO("server RSS before ", rss_before, " KiB, after ", rss_after, " KiB");
  CHECK(rss_after < rss_before + 16 * 1024);
}

TEST_CASE("the largest frame a padded plaintext makes is read; the refusal of its content is not fatal") {
  server_process server;
  test_peer peer(server.port());
  REQUIRE(peer.join("edge"));
  // Bodies are 40 + 128·k bytes (padding), so the largest under the 65 536-byte limit is
  // 40 + 128·511 = 65 448 bytes: a plaintext of 65 407 bytes (one more needs another block).
  constexpr std::size_t largest_plaintext = 65407;
  REQUIRE(crypto::session_cipher_v2::sealed_size(largest_plaintext) == 65448);
  REQUIRE(crypto::session_cipher_v2::sealed_size(largest_plaintext + 1) > 65536);
  const std::string prefix = R"({"type":"say","ref":5,"text":")";
  const std::string plaintext = prefix + std::string(largest_plaintext - prefix.size() - 2, 'a') + "\"}";
  REQUIRE(plaintext.size() == largest_plaintext);
  bytes wire;
  natter::append_sealed_frame(peer.cipher(), plaintext, wire);
  REQUIRE(wire.size() == 4 + 65448);
  peer.send_raw(wire);
  const auto error = peer.wait_for_type<error_event>();
  REQUIRE(error);
  CHECK(error->code == "bad_text");
  CHECK(error->ref == 5);
  peer.send(ping_request{6});
  CHECK(peer.wait_for_type<pong_event>());
  // One byte more and the frame is over the limit: that closes the connection.
  wire.clear();
  natter::append_sealed_frame(peer.cipher(), plaintext + " ", wire);
  peer.send_raw(wire);
  CHECK(told_and_closed(peer, "protocol_error", 3s));
  CHECK(server.wait_for_log("over the limit"));
}

TEST_CASE("names with control characters, bidi overrides, invisible characters or lookalikes are refused") {
  server_process server;
  test_peer alice(server.port());
  REQUIRE(alice.join("alice"));
  test_peer mallory(server.port());
  REQUIRE(mallory.handshake());
  // JSON escapes, so the frame itself is valid UTF-8 JSON and the name rule is what refuses them.
  const std::vector<std::string> names = {
      R"(al\u0001ice)",        // C0 control
      R"(alice\u001b[2J)",     // terminal escape
      R"(al\u007fice)",        // DEL
      R"(al\u0085ice)",        // C1 control (NEL)
      R"(\u202ealice)",        // right-to-left override
      R"(ali\u2066ce)",        // left-to-right isolate
      R"(al\u200bice)",        // zero-width space
      R"(al\u00adice)",        // soft hyphen
      R"(\u0430lice)",         // Cyrillic a: "аlice"
      R"(\u0391lice)",         // Greek capital alpha
      R"(\uff41lice)",         // fullwidth a
      R"(alic\u0065\u0301)",   // e + combining acute
      "alice ",                // trailing space
      "",                      // empty
      std::string(33, 'a'),    // one too long
  };
  std::uint64_t ref = 100;
  for (const auto& name : names) {
    CAPTURE(name);
    mallory.send_json(R"({"type":"join","ref":)" + std::to_string(++ref) + R"(,"name":")" + name + "\"}");
    const auto error = mallory.wait_for_type<error_event>();
    REQUIRE(error);
    CHECK(error->code == "bad_name");
    CHECK(error->ref == ref);
  }
  // The same names as whisper and whois targets.
  mallory.send_json(R"({"type":"join","name":"mallory"})");
  REQUIRE(mallory.wait_for_type<welcome_event>());
  mallory.send_json(R"({"type":"whisper","to":"\u0430lice","text":"it is me","ref":1})");
  auto error = mallory.wait_for_type<error_event>();
  REQUIRE(error);
  CHECK(error->code == "bad_name");
  mallory.send_json(R"({"type":"whois","name":"al\u200bice","ref":2})");
  error = mallory.wait_for_type<error_event>();
  REQUIRE(error);
  CHECK(error->code == "bad_name");
  check_still_serving(server, "names");
}

TEST_CASE("overlong UTF-8 in a name is refused as bad_json: the frame is not valid UTF-8 JSON") {
  server_process server;
  test_peer mallory(server.port());
  REQUIRE(mallory.handshake());
  // "\xc1\xa1" is an overlong 'a'; "\xe0\x81\xa1" another; "\xc0\x80" an overlong NUL.
  for (const std::string name : {"\xc1\xa1lice", "\xe0\x81\xa1lice", "al\xc0\x80ice"}) {
    mallory.send_json(R"({"type":"join","ref":1,"name":")" + name + "\"}");
    const auto error = mallory.wait_for_type<error_event>();
    REQUIRE(error);
    CHECK(error->code == "bad_json");
  }
  check_still_serving(server, "overlong");
  // Nothing was registered: the plain name is still free for a different key.
  test_peer alice(server.port());
  CHECK(alice.join("alice"));
}

TEST_CASE("a whisper to oneself is delivered to oneself only, and acknowledged") {
  server_process server;
  test_peer alice(server.port()), bob(server.port());
  REQUIRE(alice.join("alice"));
  REQUIRE(bob.join("bob"));
  alice.send(whisper_request{"ALICE", "note to self", 3});
  // The message and the ack may come in either order.
  std::optional<ack_event> ack;
  std::optional<chat_event> note;
  while (!ack || !note) {
    const auto m = alice.next();
    REQUIRE(m);
    if (const auto* a = std::get_if<ack_event>(&*m)) ack = *a;
    if (const auto* c = std::get_if<chat_event>(&*m)) note = *c;
  }
  CHECK(ack->ref == 3);
  CHECK(note->whisper);
  CHECK(note->from == "alice");
  CHECK(note->to == "alice");
  CHECK(note->id == ack->id);
  CHECK_FALSE(bob.wait_for_type<chat_event>(300ms));
}

TEST_CASE("connections hoarded from one address do not lock out another, and are released") {
  server_process server({"--max-per-address", "3", "--handshake-timeout", "1"});
  // Three connections that never say anything hold 127.0.0.1's slots.
  std::vector<std::unique_ptr<test_peer>> hoard;
  for (int i = 0; i < 3; ++i) hoard.push_back(std::make_unique<test_peer>(server.port()));
  std::this_thread::sleep_for(100ms);  // let the server accept all three
  test_peer refused(server.port());
  CHECK_FALSE(refused.handshake());
  CHECK(refused.error().find("too many connections") != std::string::npos);
  // Meanwhile another host (127.0.0.2 is loopback too) is served.
  test_peer a(server.port(), "127.0.0.2"), b(server.port(), "127.0.0.2");
  REQUIRE(a.join("other_host_a"));
  REQUIRE(b.join("other_host_b"));
  a.send(say_request{"hello from elsewhere", 1});
  CHECK(b.wait_for_type<chat_event>());
  // The hoarders are cut at the handshake deadline and their slots come back.
  for (auto& h : hoard) CHECK(h->wait_closed(4s));
  check_still_serving(server, "hoard");
}
