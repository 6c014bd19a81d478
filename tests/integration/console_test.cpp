// The operator console: natter-server reads commands when stdin is a terminal. The test gives it
// a pseudo-terminal, as a person at a keyboard would.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <thread>

#include "natter/crypto/fingerprint_v2.hpp"
#include "server_process.hpp"
#include "test_peer.hpp"

using namespace natter;
using namespace natter::test;

namespace {

class console_server {
 public:
  explicit console_server(const temp_dir& dir) {
    const auto port_file = dir.path() / "port";
    std::filesystem::remove(port_file);  // a server restarted in `dir` must not read the last one's port
    pid_ = ::forkpty(&terminal_, nullptr, nullptr, nullptr);
    REQUIRE(pid_ >= 0);
    if (pid_ == 0) {
      const std::string state = (dir.path() / "state").string();
      const std::string port_path = port_file.string();
      const std::string binary = server_binary();
      ::execl(binary.c_str(), binary.c_str(), "--port", "0", "--port-file", port_path.c_str(), "--state-dir",
              state.c_str(), "--threads", "2", static_cast<char*>(nullptr));
      ::_exit(127);
    }
    for (int i = 0; i < 500 && port_ == 0; ++i) {
      std::ifstream in(port_file);
      int port = 0;
      if (in >> port) port_ = static_cast<std::uint16_t>(port);
      else std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    REQUIRE(port_ != 0);
    REQUIRE(read_until("console ready"));
  }
  ~console_server() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    ::close(terminal_);
  }
  void type(const std::string& line) {
    const std::string text = line + "\n";
    REQUIRE(::write(terminal_, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
  }
  // Reads the terminal (stdout and stderr both go there) until `text` appears.
  bool read_until(const std::string& text, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (seen_.find(text, consumed_) == std::string::npos) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
      pollfd p{terminal_, POLLIN, 0};
      if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      char buffer[4096];
      const ssize_t n = ::read(terminal_, buffer, sizeof buffer);
      if (n <= 0) return false;
      seen_.append(buffer, static_cast<std::size_t>(n));
    }
    consumed_ = seen_.find(text, consumed_) + text.size();
    return true;
  }
  int wait_exit(std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      char drain[4096];
      pollfd p{terminal_, POLLIN, 0};
      if (::poll(&p, 1, 10) > 0) (void)!::read(terminal_, drain, sizeof drain);
      int raw = 0;
      if (::waitpid(pid_, &raw, WNOHANG) == pid_) {
        pid_ = -1;
        return WIFEXITED(raw) ? WEXITSTATUS(raw) : -WTERMSIG(raw);
      }
    }
    return -1000;
  }
  std::uint16_t port() const { return port_; }

 private:
  pid_t pid_ = -1;
  int terminal_ = -1;
  std::uint16_t port_ = 0;
  std::string seen_;
  std::size_t consumed_ = 0;
};

}  // namespace

TEST_CASE("console: users lists names, addresses and fingerprints; kick and stop work") {
  temp_dir dir;
  console_server server(dir);
  test_peer alice(server.port()), bob(server.port());
  REQUIRE(alice.join("alice"));
  REQUIRE(bob.join("bob"));

  server.type("users");
  CHECK(server.read_until("2 user(s) online"));
  CHECK(server.read_until("alice"));
  CHECK(server.read_until("127.0.0.1:"));
  CHECK(server.read_until(crypto::fingerprint_v2(alice.identity().public_key())));

  server.type("kick bob flooding");
  CHECK(server.read_until("kicked bob"));
  const auto bye = bob.wait_for_type<bye_event>();
  REQUIRE(bye);
  CHECK(bye->reason == "kicked");
  CHECK(bye->message == "flooding");
  const auto left = alice.wait_for([](const server_message& m) {
    const auto* p = std::get_if<presence_event>(&m);
    return p && !p->joined;
  });
  REQUIRE(left);
  CHECK(std::get<presence_event>(*left).name == "bob");
  CHECK(std::get<presence_event>(*left).reason == "kicked");

  server.type("kick nobody");
  CHECK(server.read_until("no user nobody is online"));
  server.type("frobnicate");
  CHECK(server.read_until("unknown command"));

  server.type("stop");
  const auto stopping = alice.wait_for_type<bye_event>();
  REQUIRE(stopping);
  CHECK(stopping->reason == "server_stopping");
  CHECK(server.wait_exit() == 0);
}

TEST_CASE("console: free lets a new key take a lost name; bans refuse keys and addresses, and outlive a restart") {
  temp_dir dir;
  auto lost = crypto::identity_v2::generate();
  const std::string mallory_fingerprint = [&] {
    console_server server(dir);
    {
      test_peer alice(server.port(), copy_identity(lost));
      REQUIRE_MESSAGE(alice.join("alice"), alice.error());
      server.type("free alice");
      CHECK(server.read_until("alice is online: kick alice first"));
    }
    // Alice lost her identity: with a new key the name is taken until the operator frees it.
    test_peer new_alice(server.port());
    CHECK_FALSE(new_alice.join("alice"));
    CHECK(new_alice.error().starts_with("name_taken"));
    server.type("free alice");
    CHECK(server.read_until("freed alice (was " + crypto::fingerprint_v2(lost.public_key()) + ")"));
    CHECK(new_alice.join("alice"));

    // A ban by fingerprint kicks the user at once and refuses the key's next join.
    auto mallory_id = crypto::identity_v2::generate();
    const std::string fingerprint = crypto::fingerprint_v2(mallory_id.public_key());
    test_peer mallory(server.port(), copy_identity(mallory_id));
    REQUIRE(mallory.join("mallory"));
    server.type("ban " + fingerprint + " spam");
    CHECK(server.read_until("banned " + fingerprint + " (spam)"));
    CHECK(server.read_until("kicked mallory"));
    const auto bye = mallory.wait_for_type<bye_event>();
    REQUIRE(bye);
    CHECK(bye->reason == "kicked");
    CHECK(bye->message == "banned: spam");
    test_peer again(server.port(), copy_identity(mallory_id));
    CHECK_FALSE(again.join("mallory2"));
    CHECK(again.error() == "banned: you are banned from this server: spam");

    // A ban by address: the connection is refused before any authentication, as "banned".
    test_peer elsewhere(server.port(), "127.0.0.2");
    REQUIRE(elsewhere.join("carol"));
    server.type("ban 127.0.0.2");
    CHECK(server.read_until("kicked carol"));
    CHECK(elsewhere.wait_for_type<bye_event>());
    test_peer refused(server.port(), "127.0.0.2");
    CHECK_FALSE(refused.handshake());
    CHECK(refused.handshake_state().refused_unauthenticated());
    CHECK(refused.handshake_state().refusal_text().find("banned") != std::string::npos);
    test_peer local(server.port());  // 127.0.0.1 is not banned
    CHECK(local.join("dave"));

    server.type("stop");
    CHECK(server.wait_exit() == 0);
    return fingerprint;
  }();

  // The bans are in the state directory's database: a restarted server still has them.
  console_server server(dir);
  server.type("bans");
  CHECK(server.read_until("2 ban(s)"));
  CHECK(server.read_until(mallory_fingerprint));
  CHECK(server.read_until("address   127.0.0.2"));
  server.type("unban 127.0.0.2");
  CHECK(server.read_until("unbanned 127.0.0.2"));
  test_peer back(server.port(), "127.0.0.2");
  CHECK(back.join("erin"));
  server.type("stop");
  CHECK(server.wait_exit() == 0);
}
