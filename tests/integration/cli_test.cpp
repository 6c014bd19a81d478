// The real `natter` binary against a real server, driven as a user's script would drive it:
// lines on stdin, messages on stdout, errors on stderr, meaningful exit codes.
#include <doctest/doctest.h>

#include <fstream>

#include "child_process.hpp"
#include "natter/crypto/fingerprint_v2.hpp"
#include "recording_proxy.hpp"
#include "server_process.hpp"
#include "test_peer.hpp"

using namespace natter;
using namespace natter::test;

namespace {

// One user: a private config directory (identity + known_hosts) and the command to run natter.
struct cli_user {
  cli_user(const temp_dir& root, std::string user_name)
      : name(std::move(user_name)), home(root.path() / name) {
    std::filesystem::create_directories(home);
  }
  std::vector<std::string> env() const { return {"XDG_CONFIG_HOME=" + home.string()}; }
  std::vector<std::string> args(std::uint16_t port, std::vector<std::string> extra = {}) const {
    std::vector<std::string> a = {client_binary(), "--name", name};
    a.insert(a.end(), extra.begin(), extra.end());
    a.push_back("127.0.0.1:" + std::to_string(port));
    return a;
  }
  std::string name;
  std::filesystem::path home;
};

std::string server_fingerprint(const server_process& server) {
  const auto log = server.log();
  const auto at = log.find("server key fingerprint: ");
  REQUIRE(at != std::string::npos);
  return log.substr(at + 24, 51);  // "2:" + 10 groups of 4 hex digits
}

}  // namespace

TEST_CASE("three CLI users: a broadcast reaches both others, a whisper only its target") {
  server_process server;
  temp_dir root;
  cli_user alice(root, "alice"), bob(root, "bob"), carol(root, "carol");
  background_process bob_run(bob.args(server.port(), {"--accept-new", "--stay"}), bob.env(), root.path(), "bob");
  background_process carol_run(carol.args(server.port(), {"--accept-new", "--stay"}), carol.env(), root.path(), "carol");
  REQUIRE(bob_run.wait_for_output("joined as bob"));
  REQUIRE(carol_run.wait_for_output("joined as carol"));

  const auto sent = run_process(alice.args(server.port(), {"--accept-new"}),
                                "hello from alice\n/w bob only for bob\n안녕하세요 everyone\n", alice.env());
  INFO(sent.err);
  CHECK(sent.status == 0);

  CHECK(bob_run.wait_for_output("<alice> hello from alice"));
  CHECK(bob_run.wait_for_output("only for bob"));
  CHECK(bob_run.wait_for_output("<alice> 안녕하세요 everyone"));
  CHECK(carol_run.wait_for_output("<alice> hello from alice"));
  CHECK(carol_run.wait_for_output("<alice> 안녕하세요 everyone"));
  CHECK(carol_run.out().find("only for bob") == std::string::npos);
  CHECK(bob_run.out().find("whisper") != std::string::npos);
  CHECK(bob_run.wait_for_output("alice left (quit)"));
}

TEST_CASE("a changed server key is refused loudly and the client sends nothing") {
  server_process server;
  recording_proxy tap(server.port());
  temp_dir root;
  cli_user alice(root, "alice");
  // Pin a different key for the address the client will use.
  const auto impostor_key = crypto::key_pair::generate().public_key_bytes;
  std::filesystem::create_directories(alice.home / "natter");
  std::ofstream(alice.home / "natter" / "known_hosts")
      << "127.0.0.1:" << tap.port() << " " << crypto::to_hex(impostor_key) << "\n";

  const auto result = run_process(alice.args(tap.port()), "this must never be sent\n", alice.env());
  CHECK(result.status == 3);
  CHECK(result.err.find("CHANGED") != std::string::npos);
  CHECK(result.err.find(crypto::server_fingerprint_v2(impostor_key)) != std::string::npos);
  CHECK(result.err.find(server_fingerprint(server)) != std::string::npos);
  CHECK(tap.to_server().empty());  // not even a hello
  CHECK(tap.to_client().size() >= 44);  // it did hear the server's hello
}

