// What protocol 2 promises beyond protocol 1 (docs/PROTOCOL.md "Why"), against a real
// natter-server and the real natter client: no key-compromise impersonation in either direction,
// the client's identity hidden from the wire, the rate limit kept across reconnects, an empty
// plaintext answered and not fatal, admission refusals behind the server hello, and names moved
// from protocol 1 keys only with a proof.
#include <doctest/doctest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sqlite3.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <mutex>
#include <thread>
#include <variant>

#include "child_process.hpp"
#include "natter/crypto/fingerprint_v2.hpp"
#include "natter/crypto/handshake_v2.hpp"
#include "natter/crypto/hello.hpp"
#include "natter/crypto/identity_file_v2.hpp"
#include "natter/crypto/key_file.hpp"
#include "natter/crypto/migration_proof.hpp"
#include "natter/crypto/session_cipher_v2.hpp"
#include "natter/frame.hpp"
#include "recording_proxy.hpp"
#include "server_process.hpp"
#include "test_peer.hpp"

using namespace natter;
using namespace natter::test;

namespace {

crypto::secret_key copy_secret(const crypto::secret_key& secret) {
  crypto::secret_key out;
  std::copy_n(secret.data(), crypto::secret_key::size(), out.data());
  return out;
}

std::string as_string(std::span<const std::uint8_t> data) { return std::string(data.begin(), data.end()); }

// One CLI user: a private XDG_CONFIG_HOME (identity and known_hosts live in its natter/).
struct cli_home {
  cli_home(const temp_dir& root, const std::string& name) : home(root.path() / name) {
    std::filesystem::create_directories(home);
  }
  [[nodiscard]] std::vector<std::string> env() const { return {"XDG_CONFIG_HOME=" + home.string()}; }
  [[nodiscard]] std::filesystem::path identity_file() const { return home / "natter" / "identity"; }
  std::filesystem::path home;
};

// A natter server impostor on 127.0.0.1: accepts one connection and plays the server role of
// handshake_v2 with `own` as its static key, in good faith (it answers whatever it can). Its hello
// claims `claimed` as the server key if given (a forged hello: it cannot hold that key's secret).
// It records what the client sent and whether anything sealed arrived after the handshake.
class fake_server {
 public:
  fake_server(crypto::key_pair own, std::optional<crypto::public_key> claimed = std::nullopt)
      : own_(std::move(own)), claimed_(claimed) {
    listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (::bind(listener_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
        ::listen(listener_, 4) != 0 ||
        ::getsockname(listener_, reinterpret_cast<sockaddr*>(&address), &length) != 0) {
      throw std::runtime_error("fake_server: cannot listen");
    }
    port_ = ntohs(address.sin_port);
    thread_ = std::jthread([this] { run(); });
  }
  ~fake_server() {
    stopping_ = true;
    thread_ = {};  // joins
    ::close(listener_);
  }
  fake_server(const fake_server&) = delete;
  fake_server& operator=(const fake_server&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] std::size_t frames_received() const { return frames_received_; }
  [[nodiscard]] bool established() const { return established_; }
  [[nodiscard]] std::string plaintext_received() const {
    std::lock_guard lock(mutex_);
    return plaintext_;
  }
  [[nodiscard]] std::string handshake_error() const {
    std::lock_guard lock(mutex_);
    return error_;
  }

 private:
  void run() {
    int fd = -1;
    for (int i = 0; i < 200 && !stopping_ && fd < 0; ++i) {  // up to 20 s for the client to come
      pollfd p{listener_, POLLIN, 0};
      if (::poll(&p, 1, 100) == 1) fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    }
    if (fd < 0) return;
    serve(fd);
    ::close(fd);
  }

  void write_frame(int fd, std::span<const std::uint8_t> body) {
    const bytes wire = make_frame(body);
    (void)!::send(fd, wire.data(), wire.size(), MSG_NOSIGNAL);
  }

  void serve(int fd) {
    auto handshake = crypto::handshake_v2::server(own_, {65536, 4096});
    auto hello = handshake.start();
    if (claimed_) hello = {crypto::encode_hello(crypto::role::server, *claimed_, crypto::protocol_version_2)};
    for (const auto& frame : hello) write_frame(fd, frame);
    std::optional<crypto::session_cipher_v2> cipher;
    frame_decoder decoder(1 << 20);
    bytes body;
    std::uint8_t buffer[65536];
    while (!stopping_) {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 100) != 1) continue;
      const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) return;
      decoder.feed(std::span(buffer, static_cast<std::size_t>(n)));
      while (decoder.next(body) == decode_status::frame) {
        ++frames_received_;
        if (cipher) {
          auto opened = cipher->open(body);
          std::lock_guard lock(mutex_);
          plaintext_ += opened.plaintext;
          continue;
        }
        for (const auto& frame : handshake.on_frame(body)) write_frame(fd, frame);
        if (handshake.current() == crypto::handshake_v2::state::failed) {
          std::lock_guard lock(mutex_);
          error_ = handshake.error();
        }
        if (auto keys = handshake.take_keys()) {
          established_ = true;
          cipher.emplace(std::move(keys->server_to_client), std::move(keys->client_to_server),
                         crypto::direction::server_to_client);
        }
      }
    }
  }

  crypto::key_pair own_;
  std::optional<crypto::public_key> claimed_;
  int listener_ = -1;
  std::uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<std::size_t> frames_received_{0};
  std::atomic<bool> established_{false};
  mutable std::mutex mutex_;
  std::string plaintext_, error_;
  std::jthread thread_;
};

