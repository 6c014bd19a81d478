// A lobby larger than one welcome page (issue 13): 300 lightweight members (test_peer, which do
// not speak end to end) and two real clients. alice's welcome lists 256 users; zed, a real
// client, sorts after all of them, so only the `users` pages tell alice his key. Her room text
// must reach him end to end; with a lowered limit (--e2e-room-limit, the test option) the room
// is open, and the text goes in the clear, labelled so on both sides; --require-e2e refuses it.
#include <doctest/doctest.h>

#include <memory>
#include <string>
#include <vector>

#include "child_process.hpp"
#include "server_process.hpp"
#include "test_peer.hpp"

using namespace natter;
using namespace natter::test;

TEST_CASE("a lobby of 302: a room text reaches a member listed beyond the first welcome page") {
  temp_dir root;
  server_process server({"--max-per-address", "0"});
  std::vector<std::unique_ptr<test_peer>> crowd;
  for (int i = 0; i < 300; ++i) {
    std::string name = std::to_string(i);
    name = "p" + std::string(3 - name.size(), '0') + name;
    crowd.push_back(std::make_unique<test_peer>(server.port()));
    REQUIRE(crowd.back()->join(name));
  }
  const auto user = [&](const std::string& name, std::vector<std::string> extra) {
    const auto home = root.path() / name;
    std::filesystem::create_directories(home);
    std::vector<std::string> a = {client_binary(), "--name", name, "--accept-new"};
    a.insert(a.end(), extra.begin(), extra.end());
    a.push_back("127.0.0.1:" + std::to_string(server.port()));
    return std::make_pair(a, std::vector<std::string>{"XDG_CONFIG_HOME=" + home.string()});
  };
  auto [zed_args, zed_env] = user("zed", {"--stay"});
  background_process zed(zed_args, zed_env, root.path(), "zed");
  REQUIRE(zed.wait_for_output("joined as zed", std::chrono::seconds(10)));
  const std::string marker = "BIGROOM" + std::to_string(::getpid()) + "Q";

  SUBCASE("end to end: alice pages the directory, and zed reads her room text") {
    // The crowd never answers a handshake: alice's text waits handshake_timeout (5 s) for them.
    auto [args, env] = user("alice", {"--wait-ms", "300"});
    const auto alice = run_process(args, "hello " + marker + "\n", env, std::chrono::seconds(25));
    INFO(alice.err);
    CHECK(alice.status == 0);
    CHECK(alice.out.find("lists 256 of 302 members") != std::string::npos);  // a notice: stdout
    CHECK(alice.err.find("NOT end-to-end") == std::string::npos);
    CHECK(zed.wait_for_output("[e2e] <alice> hello " + marker, std::chrono::seconds(10)));
  }
  SUBCASE("open room: more than --e2e-room-limit, the text goes as a plain say, labelled [not e2e]") {
    auto [args, env] = user("alice", {"--wait-ms", "300", "--e2e-room-limit", "100"});
    const auto alice = run_process(args, "hello " + marker + "\n/w zed still sealed\n", env, std::chrono::seconds(25));
    INFO(alice.err);
    CHECK(alice.status == 0);
    CHECK(alice.err.find("! [not e2e] lobby has 302 members, more than 100: room texts are NOT end-to-end, the server "
                         "can read them") != std::string::npos);
    CHECK(alice.out.find("[not e2e] <alice> hello " + marker) != std::string::npos);
    CHECK(zed.wait_for_output("[not e2e] <alice> hello " + marker, std::chrono::seconds(10)));
    CHECK(zed.wait_for_output("[e2e] *alice* (whisper) still sealed", std::chrono::seconds(10)));
    // The server read it: a lightweight member got it as a plain chat event.
    const auto heard = crowd[299]->wait_for([&](const server_message& m) {
      const auto* chat = std::get_if<chat_event>(&m);
      return chat && chat->text == "hello " + marker;
    });
    CHECK(heard.has_value());
  }
  SUBCASE("--require-e2e: the text is refused, not sent") {
    auto [args, env] = user("alice", {"--wait-ms", "300", "--e2e-room-limit", "100", "--require-e2e"});
    const auto alice = run_process(args, "hello " + marker + "\n", env, std::chrono::seconds(25));
    INFO(alice.err);
    CHECK(alice.status == 1);  // a script whose line was refused
    CHECK(alice.err.find("not sent: the room is open (302 members) and --require-e2e is set") != std::string::npos);
    CHECK_FALSE(zed.wait_for_output(marker, std::chrono::milliseconds(500)));
  }
  (void)zed.stop();
}
