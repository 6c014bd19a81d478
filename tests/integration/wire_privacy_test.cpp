// The wire check: record every byte between clients and the server and make sure nothing typed
// after the handshake (names, message text) crosses it in clear.
#include <doctest/doctest.h>

#include "recording_proxy.hpp"
#include "server_process.hpp"
#include "test_peer.hpp"

using namespace natter;
using namespace natter::test;

TEST_CASE("no name or message text appears in clear on the wire") {
  server_process server;
  recording_proxy tap(server.port());
  test_peer watched(tap.port());
  test_peer other(server.port());
  REQUIRE(other.join("Quetzalcoatl"));
  REQUIRE(watched.join("Xylophonist"));
  const std::string secret_broadcast = "the eagle lands at midnight";
  const std::string secret_whisper = "the vault code is 8841";
  watched.send(say_request{secret_broadcast, 1});
  watched.send(whisper_request{"Quetzalcoatl", secret_whisper, 2});
  REQUIRE(watched.wait_for_type<ack_event>());
  REQUIRE(watched.wait_for_type<ack_event>());
  other.send(say_request{"reply in the open? never", 3});
  other.send(whisper_request{"Xylophonist", "whispered back", 4});
  REQUIRE(watched.wait_for([](const server_message& m) {
    const auto* c = std::get_if<chat_event>(&m);
    return c && c->whisper;
  }));

  const std::string up = tap.to_server();
  const std::string down = tap.to_client();
  REQUIRE(up.size() > 100);
  REQUIRE(down.size() > 100);
  for (const std::string& needle : {std::string("Xylophonist"), std::string("Quetzalcoatl"), secret_broadcast,
                                    secret_whisper, std::string("whispered back"), std::string("reply in the open"),
                                    std::string("\"type\""), std::string("eagle")}) {
    CAPTURE(needle);
    CHECK(up.find(needle) == std::string::npos);
    CHECK(down.find(needle) == std::string::npos);
  }
  // The server's log names who joined, never what they said.
  const std::string log = server.log();
  CHECK(log.find("Xylophonist joined") != std::string::npos);
  CHECK(log.find(secret_broadcast) == std::string::npos);
  CHECK(log.find(secret_whisper) == std::string::npos);
  // What is visible: the server hello with the server's key, and the client hello's header;
  // the client's keys travel only encrypted (Noise message 3), so neither of them is seen.
  const auto& server_key = watched.server_key();
  CHECK(down.find(std::string(server_key.begin(), server_key.end())) != std::string::npos);
  CHECK(up.substr(4, 4) == "NATR");
  const auto& ed = watched.identity().public_key().bytes;
  const auto& x = watched.identity().x25519().public_key_bytes;
  for (const std::string& key : {std::string(ed.begin(), ed.end()), std::string(x.begin(), x.end())}) {
    CHECK(up.find(key) == std::string::npos);
    CHECK(down.find(key) == std::string::npos);
  }
}