// Writes a protocol 1 registry row: `name` registered under the v1 key `key` (key_version 1),
// as a protocol 1 server left it. The server reads the registry when it starts.
void register_v1_name(const std::filesystem::path& state_dir, const std::string& name, const crypto::public_key& key) {
  std::filesystem::create_directories(state_dir);
  std::filesystem::permissions(state_dir, std::filesystem::perms::owner_all, std::filesystem::perm_options::replace);
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open((state_dir / "names.sqlite3").c_str(), &db) == SQLITE_OK);
  char* error = nullptr;
  const int created = sqlite3_exec(db,
                                   "CREATE TABLE names (folded TEXT PRIMARY KEY, display TEXT NOT NULL,"
                                   " public_key BLOB NOT NULL CHECK (length(public_key) = 32),"
                                   " registered_ms INTEGER NOT NULL, key_version INTEGER NOT NULL DEFAULT 1)",
                                   nullptr, nullptr, &error);
  INFO((error ? error : ""));
  sqlite3_free(error);
  REQUIRE(created == SQLITE_OK);
  sqlite3_stmt* insert = nullptr;
  REQUIRE(sqlite3_prepare_v2(db,
                             "INSERT INTO names (folded, display, public_key, registered_ms, key_version)"
                             " VALUES (?, ?, ?, 1700000000000, 1)",
                             -1, &insert, nullptr) == SQLITE_OK);
  sqlite3_bind_text(insert, 1, name.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(insert, 2, name.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_blob(insert, 3, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
  CHECK(sqlite3_step(insert) == SQLITE_DONE);
  sqlite3_finalize(insert);
  sqlite3_close(db);
}

// Joins `name`, retrying while an earlier connection of the same identity still holds it.
bool join_retrying(test_peer& peer, const std::string& name) {
  for (int i = 0; i < 20; ++i) {
    if (peer.join(name)) return true;
    if (peer.error().rfind("name_in_use", 0) != 0) return false;
    std::this_thread::sleep_for(100ms);
  }
  return false;
}

// Sends `count` says and counts the answers: {acks, rate_limited}.
std::pair<int, int> say_burst(test_peer& peer, int count, const std::string& tag) {
  for (int i = 1; i <= count; ++i) peer.send(say_request{tag + " " + std::to_string(i), peer.next_ref()});
  int acks = 0, limited = 0;
  for (int i = 0; i < count; ++i) {
    const auto m = peer.wait_for([](const server_message& s) {
      return std::holds_alternative<ack_event>(s) || std::holds_alternative<error_event>(s);
    });
    if (!m) break;
    if (std::holds_alternative<ack_event>(*m)) ++acks;
    else if (std::get<error_event>(*m).code == "rate_limited") ++limited;
  }
  return {acks, limited};
}

}  // namespace

TEST_CASE("KCI: the server's secret key and a victim's public identity do not log in as the victim") {
  server_process server;
  const auto victim = crypto::identity_v2::generate();
  {
    test_peer real(server.port(), copy_identity(victim));
    REQUIRE(real.join("victim"));
  }
  // What a thief of the server's key holds: its secret, and everyone's public keys (whois).
  const auto server_keys = crypto::load_identity(server.state_dir() / "server.key");
  std::vector<crypto::secret_key> guesses;
  guesses.push_back(copy_secret(server_keys.secret));           // the one secret it has
  guesses.push_back(copy_secret(crypto::key_pair::generate().secret));  // or any other
  int attempt = 0;
  for (auto& secret : guesses) {
    CAPTURE(++attempt);
    // The victim's public keys with a secret that is not the victim's: message 3's "se" needs the
    // victim's secret and the server's fresh ephemeral, which the server's static secret is not.
    test_peer::raw_identity forged{{victim.public_key(), {victim.x25519().public_key_bytes, std::move(secret)}}};
    test_peer thief(server.port(), std::move(forged));
    REQUIRE(thief.read_server_hello());
    CHECK(thief.server_key() == server_keys.public_key_bytes);
    CHECK_FALSE(thief.join("victim"));
    CHECK(thief.wait_closed());
  }
  CHECK(server.wait_for_log("handshake message 3 refused: handshake message failed authentication"));
  CHECK(server.log().find("victim joined") == server.log().rfind("victim joined"));  // the real one only
  // The victim itself still gets in.
  test_peer real(server.port(), copy_identity(victim));
  CHECK(join_retrying(real, "victim"));
}

TEST_CASE("KCI: a fake server holding the client's secret key cannot get a say out of a real client") {
  server_process server;
  temp_dir root;
  cli_home alice(root, "alice");
  // The client's identity exists (and the fake server steals it below).
  REQUIRE(run_process({client_binary(), "--fingerprint"}, "", alice.env()).status == 0);
  auto loaded = crypto::load_identity_v2(alice.identity_file());
  REQUIRE(std::holds_alternative<crypto::identity_v2>(loaded));
  const auto& stolen = std::get<crypto::identity_v2>(loaded);
  // The client learns the real server key (the pin), as a first connection would.
  test_peer probe(server.port());
  REQUIRE(probe.read_server_hello());
  const crypto::public_key real_key = probe.server_key();

  SUBCASE("the fake server's own key: the pin does not match, and nothing is sent") {
    // Its key is the client's own X25519 key: the one key pair the thief holds.
    fake_server fake(crypto::key_pair::from_secret(copy_secret(stolen.x25519().secret)));
    std::filesystem::create_directories(alice.home / "natter");
    std::ofstream(alice.home / "natter" / "known_hosts")
        << "127.0.0.1:" << fake.port() << " " << crypto::to_hex(real_key) << "\n";
    const auto result = run_process({client_binary(), "--name", "alice", "127.0.0.1:" + std::to_string(fake.port())},
                                    "say this to the impostor\n", alice.env());
    INFO(result.err);
    CHECK(result.status == 3);
    CHECK(result.err.find("CHANGED") != std::string::npos);
    CHECK(result.err.find(crypto::server_fingerprint_v2(real_key)) != std::string::npos);
    CHECK(result.err.find(crypto::server_fingerprint_v2(stolen.x25519().public_key_bytes)) != std::string::npos);
    std::this_thread::sleep_for(100ms);
    CHECK(fake.frames_received() == 0);
    CHECK_FALSE(fake.established());
    CHECK(fake.plaintext_received().empty());
  }
  SUBCASE("a forged hello with the pinned key: message 1 is sealed to a key the fake cannot use") {
    fake_server fake(crypto::key_pair::from_secret(copy_secret(stolen.x25519().secret)), real_key);
    std::filesystem::create_directories(alice.home / "natter");
    std::ofstream(alice.home / "natter" / "known_hosts")
        << "127.0.0.1:" << fake.port() << " " << crypto::to_hex(real_key) << "\n";
    const auto result = run_process({client_binary(), "--name", "alice", "127.0.0.1:" + std::to_string(fake.port())},
                                    "say this to the impostor\n", alice.env());
    INFO(result.err);
    CHECK(result.status != 0);
    CHECK(result.err.find("joined") == std::string::npos);
    CHECK(fake.frames_received() == 1);  // the client hello with message 1, and nothing after it
    CHECK_FALSE(fake.established());
    CHECK(fake.handshake_error().find("handshake message 1 refused") != std::string::npos);
    CHECK(fake.plaintext_received().empty());
  }
}

TEST_CASE("the client's identity keys never cross the wire in clear, in either direction") {
  server_process server;
  recording_proxy tap(server.port());
  temp_dir root;
  cli_home alice(root, "alice");
  test_peer bob(server.port());
  REQUIRE(bob.join("bob"));
  // Through the tap: the client joins, asks who it is and who is here (answers that carry its
  // own key, sealed), and says something.
  const auto result = run_process({client_binary(), "--name", "alice", "--accept-new", "--wait-ms", "300",
                                   "127.0.0.1:" + std::to_string(tap.port())},
                                  "/whois alice\n/users\nhello bob\n", alice.env());
  INFO(result.err);
  REQUIRE(result.status == 0);
  // The text is end to end: bob (a raw peer that never answers alice's handshake) gets the
  // sealed room body once alice's handshake with him timed out.
  REQUIRE(bob.wait_for([](const server_message& m) {
    const auto* e = std::get_if<e2e_event>(&m);
    return e && e->from == "alice" && e->kind == "room";
  }));
  auto loaded = crypto::load_identity_v2(alice.identity_file());
  REQUIRE(std::holds_alternative<crypto::identity_v2>(loaded));
  const auto& identity = std::get<crypto::identity_v2>(loaded);
  // The server did send the key: in whois and users, sealed.
  CHECK((result.out + result.err).find(crypto::fingerprint_v2(identity.public_key())) != std::string::npos);
  bob.send(whois_request{"alice", bob.next_ref()});
  const auto whois = bob.wait_for_type<whois_event>();
  REQUIRE(whois);
  CHECK(whois->key == crypto::to_hex(identity.public_key()));

  const std::string up = tap.to_server(), down = tap.to_client();
  REQUIRE(up.size() > 200);
  REQUIRE(down.size() > 200);
  const auto& ed = identity.public_key().bytes;
  const auto& x = identity.x25519().public_key_bytes;
  for (const std::string& needle : {as_string(ed), as_string(x), crypto::to_hex(ed), crypto::to_hex(x)}) {
    CAPTURE(crypto::to_hex(std::span(reinterpret_cast<const std::uint8_t*>(needle.data()), needle.size())));
    CHECK(up.find(needle) == std::string::npos);
    CHECK(down.find(needle) == std::string::npos);
  }
  // The search does find a key that is on the wire: the server's, in its hello.
  CHECK(down.find(as_string(bob.server_key())) != std::string::npos);
}

TEST_CASE("the rate limit is kept per identity across reconnects; another identity is not limited by it") {
  server_process server({"--rate", "5", "--burst", "5"});
  const auto flooder = crypto::identity_v2::generate();
  {
    test_peer first(server.port(), copy_identity(flooder));
    REQUIRE(first.join("burst"));
    const auto [acks, limited] = say_burst(first, 5, "first");
    CHECK(acks == 5);
    CHECK(limited == 0);
  }
  const auto reconnected = std::chrono::steady_clock::now();
  test_peer again(server.port(), copy_identity(flooder));
  REQUIRE(join_retrying(again, "burst"));
  const auto [acks, limited] = say_burst(again, 5, "again");
  // A bucket per connection would have been full again (5 acks). Kept per identity it is empty,
  // refilled only by the 5 tokens a second since the first batch.
  const double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - reconnected).count();
  INFO("reconnect and second batch took ", waited, " s");
  CHECK(acks + limited == 5);
  CHECK(acks <= 1 + static_cast<int>(waited * 5));
  CHECK(limited >= 3);

  test_peer other(server.port());
  REQUIRE(other.join("calm"));
  const auto [other_acks, other_limited] = say_burst(other, 5, "calm");
  CHECK(other_acks == 5);
  CHECK(other_limited == 0);
}

