// The server is blind (issue 13): real natter clients whisper and talk in the room through a
// real server whose hop key log is on. Every hop frame, opened with the server's own keys, holds
// only opaque end-to-end bodies; the server's log, state directory and process memory hold no
// text either — while the recipient reads it.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "child_process.hpp"
#include "natter/crypto/e2e_chain.hpp"
#include "natter/crypto/keys.hpp"
#include "natter/crypto/session_cipher_v2.hpp"
#include "natter/frame.hpp"
#include "recording_proxy.hpp"
#include "server_process.hpp"

using namespace natter;
using namespace natter::test;

namespace {

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<bytes> frames_of(const std::string& stream) {
  frame_decoder decoder(1 << 20);
  decoder.feed(std::span(reinterpret_cast<const std::uint8_t*>(stream.data()), stream.size()));
  std::vector<bytes> out;
  bytes body;
  while (decoder.next(body) == decode_status::frame) out.push_back(body);
  return out;
}

struct logged_keys {
  crypto::secret_key c2s, s2c;
};

// NATTER_V2_SESSION <id> <k_c2s> <k_s2c>, one line per connection.
std::vector<logged_keys> read_keylog(const std::filesystem::path& path) {
  std::vector<logged_keys> out;
  std::istringstream in(slurp(path));
  std::string tag, id, c2s, s2c;
  while (in >> tag >> id >> c2s >> s2c) {
    logged_keys k;
    REQUIRE(crypto::from_hex(c2s, {k.c2s.data(), crypto::key_size}));
    REQUIRE(crypto::from_hex(s2c, {k.s2c.data(), crypto::key_size}));
    out.push_back(std::move(k));
  }
  return out;
}

// Everything the server could read on one tapped connection: its session frames opened with
// whichever logged keys open them (the first two frames each way are the handshake).
std::string opened_by_server(const recording_proxy& tap, const std::vector<logged_keys>& keys) {
  const auto up = frames_of(tap.to_server());
  const auto down = frames_of(tap.to_client());
  REQUIRE(up.size() > 2);
  REQUIRE(down.size() > 2);
  for (const auto& k : keys) {
    // As the server: seals s2c, opens c2s; and as the client, to open what the server sent.
    crypto::session_cipher_v2 server_side(crypto::e2e::copy_of(k.s2c), crypto::e2e::copy_of(k.c2s),
                                          crypto::direction::server_to_client);
    crypto::session_cipher_v2 client_side(crypto::e2e::copy_of(k.c2s), crypto::e2e::copy_of(k.s2c),
                                          crypto::direction::client_to_server);
    auto first = server_side.open(up[2]);
    if (first.status != crypto::session_cipher_v2::open_status::ok) continue;
    std::string all = first.plaintext;
    for (std::size_t i = 3; i < up.size(); ++i) {
      auto f = server_side.open(up[i]);
      CHECK(f.status == crypto::session_cipher_v2::open_status::ok);
      all += f.plaintext;
    }
    for (std::size_t i = 2; i < down.size(); ++i) {
      auto f = client_side.open(down[i]);
      CHECK(f.status == crypto::session_cipher_v2::open_status::ok);
      all += f.plaintext;
    }
    return all;
  }
  FAIL("no key in the server's key log opens the connection");
  return {};
}

constexpr unsigned long max_region_bytes = 1ul << 30;

// Every readable mapping of a live process up to max_region_bytes each (needs ptrace rights:
// root, or our own child).
std::string process_memory(pid_t pid) {
  std::ifstream maps("/proc/" + std::to_string(pid) + "/maps");
  const int fd = ::open(("/proc/" + std::to_string(pid) + "/mem").c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  std::string out;
  std::string line;
  while (std::getline(maps, line)) {
    unsigned long start = 0, end = 0;
    char perms[5] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %4s", &start, &end, perms) != 3 || perms[0] != 'r') continue;
    if (line.find("[vvar]") != std::string::npos || line.find("[vsyscall]") != std::string::npos) continue;
    // A sanitizer build's shadow memory is a readable mapping of terabytes (zeros, reserved
    // with MAP_NORESERVE); nothing the server keeps is there, and it cannot be copied. The
    // server's own heap regions in this test are megabytes.
    if (end - start > max_region_bytes) continue;
    std::string region(end - start, '\0');
    const ssize_t n = ::pread(fd, region.data(), region.size(), static_cast<off_t>(start));
    if (n > 0) out.append(region.data(), static_cast<std::size_t>(n));
  }
  ::close(fd);
  return out;
}

std::string files_under(const std::filesystem::path& dir) {
  std::string out;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) out += slurp(e.path());
  }
  return out;
}

}  // namespace