TEST_CASE("--expect-fingerprint accepts only the right key") {
  server_process server;
  temp_dir root;
  cli_user alice(root, "alice"), bob(root, "bob");
  const std::string right = server_fingerprint(server);
  auto ok = run_process(alice.args(server.port(), {"--expect-fingerprint", right}), "hi\n", alice.env());
  INFO(ok.err);
  CHECK(ok.status == 0);
  std::ifstream pins(alice.home / "natter" / "known_hosts");
  std::string line;
  std::getline(pins, line);
  CHECK(line.find("127.0.0.1:" + std::to_string(server.port())) == 0);

  auto wrong = run_process(bob.args(server.port(), {"--expect-fingerprint", "2:0000-0000-0000-0000-0000-0000-0000-0000-0000-0000"}),
                           "hi\n", bob.env());
  CHECK(wrong.status != 0);
  CHECK(wrong.err.find(right) != std::string::npos);
}

TEST_CASE("an unknown server key is refused in a script unless told how to trust it") {
  server_process server;
  temp_dir root;
  cli_user alice(root, "alice");
  const auto result = run_process(alice.args(server.port()), "hi\n", alice.env());
  CHECK(result.status != 0);
  CHECK(result.err.find(server_fingerprint(server)) != std::string::npos);
  CHECK(result.err.find("--accept-new") != std::string::npos);
}

TEST_CASE("a duplicate name is refused with a clear error") {
  server_process server;
  temp_dir root;
  cli_user bob(root, "bob"), other(root, "other");
  background_process bob_run(bob.args(server.port(), {"--accept-new", "--stay"}), bob.env(), root.path(), "bob");
  REQUIRE(bob_run.wait_for_output("joined as bob"));
  auto impostor = run_process({client_binary(), "--name", "BOB", "--accept-new", "127.0.0.1:" + std::to_string(server.port())},
                              "hi\n", other.env());
  CHECK(impostor.status == 1);
  CHECK(impostor.err.find("name") != std::string::npos);
  // No chat line "<BOB> hi" (or "<bob> hi"): a bare "hi" can occur in a room code or a notice.
  CHECK(bob_run.out().find("> hi\n") == std::string::npos);
}

TEST_CASE("whois shows the fingerprint the user's own natter --fingerprint prints") {
  server_process server;
  temp_dir root;
  cli_user alice(root, "alice"), bob(root, "bob");
  REQUIRE(run_process(bob.args(server.port(), {"--accept-new"}), "", bob.env()).status == 0);
  const auto own = run_process({client_binary(), "--fingerprint"}, "", bob.env());
  REQUIRE(own.status == 0);
  const auto bob_fp = crypto::normalize_fingerprint_v2(own.out.substr(0, own.out.find('\n')));
  REQUIRE(bob_fp);
  const auto asked = run_process(alice.args(server.port(), {"--accept-new", "--wait-ms", "300"}), "/whois bob\n", alice.env());
  CHECK(asked.status == 0);
  CHECK((asked.out + asked.err).find(*bob_fp) != std::string::npos);
}

TEST_CASE("nothing a CLI user types after the handshake crosses the wire in clear") {
  server_process server;
  recording_proxy tap(server.port());
  temp_dir root;
  cli_user sender(root, "Zanzibar_Owl"), listener(root, "listener");
  background_process listen(listener.args(server.port(), {"--accept-new", "--stay"}), listener.env(), root.path(), "l");
  REQUIRE(listen.wait_for_output("joined as listener"));
  const std::string secret = "purple elephants dance at dawn";
  const auto result = run_process(sender.args(tap.port(), {"--accept-new"}),
                                  secret + "\n/w listener hushed words\n", sender.env());
  INFO(result.err);
  REQUIRE(result.status == 0);
  REQUIRE(listen.wait_for_output(secret));  // it was really delivered
  const std::string wire = tap.to_server() + tap.to_client();
  CHECK(wire.size() > 200);
  for (const std::string needle : {secret, std::string("purple"), std::string("hushed"), std::string("Zanzibar"),
                                   std::string("listener"), std::string("\"say\"")}) {
    CAPTURE(needle);
    CHECK(wire.find(needle) == std::string::npos);
  }
}