TEST_CASE("an authentic frame with an empty plaintext gets bad_json and the connection stays open") {
  server_process server;
  test_peer peer(server.port());
  REQUIRE(peer.join("empty"));
  const bytes wire = peer.send_json("");
  CHECK(wire.size() == 4 + crypto::session_cipher_v2::min_body_size);  // one block of padding
  const auto error = peer.wait_for_type<error_event>();
  REQUIRE(error);
  CHECK(error->code == "bad_json");
  peer.send(ping_request{7});
  const auto pong = peer.wait_for_type<pong_event>();
  REQUIRE(pong);
  CHECK(pong->ref == 7);
  CHECK_FALSE(peer.closed());
}

TEST_CASE("a server that is full says so after its hello, in place of message 2, unauthenticated") {
  server_process server({"--max-connections", "1"});
  test_peer first(server.port());
  REQUIRE(first.join("first"));
  test_peer second(server.port());
  // The hello comes first, as to anyone: the client can check the key before it sends anything.
  REQUIRE(second.read_server_hello());
  CHECK(second.server_key() == first.server_key());
  CHECK(second.handshake_state().current() == crypto::handshake_v2::state::awaiting_verdict);
  // Then message 1 is answered by the refusal.
  CHECK_FALSE(second.handshake());
  CHECK(second.handshake_state().refused_unauthenticated());
  CHECK(second.handshake_state().refusal_text().find("server is full") != std::string::npos);
  CHECK(second.error().find("server is full") != std::string::npos);
  REQUIRE(second.raw_frames_received().size() == 2);
  const auto refusal = crypto::decode_refusal(second.raw_frames_received()[1]);
  REQUIRE(refusal);
  CHECK(*refusal == "server is full");
  CHECK(second.wait_closed());
  // The one who was in is still served.
  first.send(ping_request{3});
  CHECK(first.wait_for_type<pong_event>());
}

