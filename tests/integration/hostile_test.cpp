// Bad input never takes the server down or stalls anyone else: each case misbehaves on one
// connection and then checks that a well-behaved pair of users still chats.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "natter/crypto/hello.hpp"
#include "natter/crypto/session_cipher_v2.hpp"
#include "natter/frame.hpp"
#include "server_process.hpp"
#include "serving_check.hpp"
#include "test_peer.hpp"

using namespace natter;
using namespace natter::test;


TEST_CASE("garbage instead of a hello closes only that connection") {
  server_process server;
  test_peer intruder(server.port());
  const std::string http = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
  intruder.send_raw(std::span(reinterpret_cast<const std::uint8_t*>(http.data()), http.size()));
  CHECK(intruder.wait_closed());
  check_still_serving(server, "garbage");
}

TEST_CASE("an oversize length prefix is refused before anything is allocated") {
  server_process server;
  test_peer peer(server.port());
  REQUIRE(peer.join("big"));
  const std::uint8_t huge[] = {0xff, 0xff, 0xff, 0xff, 'x'};
  peer.send_raw(huge);
  CHECK(peer.wait_closed());
  CHECK(server.wait_for_log("over the limit"));
  check_still_serving(server, "oversize");
}

TEST_CASE("a truncated frame followed by a disconnect is harmless") {
  server_process server;
  {
    test_peer peer(server.port());
    REQUIRE(peer.join("trunc"));
    peer.send_json(R"({"type":"ping"})");  // a whole frame first: the session works
    const std::uint8_t partial[] = {0x00, 0x00, 0x01, 0x00, 1, 2, 3};
    peer.send_raw(partial);
  }
  check_still_serving(server, "truncated");
}

TEST_CASE("a frame with a bad MAC ends that connection with a logged reason") {
  server_process server;
  test_peer peer(server.port());
  REQUIRE(peer.join("forger"));
  bytes wire;
  natter::append_sealed_frame(peer.cipher(), R"({"type":"say","text":"tampered"})", wire);
  wire.back() ^= 0x01;
  peer.send_raw(wire);
  const auto bye = peer.wait_for_type<bye_event>();
  REQUIRE(bye);
  CHECK(bye->reason == "protocol_error");
  CHECK(peer.wait_closed());
  CHECK(server.wait_for_log("bad MAC"));
  check_still_serving(server, "mac");
}

TEST_CASE("a replayed frame is refused") {
  server_process server;
  test_peer peer(server.port());
  REQUIRE(peer.join("replayer"));
  const bytes wire = peer.send(say_request{"once", 1});
  REQUIRE(peer.wait_for_type<ack_event>());
  peer.send_raw(wire);  // the same bytes again
  const auto bye = peer.wait_for_type<bye_event>();
  REQUIRE(bye);
  CHECK(bye->reason == "protocol_error");
  CHECK(peer.wait_closed());
  CHECK(server.wait_for_log("replayed"));
  check_still_serving(server, "replay");
}

TEST_CASE("a frame whose counter skips ahead (a relay dropped one) closes the connection") {
  // Protocol 1 accepted any larger counter, so a relay could silently drop frames; protocol 2
  // counts strictly and names the frame that is missing.
  server_process server;
  test_peer peer(server.port());
  REQUIRE(peer.join("skipper"));
  peer.send(ping_request{1});
  REQUIRE(peer.wait_for_type<pong_event>());
  const std::uint64_t dropped = peer.cipher().frames_sent() + 1;
  bytes lost;
  natter::append_sealed_frame(peer.cipher(), R"({"type":"say","text":"dropped on the way","ref":2})", lost);
  peer.send(say_request{"after the gap", 3});  // sealed with the next counter; the first never goes out
  const auto bye = peer.wait_for_type<bye_event>();
  REQUIRE(bye);
  CHECK(bye->reason == "protocol_error");
  CHECK(peer.wait_closed());
  CHECK(server.wait_for_log("frame " + std::to_string(dropped) + " missing"));
  const std::string log = server.log();
  CHECK(log.find("frame " + std::to_string(dropped) + " missing (got frame " +
                 std::to_string(dropped + 1) + ")") != std::string::npos);
  check_still_serving(server, "gap");
}

TEST_CASE("a frame reflected back to the server is refused") {
  server_process server;
  test_peer peer(server.port());
  REQUIRE(peer.join("mirror"));
  peer.send(ping_request{1});
  REQUIRE(peer.wait_for_type<pong_event>());
  // Send the server's own last frame back to it.
  const bytes reflected = make_frame(peer.raw_frames_received().back());
  peer.send_raw(reflected);
  CHECK(peer.wait_closed());
  CHECK(server.wait_for_log("reflected"));
}