TEST_CASE("end to end: the server routes whispers and room texts it cannot read") {
  temp_dir root;
  const auto keylog = root.path() / "server-keys.log";
  server_process server({"--keylog", keylog.string()});
  recording_proxy bob_tap(server.port());
  recording_proxy alice_tap(server.port());
  const auto user = [&](const std::string& name, std::uint16_t port, std::vector<std::string> extra) {
    const auto home = root.path() / name;
    std::filesystem::create_directories(home);
    std::vector<std::string> a = {client_binary(), "--name", name, "--accept-new"};
    a.insert(a.end(), extra.begin(), extra.end());
    a.push_back("127.0.0.1:" + std::to_string(port));
    return std::make_pair(a, std::vector<std::string>{"XDG_CONFIG_HOME=" + home.string()});
  };
  // Markers no process but the clients ever had: built here, at run time.
  const std::string whisper_marker = "WHISPERMARK" + std::to_string(::getpid()) + "QX";
  const std::string room_marker = "ROOMMARK" + std::to_string(::getpid()) + "ZQ";

  auto [bob_args, bob_env] = user("bob", bob_tap.port(), {"--stay"});
  background_process bob(bob_args, bob_env, root.path(), "bob");
  REQUIRE(bob.wait_for_output("joined as bob"));
  auto [alice_args, alice_env] = user("alice", alice_tap.port(), {"--wait-ms", "500"});
  const auto alice = run_process(alice_args, "hello " + room_marker + "\n/w bob " + whisper_marker + "\n", alice_env);
  INFO(alice.err);
  CHECK(alice.status == 0);

  // bob reads both, marked end to end.
  CHECK(bob.wait_for_output("[e2e] <alice> hello " + room_marker));
  CHECK(bob.wait_for_output("[e2e] *alice* (whisper) " + whisper_marker));
  CHECK(bob.out().find("[not e2e]") == std::string::npos);

  // The server's memory, while it still runs.
  const std::string memory = process_memory(server.pid());
  REQUIRE(memory.size() > 100'000);
  CHECK(memory.find("joined") != std::string::npos);  // the scan sees the server's own strings
  CHECK(memory.find(room_marker) == std::string::npos);
  CHECK(memory.find(whisper_marker) == std::string::npos);

  (void)bob.stop();
  // Every hop frame as the server saw it: e2e envelopes only, with opaque bodies.
  const auto keys = read_keylog(keylog);
  REQUIRE(keys.size() >= 2);
  for (const recording_proxy* tap : {&alice_tap, &bob_tap}) {
    const std::string seen = opened_by_server(*tap, keys);
    CHECK(seen.find("\"type\":\"e2e\"") != std::string::npos);  // it was opened: JSON is there
    CHECK(seen.find(room_marker) == std::string::npos);
    CHECK(seen.find(whisper_marker) == std::string::npos);
    CHECK(seen.find("\"type\":\"say\"") == std::string::npos);
    CHECK(seen.find("\"type\":\"whisper\"") == std::string::npos);
    CHECK(seen.find("\"type\":\"chat\"") == std::string::npos);
  }
  CHECK(server.stop() == 0);
  const std::string log = server.log();
  CHECK(log.find("alice") != std::string::npos);
  CHECK(log.find(room_marker) == std::string::npos);
  CHECK(log.find(whisper_marker) == std::string::npos);
  const std::string state = files_under(server.state_dir());
  CHECK(state.find(room_marker) == std::string::npos);
  CHECK(state.find(whisper_marker) == std::string::npos);
}

TEST_CASE("end to end across restarts: persisted identities and pins keep working, nothing is flagged") {
  temp_dir root;
  server_process server;
  const auto args = [&](const std::string& name, std::vector<std::string> extra) {
    std::vector<std::string> a = {client_binary(), "--name", name, "--accept-new"};
    a.insert(a.end(), extra.begin(), extra.end());
    a.push_back("127.0.0.1:" + std::to_string(server.port()));
    return a;
  };
  const auto env = [&](const std::string& name) {
    std::filesystem::create_directories(root.path() / name);
    return std::vector<std::string>{"XDG_CONFIG_HOME=" + (root.path() / name).string()};
  };
  for (int round = 1; round <= 2; ++round) {
    CAPTURE(round);
    background_process bob(args("bob", {"--stay"}), env("bob"), root.path(), "bob" + std::to_string(round));
    REQUIRE(bob.wait_for_output("joined as bob"));
    const std::string text = "round " + std::to_string(round) + " hello";
    const auto alice = run_process(args("alice", {"--wait-ms", "300"}), "/w bob " + text + "\n" + text + " room\n",
                                   env("alice"));
    INFO(alice.err);
    CHECK(alice.status == 0);
    CHECK(alice.out.find("[e2e] -> *bob* " + text) != std::string::npos);
    CHECK(bob.wait_for_output("[e2e] *alice* (whisper) " + text));
    CHECK(bob.wait_for_output("[e2e] <alice> " + text + " room"));
    CHECK(alice.err.find("! [e2e]") == std::string::npos);  // no warning on either side
    CHECK(bob.err().find("! [e2e]") == std::string::npos);
    if (round == 1) CHECK(alice.out.find("pinned the end-to-end keys of 1 users") != std::string::npos);
    if (round == 2) CHECK(alice.out.find("pinned") == std::string::npos);  // the pin from round 1 holds
    (void)bob.stop();
  }
  // The pins are on disk beside known_hosts, 0600.
  const auto pins = root.path() / "alice" / "natter" / "peers";
  REQUIRE(std::filesystem::exists(pins));
  CHECK((std::filesystem::status(pins).permissions() & std::filesystem::perms::all) ==
        (std::filesystem::perms::owner_read | std::filesystem::perms::owner_write));
  CHECK(slurp(pins).find(" bob ") != std::string::npos);
}
