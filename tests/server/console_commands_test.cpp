// The operator console's commands, without a terminal: a line in, an answer and an action out.
#include <doctest/doctest.h>
#include <sodium.h>

#include "natter/crypto/fingerprint_v2.hpp"
#include "natter/server/console_commands.hpp"

using namespace natter;
using namespace natter::server;

namespace {

struct kickable : participant {
  std::vector<std::pair<leave_reason, std::string>> disconnects;
  void deliver(shared_message) override {}
  void disconnect(leave_reason reason, std::string message) override {
    disconnects.emplace_back(reason, std::move(message));
  }
};

struct fixture {
  fixture() { REQUIRE(sodium_init() >= 0); }
  memory_name_registry names;
  router routes{names, [] { return std::int64_t{1'700'000'000'000}; }, 65536, 4096};
  ban_list bans;
  console_context context{routes, names, bans, [] { return std::int64_t{1'700'000'000'000}; }};

  std::shared_ptr<kickable> join(const std::string& name,
                                 const crypto::ed25519_public_key& key = crypto::identity_v2::generate().public_key(),
                                 const std::string& address = "10.0.0.7:5555") {
    auto p = std::make_shared<kickable>();
    REQUIRE(std::holds_alternative<joined>(routes.join(p, name, key, address, {})));
    return p;
  }
  console_outcome run(std::string_view line) { return run_console_command(line, context); }
};

}  // namespace

TEST_CASE_FIXTURE(fixture, "users lists names, addresses and fingerprints in name order") {
  CHECK(run("users").answer == "0 user(s) online\n");
  join("zoe");
  join("Adam");
  const auto outcome = run("  users  ");
  CHECK_FALSE(outcome.stop);
  CHECK(outcome.answer.starts_with("2 user(s) online\n  Adam "));
  CHECK(outcome.answer.find("10.0.0.7:5555") != std::string::npos);
  CHECK(outcome.answer.find("\n  zoe ") != std::string::npos);
}

TEST_CASE_FIXTURE(fixture, "kick disconnects through the router, with the operator's reason or a default") {
  auto bob = join("bob");
  CHECK(run("kick bob flooding the room").answer == "kicked bob\n");
  CHECK(run("kick Bob").answer == "kicked Bob\n");
  REQUIRE(bob->disconnects.size() == 2);
  CHECK(bob->disconnects[0] == std::pair{leave_reason::kicked, std::string("flooding the room")});
  CHECK(bob->disconnects[1].second == "kicked by the operator");
  CHECK(run("kick nobody").answer == "no user nobody is online\n");
  CHECK(run("kick").answer == "usage: kick NAME [reason]\n");
}

TEST_CASE_FIXTURE(fixture, "stop and quit stop the server; help, unknown and empty lines only answer") {
  for (const char* line : {"stop", "quit"}) {
    const auto outcome = run(line);
    CHECK(outcome.stop);
    CHECK(outcome.answer.empty());
  }
  const auto help = run("help").answer;
  for (const char* command : {"users", "kick NAME", "free NAME", "ban TARGET", "unban TARGET", "bans", "stop"}) {
    CHECK_MESSAGE(help.find(command) != std::string::npos, command);
  }
  CHECK(run("frobnicate now").answer == "unknown command 'frobnicate' (try help)\n");
  const auto empty = run("   ");
  CHECK_FALSE(empty.stop);
  CHECK(empty.answer.empty());
}

TEST_CASE_FIXTURE(fixture, "free forgets an offline name's key, so a new key can claim it; an online name is refused") {
  const auto lost = crypto::identity_v2::generate().public_key();
  auto alice = join("Alice", lost);
  CHECK(run("free alice").answer == "Alice is online: kick Alice first, then free it\n");
  CHECK(names.lookup("alice"));
  routes.leave("alice", alice.get(), leave_reason::quit);
  CHECK(run("free alice").answer ==
        "freed Alice (was " + crypto::fingerprint_v2(lost) + "); the next key to join as it owns it\n");
  CHECK_FALSE(names.lookup("alice"));
  join("alice");  // a new key: no name_taken
  CHECK(run("free nobody").answer == "no name nobody is registered\n");
  CHECK(run("free").answer == "usage: free NAME\n");
}

TEST_CASE_FIXTURE(fixture, "ban by fingerprint, key or address kicks who it matches; unban and bans") {
  const auto key = crypto::identity_v2::generate().public_key();
  const std::string fingerprint = crypto::fingerprint_v2(key);
  auto mallory = join("mallory", key, "192.0.2.66:4000");
  auto bob = join("bob", crypto::identity_v2::generate().public_key(), "192.0.2.1:4000");

  CHECK(run("ban " + fingerprint + " spamming links").answer ==
        "banned " + fingerprint + " (spamming links)\nkicked mallory\n");
  REQUIRE(mallory->disconnects.size() == 1);
  CHECK(mallory->disconnects[0] == std::pair{leave_reason::kicked, std::string("banned: spamming links")});
  CHECK(bob->disconnects.empty());
  // The key in hex names the same ban.
  CHECK(run("ban " + crypto::to_hex(key)).answer.starts_with(fingerprint + " is already banned\n"));

  CHECK(run("ban [192.0.2.1]").answer == "banned 192.0.2.1\nkicked bob\n");
  REQUIRE(bob->disconnects.size() == 1);
  CHECK(bob->disconnects[0].second == "banned");

  const auto list = run("bans").answer;
  CHECK(list.starts_with("2 ban(s)\n  identity  " + fingerprint));
  CHECK(list.find("spamming links\n") != std::string::npos);
  CHECK(list.find("  address   192.0.2.1") != std::string::npos);

  CHECK(run("unban 192.0.2.1").answer == "unbanned 192.0.2.1\n");
  CHECK(run("unban 192.0.2.1").answer == "192.0.2.1 is not banned\n");
  CHECK(run("bans").answer.starts_with("1 ban(s)\n"));
  CHECK(run("ban alice").answer == "'alice' is not a fingerprint (2:...), an identity key (64 hex) or an IP address\n");
  CHECK(run("ban").answer == "usage: ban FINGERPRINT|KEYHEX|ADDRESS [reason]\n");
  CHECK(run("unban").answer == "usage: unban FINGERPRINT|KEYHEX|ADDRESS\n");
}
