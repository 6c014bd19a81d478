// Server identity, key files, key log, and orderly shutdown.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <cstdio>
#include <fstream>
#include <memory>

#include "natter/crypto/fingerprint_v2.hpp"
#include "server_process.hpp"
#include "test_peer.hpp"

using namespace natter;
using namespace natter::test;

namespace {
std::string run_and_capture(const std::string& command) {
  std::string output;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(::popen(command.c_str(), "r"), ::pclose);
  char buffer[256];
  while (pipe && std::fgets(buffer, sizeof buffer, pipe.get())) output += buffer;
  return output;
}
}  // namespace

TEST_CASE("the server key is created 0600, kept across restarts, and its fingerprint is what clients see") {
  temp_dir state;
  std::string first_fp;
  {
    server_process server({}, state.path() / "s");
    test_peer peer(server.port());
    REQUIRE(peer.handshake());
    first_fp = crypto::server_fingerprint_v2(peer.server_key());
    CHECK(server.log().find("server key fingerprint: " + first_fp) != std::string::npos);
  }
  struct stat st {};
  REQUIRE(::stat((state.path() / "s" / "server.key").c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);

  const std::string printed =
      run_and_capture(server_binary() + " --fingerprint --state-dir " + (state.path() / "s").string());
  CHECK(printed == first_fp + "\n");

  server_process again({}, state.path() / "s");
  test_peer peer(again.port());
  REQUIRE(peer.handshake());
  CHECK(crypto::server_fingerprint_v2(peer.server_key()) == first_fp);
}

TEST_CASE("SIGTERM tells every client, closes cleanly and exits 0") {
  server_process server;
  test_peer alice(server.port()), bob(server.port());
  REQUIRE(alice.join("alice"));
  REQUIRE(bob.join("bob"));
  test_peer pending(server.port());  // connected, not joined
  const int status = server.stop();
  INFO(server.log());
  CHECK(status == 0);
  for (test_peer* peer : {&alice, &bob}) {
    const auto bye = peer->wait_for_type<bye_event>();
    REQUIRE(bye);
    CHECK(bye->reason == "server_stopping");
    CHECK(peer->wait_closed());
  }
  CHECK(pending.wait_closed());
  CHECK(server.log().find("stopped") != std::string::npos);
}

TEST_CASE("a server with one I/O thread routes, announces and stops like the others") {
  // --threads 1 builds the io_context with concurrency hint 1 (server.cpp); everything else in
  // the suite runs two threads.
  server_process server({"--threads", "1"});
  test_peer alice(server.port()), bob(server.port());
  REQUIRE(alice.join("alice"));
  REQUIRE(bob.join("bob"));
  const auto joined = alice.wait_for_type<presence_event>();
  REQUIRE(joined);
  CHECK(joined->name == "bob");
  bob.send(say_request{"one thread is enough", 1});
  const auto chat = alice.wait_for_type<chat_event>();
  REQUIRE(chat);
  CHECK(chat->text == "one thread is enough");
  CHECK(bob.wait_for_type<ack_event>());
  CHECK(server.stop() == 0);
  const auto bye = alice.wait_for_type<bye_event>();
  REQUIRE(bye);
  CHECK(bye->reason == "server_stopping");
  CHECK(alice.wait_closed());
}

TEST_CASE("the key log, when asked for, holds the session keys of each connection, 0600") {
  temp_dir dir;
  const auto keylog = dir.path() / "keys.log";
  server_process server({"--keylog", keylog.string()});
  CHECK(server.log().find("KEY LOG ENABLED") != std::string::npos);
  test_peer peer(server.port());
  REQUIRE(peer.join("logged"));
  std::ifstream in(keylog);
  std::string tag, id, c2s, s2c;
  in >> tag >> id >> c2s >> s2c;
  REQUIRE(in.good());
  CHECK(tag == "NATTER_V2_SESSION");
  CHECK(id.size() == 64);
  // The connection id is the client's ephemeral key, and the logged keys are the very keys
  // this connection uses, one per direction.
  CHECK(id == peer.session_keys().connection_id_hex);
  CHECK(id == crypto::to_hex(peer.handshake_state().connection_id()));
  CHECK(c2s == peer.session_keys().client_to_server_hex);
  CHECK(s2c == peer.session_keys().server_to_client_hex);
  CHECK(c2s != s2c);
  struct stat st {};
  REQUIRE(::stat(keylog.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
}