TEST_CASE("a name registered under a protocol 1 key moves to the client's new identity, with proof") {
  temp_dir root;
  cli_home olduser(root, "olduser");
  // A protocol 1 identity file, and the name registered under its key by a protocol 1 server.
  const auto v1_file = olduser.home / "v1-identity";
  const auto v1 = crypto::load_or_create_identity(v1_file).keys;
  const auto state = root.path() / "state";
  register_v1_name(state, "olduser", v1.public_key_bytes);
  server_process server({}, state);

  // Nobody else gets the name.
  {
    test_peer squatter(server.port());
    CHECK_FALSE(squatter.join("olduser"));
    CHECK(squatter.error().rfind("name_taken", 0) == 0);
  }
  // A join whose proof does not check out (made for another handshake) is refused.
  {
    test_peer forger(server.port());
    REQUIRE(forger.handshake());
    const std::array<std::uint8_t, crypto::handshake_hash_size> other_handshake{};
    const auto proof = crypto::make_migration_proof(v1, forger.server_key(), other_handshake);
    REQUIRE(proof);
    forger.send(join_request{"olduser", 11, crypto::to_hex(v1.public_key_bytes), crypto::to_hex(*proof)});
    auto error = forger.wait_for_type<error_event>();
    REQUIRE(error);
    CHECK(error->code == "bad_migration");
    CHECK(error->ref == 11);
    // Nor does a malformed one; the connection is still usable afterwards.
    forger.send(join_request{"olduser", 12, crypto::to_hex(v1.public_key_bytes), "00"});
    error = forger.wait_for_type<error_event>();
    REQUIRE(error);
    CHECK(error->code == "bad_migration");
    forger.send(ping_request{13});
    CHECK(forger.wait_for_type<pong_event>());
    CHECK(server.wait_for_log("bad migration proof"));
  }
  CHECK(server.log().find("moved from the protocol 1 key") == std::string::npos);

  // The real client with the v1 file: it makes FILE-v2 and joins under the name, proving the key.
  const auto result = run_process({client_binary(), "--identity", v1_file.string(), "--name", "olduser",
                                   "--accept-new", "127.0.0.1:" + std::to_string(server.port())},
                                  "hello from my new key\n", olduser.env());
  INFO(result.err);
  INFO(server.log());
  CHECK(result.status == 0);
  const auto v2_file = std::filesystem::path(v1_file.string() + "-v2");
  REQUIRE(std::filesystem::exists(v2_file));
  auto loaded = crypto::load_identity_v2(v2_file);
  REQUIRE(std::holds_alternative<crypto::identity_v2>(loaded));
  const auto& v2 = std::get<crypto::identity_v2>(loaded);
  CHECK(server.wait_for_log("olduser moved from the protocol 1 key " + crypto::to_hex(v1.public_key_bytes) + " to " +
                            crypto::fingerprint_v2(v2.public_key())));
  CHECK(server.wait_for_log("olduser joined"));
  // The v1 file is left as it was.
  CHECK(std::holds_alternative<crypto::v1_identity_found>(crypto::load_identity_v2(v1_file)));

  // The name now belongs to the new identity: a fresh one is refused, the new one is named.
  test_peer stranger(server.port());
  CHECK_FALSE(join_retrying(stranger, "olduser"));
  CHECK(stranger.error().rfind("name_taken", 0) == 0);
  REQUIRE(stranger.join("stranger"));
  stranger.send(whois_request{"olduser", 21});
  const auto whois = stranger.wait_for_type<whois_event>();
  REQUIRE(whois);
  CHECK(whois->key == crypto::to_hex(v2.public_key()));
  CHECK(whois->fingerprint == crypto::fingerprint_v2(v2.public_key()));
  // The client still holds the v1 file and proves it again on the next join: that is harmless
  // (the name moves once), and the same identity is used.
  const auto second = run_process({client_binary(), "--identity", v1_file.string(), "--name", "olduser",
                                   "127.0.0.1:" + std::to_string(server.port())},
                                  "hello again\n", olduser.env());
  INFO(second.err);
  CHECK(second.status == 0);
  const std::string log = server.log();
  CHECK(log.find("moved from the protocol 1 key") == log.rfind("moved from the protocol 1 key"));
  // And the new identity gets it without any proof.
  test_peer owner(server.port(), copy_identity(v2));
  CHECK(join_retrying(owner, "olduser"));
}