TEST_CASE("invalid JSON, invalid UTF-8 and unknown types get error frames, not a disconnect") {
  server_process server;
  test_peer peer(server.port());
  REQUIRE(peer.join("sloppy"));
  SUBCASE("not JSON") { peer.send_json("this is not json"); }
  SUBCASE("invalid UTF-8 inside a string") { peer.send_json("{\"type\":\"say\",\"text\":\"\xff\xfe\"}"); }
  SUBCASE("overlong UTF-8") { peer.send_json("{\"type\":\"say\",\"text\":\"\xc0\xaf\"}"); }
  SUBCASE("deep nesting") { peer.send_json(std::string(5000, '[') + std::string(5000, ']')); }
  SUBCASE("unknown type") { peer.send_json(R"({"type":"dance","ref":4})"); }
  SUBCASE("wrong field type") { peer.send_json(R"({"type":"say","text":42})"); }
  SUBCASE("control characters in text") { peer.send_json(R"({"type":"say","text":"a\u001b[2Jb"})"); }
  SUBCASE("bad name") { peer.send_json(R"({"type":"whisper","to":"b\u202eob","text":"x"})"); }
  const auto error = peer.wait_for_type<error_event>();
  REQUIRE(error);
  CHECK_FALSE(error->code.empty());
  CHECK_FALSE(error->message.empty());
  // Still connected and served.
  peer.send(ping_request{9});
  const auto pong = peer.wait_for_type<pong_event>();
  REQUIRE(pong);
  CHECK(pong->ref == 9);
}

TEST_CASE("a protocol 1 client hello is refused with a reason naming protocol 2") {
  server_process server;
  test_peer peer(server.port());
  // Answer the server hello as a protocol 1 client would: a 40-byte hello with its key.
  const auto identity = crypto::key_pair::generate();
  peer.send_raw(make_frame(crypto::encode_hello(crypto::role::client, identity.public_key_bytes, 1)));
  CHECK(peer.wait_closed());
  const auto frames = peer.buffered_frames();  // server hello, then the refusal
  REQUIRE(frames.size() == 2);
  const auto hello = crypto::decode_hello(frames[0]);
  REQUIRE(hello);
  CHECK(hello->version == 2);
  const auto refusal = crypto::decode_refusal(frames[1]);
  REQUIRE(refusal);
  CHECK(refusal->find("unsupported protocol version 1") != std::string::npos);
  CHECK(refusal->find("version 2") != std::string::npos);
  CHECK(refusal->find("upgrade natter") != std::string::npos);
  CHECK(server.wait_for_log("client speaks protocol version 1; this server speaks version 2"));
  check_still_serving(server, "v1hello");
}

TEST_CASE("a hello of an unknown later version is refused with a readable reason") {
  server_process server;
  test_peer peer(server.port());
  auto header = crypto::encode_hello_header(crypto::role::client, 3);
  header.resize(header.size() + 48, 0x42);
  peer.send_raw(make_frame(header));
  CHECK(peer.wait_closed());
  const auto frames = peer.buffered_frames();
  REQUIRE(frames.size() == 2);
  const auto refusal = crypto::decode_refusal(frames[1]);
  REQUIRE(refusal);
  CHECK(refusal->find("unsupported protocol version 3") != std::string::npos);
  CHECK(server.wait_for_log("client speaks protocol version 3"));
}

TEST_CASE("a low-order public key ends the handshake") {
  server_process server;
  test_peer peer(server.port());
  // A v2 client hello whose Noise message 1 carries an all-zero ephemeral key (then a tag):
  // es is then all zero, which the server refuses before it answers.
  auto hello = crypto::encode_hello_header(crypto::role::client);
  hello.resize(hello.size() + crypto::key_size + crypto::mac_size, 0);
  peer.send_raw(make_frame(hello));
  CHECK(peer.wait_closed());
  CHECK(server.wait_for_log("handshake message 1 refused: peer public key gives an all-zero DH result"));
  const auto frames = peer.buffered_frames();
  REQUIRE(frames.size() == 2);
  CHECK(crypto::decode_refusal(frames[1]));  // in place of message 2: no Noise message at all
  check_still_serving(server, "loworder");
}

TEST_CASE("a connection that never finishes the handshake is cut off") {
  server_process server({"--handshake-timeout", "0.5"});
  test_peer silent(server.port());
  const std::uint8_t half[] = {0x00, 0x00};  // half a length prefix, then silence
  silent.send_raw(half);
  CHECK(silent.wait_closed(3s));
  CHECK(server.wait_for_log("no handshake and join within"));
}

TEST_CASE("an idle joined connection times out and is told why") {
  server_process server({"--idle-timeout", "0.6"});
  test_peer idle(server.port());
  REQUIRE(idle.join("sleepy"));
  const auto bye = idle.wait_for_type<bye_event>(4s);
  REQUIRE(bye);
  CHECK(bye->reason == "timeout");
  CHECK(idle.wait_closed());
}

TEST_CASE("messages after quit are ignored and do not crash the server") {
  server_process server;
  test_peer peer(server.port());
  REQUIRE(peer.join("quitter"));
  peer.send(quit_request{});
  peer.send(say_request{"after quit", 2});
  const auto bye = peer.wait_for_type<bye_event>();
  REQUIRE(bye);
  CHECK(bye->reason == "quit");
  CHECK(peer.wait_closed());
  check_still_serving(server, "afterquit");
}

TEST_CASE("too many connections from one address get a refusal") {
  server_process server({"--max-per-address", "2"});
  test_peer a(server.port()), b(server.port());
  REQUIRE(a.handshake());
  REQUIRE(b.handshake());
  test_peer c(server.port());
  CHECK_FALSE(c.handshake());
  CHECK(c.error().find("too many connections") != std::string::npos);
}

TEST_CASE("a flooding user is rate limited while others are unaffected") {
  server_process server({"--rate", "2", "--burst", "3"});
  test_peer flood(server.port()), calm(server.port()), listener(server.port());
  REQUIRE(flood.join("flood"));
  REQUIRE(calm.join("calm"));
  REQUIRE(listener.join("listener"));
  for (std::uint64_t i = 1; i <= 10; ++i) flood.send(say_request{"spam " + std::to_string(i), i});
  int acks = 0, limited = 0;
  for (int i = 0; i < 10; ++i) {
    const auto m = flood.wait_for([](const server_message& s) {
      return std::holds_alternative<ack_event>(s) || std::holds_alternative<error_event>(s);
    });
    REQUIRE(m);
    if (std::holds_alternative<ack_event>(*m)) ++acks;
    else if (std::get<error_event>(*m).code == "rate_limited") ++limited;
  }
  CHECK(acks >= 3);
  CHECK(acks <= 4);
  CHECK(limited == 10 - acks);
  calm.send(say_request{"calm words", 1});
  const auto got = listener.wait_for([](const server_message& m) {
    const auto* c = std::get_if<chat_event>(&m);
    return c && c->from == "calm";
  });
  CHECK(got);
}

TEST_CASE("a reader too slow to keep up is cut off while others keep receiving everything") {
  // The default backlog (1 MiB) is also the burst tolerance: a reader that keeps up, however
  // the scheduler delays it, never falls that far behind rounds of 20 x 3 KB, while the reader
  // that stops reading is past it (and past its kernel buffers, a few MB) well before 9 MB.
  server_process server({"--rate", "0"});
  test_peer slow(server.port()), sender(server.port()), reader(server.port());
  slow.shrink_receive_buffer();
  REQUIRE(slow.join("slow"));
  REQUIRE(reader.join("reader"));
  REQUIRE(sender.join("sender"));

  constexpr int total = 3000;
  const std::string padding(3000, 'x');
  std::atomic<int> received{0};
  bool saw_too_slow = false;
  // jthread: a failed REQUIRE below unwinds through it without std::terminate.
  std::jthread reading([&] {
    while (received < total) {
      const auto m = reader.next(10s);
      if (!m) break;
      if (const auto* c = std::get_if<chat_event>(&*m); c && c->from == "sender") ++received;
      if (const auto* p = std::get_if<presence_event>(&*m); p && p->name == "slow" && p->reason == "too_slow") {
        saw_too_slow = true;
      }
    }
  });
  for (int i = 0; i < total; i += 20) {
    // The sender waits for the reader that keeps up (never more than 100 messages, 300 KB,
    // behind), so a loaded machine that delays the reading thread cannot push it past its
    // backlog too; the reader that stops reading falls behind without bound all the same.
    const auto deadline = std::chrono::steady_clock::now() + 10s;
    while (received < i - 100 && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(1ms);
    for (int k = 0; k < 20; ++k) sender.send(say_request{std::to_string(i + k) + padding, std::uint64_t(i + k + 1)});
    for (int k = 0; k < 20; ++k) REQUIRE(sender.wait_for_type<ack_event>(10s));
  }
  reading.join();
  INFO(server.log());  // (joined explicitly: the counts below need the reader finished)
  CHECK(received == total);
  CHECK(saw_too_slow);
  CHECK(server.wait_for_log("too slow"));
  CHECK(slow.wait_closed(10s));
}
