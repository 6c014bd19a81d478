// The operator console's commands, without a terminal: a line in, an answer and an action out.
#include <doctest/doctest.h>
#include <sodium.h>

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

  std::shared_ptr<kickable> join(const std::string& name) {
    auto p = std::make_shared<kickable>();
    REQUIRE(std::holds_alternative<joined>(
        routes.join(p, name, crypto::identity_v2::generate().public_key(), "10.0.0.7:5555", {})));
    return p;
  }
};

}  // namespace

TEST_CASE_FIXTURE(fixture, "users lists names, addresses and fingerprints in name order") {
  CHECK(run_console_command("users", routes).answer == "0 user(s) online\n");
  join("zoe");
  join("Adam");
  const auto outcome = run_console_command("  users  ", routes);
  CHECK_FALSE(outcome.stop);
  CHECK(outcome.answer.starts_with("2 user(s) online\n  Adam "));
  CHECK(outcome.answer.find("10.0.0.7:5555") != std::string::npos);
  CHECK(outcome.answer.find("\n  zoe ") != std::string::npos);
}

TEST_CASE_FIXTURE(fixture, "kick disconnects through the router, with the operator's reason or a default") {
  auto bob = join("bob");
  CHECK(run_console_command("kick bob flooding the room", routes).answer == "kicked bob\n");
  CHECK(run_console_command("kick Bob", routes).answer == "kicked Bob\n");
  REQUIRE(bob->disconnects.size() == 2);
  CHECK(bob->disconnects[0] == std::pair{leave_reason::kicked, std::string("flooding the room")});
  CHECK(bob->disconnects[1].second == "kicked by the operator");
  CHECK(run_console_command("kick nobody", routes).answer == "no user nobody is online\n");
  CHECK(run_console_command("kick", routes).answer == "usage: kick NAME [reason]\n");
}

TEST_CASE_FIXTURE(fixture, "stop and quit stop the server; help, unknown and empty lines only answer") {
  for (const char* line : {"stop", "quit"}) {
    const auto outcome = run_console_command(line, routes);
    CHECK(outcome.stop);
    CHECK(outcome.answer.empty());
  }
  CHECK(run_console_command("help", routes).answer == "commands: users | kick NAME [reason] | stop | help\n");
  CHECK(run_console_command("frobnicate now", routes).answer == "unknown command 'frobnicate' (try help)\n");
  const auto empty = run_console_command("   ", routes);
  CHECK_FALSE(empty.stop);
  CHECK(empty.answer.empty());
}
