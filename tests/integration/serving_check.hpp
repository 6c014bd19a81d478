#pragma once
// "The server still serves a well-behaved client": two fresh users join and exchange a message.
// Hostile tests call this while the misbehaving connection is still open, and afterwards.
#include <doctest/doctest.h>

#include <string>

#include "server_process.hpp"
#include "test_peer.hpp"

namespace natter::test {

inline void check_still_serving(server_process& server, const std::string& tag) {
  test_peer a(server.port()), b(server.port());
  REQUIRE(a.join("ok_a_" + tag));
  REQUIRE(b.join("ok_b_" + tag));
  a.send(say_request{"still here " + tag, 1});
  const auto got = b.wait_for([&](const server_message& m) {
    const auto* c = std::get_if<chat_event>(&m);
    return c && c->text == "still here " + tag && c->from == "ok_a_" + tag;
  });
  CHECK(got);
  CHECK(server.running());
}

}  // namespace natter::test