TEST_CASE("when the server stops, a connected script is told and exits by itself with 5") {
  // A pipe without --stay does not reconnect (a --stay receiver and a person do: the
  // tui_reconnect_tmux test restarts the server under them).
  server_process server;
  temp_dir root;
  cli_user bob(root, "bob");
  background_process bob_run(bob.args(server.port(), {"--accept-new", "--wait-ms", "20000"}), bob.env(), root.path(),
                             "bob");
  REQUIRE(bob_run.wait_for_output("joined as bob"));
  CHECK(server.stop() == 0);
  const int status = bob_run.wait(std::chrono::seconds(5));
  CHECK(status == 5);
  CHECK((bob_run.out() + bob_run.err()).find("server_stopping") != std::string::npos);
  CHECK(bob_run.err().find("reconnecting") == std::string::npos);
}

TEST_CASE("a script piping many lines is paced to the server's rate: nothing refused, all delivered in order") {
  server_process server({"--rate", "40", "--burst", "8"});
  temp_dir root;
  cli_user bot(root, "bot"), reader(root, "reader");
  background_process reading(reader.args(server.port(), {"--accept-new", "--stay"}), reader.env(), root.path(), "r");
  REQUIRE(reading.wait_for_output("joined as reader"));
  std::string input;
  for (int i = 1; i <= 60; ++i) input += "line " + std::to_string(i) + "\n";
  const auto result = run_process(bot.args(server.port(), {"--accept-new"}), input, bot.env(), std::chrono::seconds(20));
  INFO(result.err);
  CHECK(result.status == 0);
  CHECK(result.err.find("rate_limited") == std::string::npos);
  REQUIRE(reading.wait_for_output("<bot> line 60"));
  const std::string got = reading.out();
  std::size_t at = 0;
  for (int i = 1; i <= 60; ++i) {
    const auto next = got.find("<bot> line " + std::to_string(i) + "\n", at);
    REQUIRE(next != std::string::npos);
    at = next;
  }
}

TEST_CASE("config.toml gives the name and turns on the chat log; a broken file is a usage error") {
  server_process server;
  temp_dir root;
  cli_user alice(root, "alice"), bob(root, "bob");
  const auto logs = bob.home / "logs";
  std::filesystem::create_directories(bob.home / "natter");
  {
    std::ofstream config(bob.home / "natter" / "config.toml");
    config << "server = \"127.0.0.1:" << server.port() << "\"\n"
           << "[servers.\"127.0.0.1:" << server.port() << "\"]\nname = \"bob\"\n"
           << "[logging]\nenabled = true\ndir = \"" << logs.string() << "\"\n";
  }
  // No --name and no address: both come from the file.
  background_process bob_run({client_binary(), "--accept-new", "--stay"}, bob.env(), root.path(), "bob");
  REQUIRE(bob_run.wait_for_output("joined as bob"));
  const auto sent = run_process(alice.args(server.port(), {"--accept-new"}), "hello from alice\n/w bob psst\n", alice.env());
  REQUIRE(sent.status == 0);
  REQUIRE(bob_run.wait_for_output("psst"));
  REQUIRE(bob_run.wait_for_output("alice left"));

  const auto server_dir = logs / ("127.0.0.1_" + std::to_string(server.port()));
  std::vector<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(server_dir)) files.push_back(entry.path());
  REQUIRE(files.size() == 1);
  CHECK(files[0].extension() == ".log");
  CHECK((std::filesystem::status(files[0]).permissions() & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  CHECK((std::filesystem::status(server_dir).permissions() & std::filesystem::perms::all) == std::filesystem::perms::owner_all);
  std::ifstream in(files[0]);
  const std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  INFO(log);
  CHECK(log.find("* alice joined\n") != std::string::npos);
  CHECK(log.find("<alice> hello from alice\n") != std::string::npos);
  CHECK(log.find("*alice* (whisper) psst\n") != std::string::npos);
  CHECK(log.find("* alice left (quit)\n") != std::string::npos);
  CHECK(log.find(" 2:") == std::string::npos);  // no fingerprints ("2:" and hex)

  std::ofstream(alice.home / "natter" / "config.toml") << "name = \"alice\"\n[notifications]\nbell = true\n";
  const auto broken = run_process(alice.args(server.port(), {"--accept-new"}), "hi\n", alice.env());
  CHECK(broken.status == 2);
  CHECK(broken.err.find("config.toml:3: notifications.bell: unknown key") != std::string::npos);
}
