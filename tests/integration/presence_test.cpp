// Presence notices are held for up to --presence-delay so that a storm of joins reaches each
// user as a few batch frames; they must still arrive, in order, and never after a chat message
// that was sent after them.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "server_process.hpp"
#include "test_peer.hpp"

using namespace natter;
using namespace natter::test;

namespace {

// Reads every message until a chat arrives; returns the presence names seen before it.
std::vector<std::string> joins_before_chat(test_peer& peer, std::optional<chat_event>& chat) {
  std::vector<std::string> names;
  while (auto m = peer.next(5s)) {
    if (const auto* p = std::get_if<presence_event>(&*m); p && p->joined) names.push_back(p->name);
    if (const auto* c = std::get_if<chat_event>(&*m)) {
      chat = *c;
      break;
    }
  }
  return names;
}

}  // namespace

TEST_CASE("a join storm reaches an onlooker as few frames, in join order") {
  // A long delay, so that even a slow (sanitised) run joins everyone within one or two ticks.
  server_process server({"--presence-delay", "400"});
  test_peer onlooker(server.port());
  REQUIRE(onlooker.join("onlooker"));
  const std::size_t frames_before = onlooker.raw_frames_received().size();

  constexpr int joiners = 30;
  std::vector<std::unique_ptr<test_peer>> crowd;
  std::vector<std::string> expected;
  for (int i = 0; i < joiners; ++i) {
    expected.push_back("joiner" + std::to_string(i));
    crowd.push_back(std::make_unique<test_peer>(server.port()));
    REQUIRE(crowd.back()->join(expected.back()));
  }
  crowd.back()->send(say_request{"everyone is here", 1});

  std::optional<chat_event> chat;
  CHECK(joins_before_chat(onlooker, chat) == expected);
  REQUIRE(chat);
  CHECK(chat->text == "everyone is here");
  const std::size_t frames = onlooker.raw_frames_received().size() - frames_before;
  INFO("frames carrying ", joiners, " notices and one chat: ", frames);
  CHECK(frames <= joiners / 3);
}

TEST_CASE("a held notice goes out with the next chat message, before it") {
  server_process server({"--presence-delay", "1000"});
  test_peer alice(server.port()), bob(server.port());
  REQUIRE(alice.join("alice"));
  REQUIRE(bob.join("bob"));
  bob.send(say_request{"hi alice", 1});  // at once: far sooner than the 1 s delay
  std::optional<chat_event> chat;
  CHECK(joins_before_chat(alice, chat) == std::vector<std::string>{"bob"});
  REQUIRE(chat);
  CHECK(chat->text == "hi alice");
}

TEST_CASE("a held notice arrives by itself within the delay") {
  server_process server({"--presence-delay", "50"});
  test_peer alice(server.port()), bob(server.port());
  REQUIRE(alice.join("alice"));
  REQUIRE(bob.join("bob"));
  const auto notice = alice.wait_for_type<presence_event>(3s);  // no other traffic to carry it
  REQUIRE(notice);
  CHECK(notice->name == "bob");
  CHECK(notice->joined);
  bob.close_now();
  const auto left = alice.wait_for_type<presence_event>(3s);
  REQUIRE(left);
  CHECK_FALSE(left->joined);
  CHECK(left->reason == "dropped");
}

TEST_CASE("--presence-delay 0 sends each notice at once") {
  server_process server({"--presence-delay", "0"});
  test_peer alice(server.port()), bob(server.port());
  REQUIRE(alice.join("alice"));
  REQUIRE(bob.join("bob"));
  const auto notice = alice.wait_for_type<presence_event>(3s);
  REQUIRE(notice);
  CHECK(notice->name == "bob");
}
