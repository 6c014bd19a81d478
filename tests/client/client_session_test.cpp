#include "natter/client/client_session.hpp"

#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>

#include "natter/crypto/migration_proof.hpp"
#include "natter/frame.hpp"
#include "natter/limits.hpp"
#include "natter/message_build.hpp"

namespace nc = natter::client;
namespace cr = natter::crypto;
using json = nlohmann::json;

namespace {

// Splits wire bytes into frame bodies.
std::vector<natter::bytes> frames_of(const natter::bytes& wire) {
  natter::frame_decoder decoder(natter::limits::default_max_frame);
  decoder.feed(wire);
  std::vector<natter::bytes> out;
  natter::bytes body;
  while (decoder.next(body) == natter::decode_status::frame) out.push_back(body);
  REQUIRE(decoder.buffered() == 0);
  return out;
}

template <typename T>
std::vector<T> events_of(nc::client_session& s) {
  std::vector<T> out;
  for (auto& e : s.take_events()) {
    if (auto* t = std::get_if<T>(&e)) out.push_back(*t);
  }
  return out;
}

// The server side of a connection, built from the same pure pieces the real server uses.
struct fake_server {
  cr::key_pair identity = cr::key_pair::generate();
  cr::handshake_v2 handshake = cr::handshake_v2::server(identity, {65536, 4096});
  std::optional<cr::session_cipher_v2> cipher;

  natter::bytes hello() { return handshake.start().at(0); }

  // Takes the client's hello + Noise message 1; returns message 2.
  natter::bytes message_2(const natter::bytes& client_wire) {
    const auto frames = frames_of(client_wire);
    REQUIRE(frames.size() == 1);
    auto replies = handshake.on_frame(frames[0]);
    REQUIRE(replies.size() == 1);
    return replies[0];
  }

  // Takes message 3 and whatever session frames follow it; returns their JSON objects.
  std::vector<json> finish(const natter::bytes& client_wire) {
    auto frames = frames_of(client_wire);
    REQUIRE_FALSE(frames.empty());
    CHECK(handshake.on_frame(frames[0]).empty());
    REQUIRE(handshake.current() == cr::handshake_v2::state::established);
    auto keys = handshake.take_keys();
    REQUIRE(keys.has_value());
    cipher.emplace(std::move(keys->server_to_client), std::move(keys->client_to_server),
                   cr::direction::server_to_client);
    std::vector<json> out;
    for (std::size_t i = 1; i < frames.size(); ++i) out.push_back(open(frames[i]));
    return out;
  }

  json open(const natter::bytes& body) {
    auto opened = cipher->open(body);
    REQUIRE(opened.status == cr::session_cipher_v2::open_status::ok);
    return json::parse(opened.plaintext);
  }

  // Opens every session frame the client sent; returns the JSON objects.
  std::vector<json> receive(const natter::bytes& client_wire) {
    std::vector<json> out;
    for (const auto& body : frames_of(client_wire)) out.push_back(open(body));
    return out;
  }

  natter::bytes seal(const std::string& plaintext) {
    natter::bytes wire;
    natter::append_sealed_frame(*cipher, plaintext, wire);
    return natter::bytes(wire.begin() + natter::frame_header_size, wire.end());
  }
  natter::bytes seal(const natter::server_message& m) { return seal(natter::build(m)); }
};

// How far the session's end-to-end clock is ahead of the real one: a test moves it on to see
// what the layer does later (and puts it back).
nc::e2e_clock::duration e2e_clock_ahead{};

struct connected {
  cr::identity_v2 identity = cr::identity_v2::generate();
  fake_server server;
  nc::client_session client;

  // `e2e`: say and whisper go through the end-to-end layer.
  explicit connected(bool e2e = false) : client(identity, settings(e2e)) {}
  explicit connected(nc::session_settings s) : client(identity, std::move(s)) {}
  static nc::session_settings settings(bool e2e) {
    nc::session_settings s{"alice", true, nullptr, nullptr, {}};
    s.e2e.enabled = e2e;
    s.e2e.server = "127.0.0.1:9900";
    s.e2e.now = [] { return nc::e2e_clock::now() + e2e_clock_ahead; };
    return s;
  }

  // Runs the handshake; returns what the client sent sealed right after it (its join).
  std::vector<json> handshake() {
    client.on_frame(server.hello());
    REQUIRE(client.current() == nc::client_session::phase::awaiting_verdict);
    CHECK(client.server_key() == server.identity.public_key_bytes);
    CHECK(client.take_output().empty());  // nothing is said before the pin check
    client.accept_server_key();
    client.on_frame(server.message_2(client.take_output()));
    REQUIRE(client.current() == nc::client_session::phase::joining);
    REQUIRE(client.cipher() != nullptr);
    CHECK(client.connection_id() == server.handshake.connection_id());
    return server.finish(client.take_output());
  }

  // Runs the handshake and the join; leaves the client joined with all output/events drained.
  void join() {
    const auto sent = handshake();
    REQUIRE(sent.size() == 1);
    CHECK(sent[0]["type"] == "join");
    CHECK(sent[0]["name"] == "alice");
    CHECK(sent[0]["ref"] == 1);
    CHECK_FALSE(sent[0].contains("migrate_from"));  // no v1 key: nothing to migrate

    natter::welcome_event welcome;
    welcome.name = "Alice";
    welcome.max_frame = 65536;
    welcome.max_text = 1000;
    client.on_frame(server.seal(welcome));
    REQUIRE(client.current() == nc::client_session::phase::joined);
    CHECK(client.name() == "Alice");
    CHECK(client.max_text() == 1000);
    (void)client.take_events();
  }
};

}  // namespace

TEST_CASE("handshake and join in memory, with trace events for every frame") {
  natter::crypto::init_sodium();
  connected c;
  (void)c.handshake();
  const auto traces = events_of<nc::trace_event>(c.client);
  // received server hello, sent client hello + message 1, received message 2, sent message 3, sent join
  REQUIRE(traces.size() == 5);
  CHECK(traces[0].label == "server hello");
  CHECK_FALSE(traces[0].outgoing);
  CHECK(traces[1].label == "client hello + Noise message 1");
  CHECK(traces[1].outgoing);
  CHECK(traces[1].frame_number == 1);
  CHECK(traces[1].length == 8 + 48);  // hello header, then e and an empty payload's tag
  CHECK(traces[2].label == "Noise message 2");
  CHECK(traces[2].detail.find("max_frame 65536, max_text 4096") != std::string::npos);
  CHECK(traces[3].label == "Noise message 3");
  CHECK(traces[3].frame_number == 2);
  CHECK(traces[3].length == 48 + 16 + 33);  // s, its tag, the identity payload and its tag
  CHECK(traces[4].label == "session");
  CHECK(traces[4].frame_number == 3);
  CHECK(traces[4].counter == 1);
  CHECK(traces[4].ciphertext_size + cr::session_cipher_v2::header_size == traces[4].length);
  CHECK(traces[4].length == cr::session_cipher_v2::sealed_size(traces[4].detail.size()));  // padded
  CHECK(json::parse(traces[4].detail)["type"] == "join");
}

TEST_CASE("requests get unique increasing refs; acks and errors settle them") {
  natter::crypto::init_sodium();
  connected c;
  c.join();

  const auto r1 = c.client.send(natter::say_request{"hello", {}});
  const auto r2 = c.client.send(natter::whisper_request{"bob", "psst", {}});
  const auto r3 = c.client.send(natter::users_request{});
  REQUIRE(r1);
  REQUIRE(r2);
  REQUIRE(r3);
  CHECK(*r1 > 1);
  CHECK(*r2 > *r1);
  CHECK(*r3 > *r2);
  CHECK(c.client.unacknowledged() == 2);  // users needs no ack

  const auto sent = c.server.receive(c.client.take_output());
  REQUIRE(sent.size() == 3);
  CHECK(sent[0]["type"] == "say");
  CHECK(sent[0]["ref"] == *r1);
  CHECK(sent[1]["type"] == "whisper");
  CHECK(sent[1]["to"] == "bob");

  c.client.on_frame(c.server.seal(natter::ack_event{*r1, 10, 0}));
  CHECK(c.client.unacknowledged() == 1);
  c.client.on_frame(c.server.seal(natter::error_event{"unknown_user", "bob is not online", *r2}));
  CHECK(c.client.unacknowledged() == 0);
  CHECK(c.client.refused() == 1);
  const auto errors = c.client.take_events();
  CHECK(errors.size() >= 2);  // traces + the error itself
  CHECK_FALSE(c.client.closed());
}

TEST_CASE("nothing but the join before the welcome") {
  natter::crypto::init_sodium();
  connected c;
  CHECK_FALSE(c.client.send(natter::say_request{"too early", {}}));
  c.client.on_frame(c.server.hello());
  CHECK_FALSE(c.client.send(natter::ping_request{}));  // no session key yet
  CHECK(c.client.take_output().empty());
}

TEST_CASE("batches are handled in order and split users lists are joined") {
  natter::crypto::init_sodium();
  connected c;
  c.join();
  natter::users_event part1{{}, {{"a", "f", 0}}, true};
  natter::users_event part2{{}, {{"b", "f", 0}}, false};
  const std::string batch = "[" + natter::build(natter::server_message{natter::chat_event{1, 0, "bob", "", "one", false}}) +
                            "," + natter::build(natter::server_message{part1}) + "," +
                            natter::build(natter::server_message{part2}) + "]";
  c.client.on_frame(c.server.seal(batch));
  std::vector<natter::server_message> messages;
  for (auto& e : c.client.take_events()) {
    if (auto* m = std::get_if<natter::server_message>(&e)) messages.push_back(*m);
  }
  REQUIRE(messages.size() == 2);
  CHECK(std::get<natter::chat_event>(messages[0]).text == "one");
  CHECK(std::get<natter::users_event>(messages[1]).users.size() == 2);
}

TEST_CASE("unknown message types are a notice, not a disconnect") {
  natter::crypto::init_sodium();
  connected c;
  c.join();
  c.client.on_frame(c.server.seal(R"({"type":"emoji_reaction","x":1})"));
  CHECK(events_of<nc::notice_event>(c.client).size() == 1);
  CHECK_FALSE(c.client.closed());
}

TEST_CASE("a frame that does not open ends the session") {
  natter::crypto::init_sodium();
  connected c;
  c.join();
  auto frame = c.server.seal(natter::pong_event{});
  SUBCASE("flipped MAC byte") { frame[cr::nonce_size] ^= 1; }
  SUBCASE("replay") { c.client.on_frame(frame); (void)c.client.take_events(); }
  c.client.on_frame(frame);
  const auto failures = events_of<nc::failure_event>(c.client);
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].kind == nc::failure_kind::runtime);
  CHECK(failures[0].message.find("could not be opened") != std::string::npos);
  CHECK(c.client.closed());
  CHECK_FALSE(c.client.send(natter::say_request{"after", {}}));
}

TEST_CASE("a server refusal is shown with its reason") {
  natter::crypto::init_sodium();
  connected c;
  c.client.on_frame(c.server.hello());
  c.client.accept_server_key();
  (void)c.client.take_output();
  c.client.on_frame(cr::encode_refusal("too many connections", cr::protocol_version_2));
  const auto failures = events_of<nc::failure_event>(c.client);
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].message.find("too many connections") != std::string::npos);
  // Anyone on the path can send a refusal: the client says so.
  CHECK(failures[0].message.find("unauthenticated") != std::string::npos);
  CHECK(c.client.closed());
}

TEST_CASE("abort after the hello sends nothing at all (key mismatch)") {
  natter::crypto::init_sodium();
  connected c;
  c.client.on_frame(c.server.hello());
  c.client.abort(nc::failure_kind::key_mismatch, "changed");
  CHECK(c.client.take_output().empty());
  CHECK(c.client.closed());
  c.client.accept_server_key();  // too late: ignored
  CHECK(c.client.take_output().empty());
  const auto failures = events_of<nc::failure_event>(c.client);
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].kind == nc::failure_kind::key_mismatch);
}

TEST_CASE("a refused join ends the session") {
  natter::crypto::init_sodium();
  connected c;
  (void)c.handshake();
  c.client.on_frame(c.server.seal(natter::error_event{"name_taken", "registered to another key", 1}));
  CHECK(events_of<nc::failure_event>(c.client).size() == 1);
  CHECK(c.client.closed());
}

TEST_CASE("quit, bye and disconnect") {
  natter::crypto::init_sodium();
  connected c;
  c.join();
  REQUIRE(c.client.send(natter::quit_request{"done"}));
  const auto sent = c.server.receive(c.client.take_output());
  REQUIRE(sent.size() == 1);
  CHECK(sent[0]["type"] == "quit");
  CHECK(sent[0]["reason"] == "done");
  c.client.on_frame(c.server.seal(natter::bye_event{"quit", "goodbye"}));
  CHECK(c.client.bye_received());
  c.client.on_disconnected("the server closed the connection");
  const auto events = c.client.take_events();
  CHECK(std::none_of(events.begin(), events.end(),
                     [](const nc::client_event& e) { return std::holds_alternative<nc::failure_event>(e); }));
  REQUIRE(std::holds_alternative<nc::closed_event>(events.back()));
  CHECK(std::get<nc::closed_event>(events.back()).after_quit);
}

TEST_CASE("an unexpected disconnect is a failure") {
  natter::crypto::init_sodium();
  connected c;
  c.join();
  c.client.on_disconnected("reset by peer");
  const auto failures = events_of<nc::failure_event>(c.client);
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].message.find("connection lost") != std::string::npos);
}

TEST_CASE("a message whose JSON would exceed the server's frame limit is refused locally") {
  natter::crypto::init_sodium();
  connected c;
  (void)c.handshake();
  natter::welcome_event welcome;
  welcome.name = "alice";
  welcome.max_frame = 4096;
  welcome.max_text = 4096;
  c.client.on_frame(c.server.seal(welcome));
  (void)c.client.take_events();

  // 3000 quotes are 3000 bytes of text but 6000 bytes of JSON.
  CHECK_FALSE(c.client.send(natter::say_request{std::string(3000, '"'), {}}));
  CHECK(c.client.take_output().empty());
  CHECK(c.client.refused() == 1);
  CHECK(c.client.unacknowledged() == 0);
  CHECK(events_of<nc::notice_event>(c.client).size() == 1);
  CHECK(c.client.send(natter::say_request{std::string(3000, 'x'), {}}));
}

TEST_CASE("a refusal anywhere but in place of message 2 is a plain handshake failure") {
  natter::crypto::init_sodium();
  connected c;
  c.client.on_frame(cr::encode_refusal("I am the server, trust me", cr::protocol_version_2));
  const auto failures = events_of<nc::failure_event>(c.client);
  REQUIRE(failures.size() == 1);
  CHECK(failures[0].message.find("handshake failed") != std::string::npos);
  CHECK(failures[0].message.find("unauthenticated") == std::string::npos);
}

TEST_CASE("a dropped server frame closes the session, naming the missing frame") {
  natter::crypto::init_sodium();
  connected c;
  c.join();  // the welcome was server frame 1
  (void)c.server.seal(natter::chat_event{2, 0, "bob", "", "msg two", false});  // sealed, dropped by a relay
  c.client.on_frame(c.server.seal(natter::chat_event{3, 0, "bob", "", "msg three", false}));
  const auto events = c.client.take_events();
  CHECK(std::none_of(events.begin(), events.end(), [](const nc::client_event& e) {
    return std::holds_alternative<natter::server_message>(e);  // "msg three" is not shown as if nothing happened
  }));
  bool named = false;
  for (const auto& e : events) {
    if (const auto* f = std::get_if<nc::failure_event>(&e)) named = f->message.find("frame 2 from the server is missing") != std::string::npos;
  }
  CHECK(named);
  CHECK(c.client.closed());
}

TEST_CASE("with a v1 key: the first join proves nothing; only name_taken brings the proof, once") {
  natter::crypto::init_sodium();
  const auto v1 = cr::key_pair::generate();
  connected c;
  nc::client_session migrating{c.identity, {"alice", false, nullptr, &v1}};
  migrating.on_frame(c.server.hello());
  migrating.accept_server_key();
  migrating.on_frame(c.server.message_2(migrating.take_output()));
  const auto first = c.server.finish(migrating.take_output());
  REQUIRE(first.size() == 1);
  // A server that never knew the v1 key does not learn it.
  CHECK_FALSE(first[0].contains("migrate_from"));
  CHECK_FALSE(first[0].contains("migration_proof"));

  migrating.on_frame(c.server.seal(natter::error_event{"name_taken", "registered to another key", first[0]["ref"].get<std::uint64_t>()}));
  CHECK(events_of<nc::failure_event>(migrating).empty());  // not failed: asking again
  const auto second = c.server.receive(migrating.take_output());
  REQUIRE(second.size() == 1);
  CHECK(second[0]["type"] == "join");
  CHECK(second[0]["migrate_from"] == cr::to_hex(v1.public_key_bytes));
  std::array<std::uint8_t, cr::migration_proof_size> proof{};
  REQUIRE(cr::from_hex(second[0]["migration_proof"].get<std::string>(), proof));
  const auto hash = c.server.handshake.handshake_hash();
  REQUIRE(hash.has_value());
  CHECK(cr::check_migration_proof(proof, v1.public_key_bytes, c.server.identity, *hash));

  // Refused again (someone else's name after all): now it is final.
  migrating.on_frame(c.server.seal(natter::error_event{"name_taken", "registered to another key", second[0]["ref"].get<std::uint64_t>()}));
  CHECK(events_of<nc::failure_event>(migrating).size() == 1);
  CHECK(migrating.closed());
}

TEST_CASE("end to end in the session: texts become e2e requests; answers to our handshakes stay inside") {
  natter::crypto::init_sodium();
  connected c(true);
  const auto bob = cr::identity_v2::generate();
  c.join();
  // bob appears (presence carries his key): his key is pinned, the room code shown.
  c.client.on_frame(c.server.seal(natter::presence_event{true, "bob", "fp", "", cr::to_hex(bob.public_key().bytes)}));
  auto shown = events_of<nc::e2e_shown_event>(c.client);
  REQUIRE(shown.size() == 2);
  CHECK(shown[0].text.find("pinned bob's end-to-end key") != std::string::npos);
  CHECK(shown[1].text.find("room code now: ") != std::string::npos);

  const auto ref = c.client.send(natter::whisper_request{"bob", "psst", {}});
  REQUIRE(ref.has_value());
  auto sent = c.server.receive(c.client.take_output());
  REQUIRE(sent.size() == 1);  // the whisper waits for the session: only the handshake goes
  CHECK(sent[0]["type"] == "e2e");
  CHECK(sent[0]["kind"] == "handshake");
  CHECK(sent[0]["to"] == "bob");
  CHECK(c.client.unacknowledged() == 1);  // the whisper counts as waiting

  SUBCASE("the ack of the handshake is not the conversation's") {
    c.client.on_frame(c.server.seal(natter::ack_event{sent[0]["ref"].get<std::uint64_t>(), 9, 0}));
    CHECK(events_of<natter::server_message>(c.client).empty());
  }
  SUBCASE("a refused handshake fails the whisper, under its own ref") {
    c.client.on_frame(c.server.seal(natter::error_event{"unknown_user", "no bob", sent[0]["ref"].get<std::uint64_t>()}));
    const auto answers = events_of<natter::server_message>(c.client);
    REQUIRE(answers.size() == 1);
    const auto& error = std::get<natter::error_event>(answers[0]);
    CHECK(error.ref == ref);
    CHECK(error.code == "e2e");
    CHECK(error.message.find("bob") != std::string::npos);
    CHECK(c.client.unacknowledged() == 0);
    CHECK(c.client.refused() == 1);
  }
  SUBCASE("a handshake refused over the server's budget is sent again later; the whisper waits") {
    c.client.on_frame(c.server.seal(
        natter::error_event{"rate_limited", "too many end-to-end key messages; slow down", sent[0]["ref"].get<std::uint64_t>()}));
    CHECK(events_of<natter::server_message>(c.client).empty());  // not the conversation's, and not a failure
    CHECK(c.client.unacknowledged() == 1);
    c.client.tick();
    CHECK(c.server.receive(c.client.take_output()).empty());  // not at once
    e2e_clock_ahead = nc::refused_retry_first;
    c.client.tick();
    e2e_clock_ahead = {};
    const auto again = c.server.receive(c.client.take_output());
    REQUIRE(again.size() == 1);
    CHECK(again[0]["kind"] == "handshake");
    CHECK(again[0]["to"] == "bob");
    CHECK(c.client.refused() == 0);
  }
  SUBCASE("a handshake refused unknown_user names the member once it is clear it did not just leave") {
    c.client.on_frame(c.server.seal(natter::error_event{"unknown_user", "no bob", sent[0]["ref"].get<std::uint64_t>()}));
    (void)events_of<nc::e2e_shown_event>(c.client);
    e2e_clock_ahead = nc::not_delivered_warning_after;
    c.client.tick();
    e2e_clock_ahead = {};
    bool warned = false;
    for (const auto& e : events_of<nc::e2e_shown_event>(c.client)) {
      warned = warned || (e.kind == nc::e2e_shown::warning &&
                          e.text.find("the server listed bob as a member but does not deliver to them") != std::string::npos);
    }
    CHECK(warned);
  }
  SUBCASE("--trace describes the end-to-end layer too (the fixture traces)") {
    bool described = false;
    for (const auto& e : events_of<nc::e2e_shown_event>(c.client)) {
      described = described || (e.kind == nc::e2e_shown::trace && e.text == "e2e -> bob handshake: KK init, 49 bytes");
    }
    CHECK(described);
  }
  SUBCASE("an old-style chat event is marked as not end to end") {
    c.client.on_frame(c.server.seal(natter::chat_event{3, 0, "bob", "", "in the clear", false}));
    auto marked = events_of<nc::e2e_shown_event>(c.client);
    std::erase_if(marked, [](const nc::e2e_shown_event& e) { return e.kind == nc::e2e_shown::trace; });
    REQUIRE(marked.size() == 1);
    CHECK(marked[0].kind == nc::e2e_shown::not_end_to_end);
  }
}

namespace {

// A welcome for alice among `peers` (names p000...), listing only the first `listed` users.
natter::welcome_event big_welcome(const std::vector<cr::identity_v2>& peers, const cr::identity_v2& alice,
                                  std::size_t listed, std::vector<natter::user_info>& everyone) {
  everyone = {{"alice", "fp", 0, cr::to_hex(alice.public_key().bytes)}};
  for (std::size_t i = 0; i < peers.size(); ++i) {
    std::string name = std::to_string(i);
    name = "p" + std::string(3 - std::min<std::size_t>(3, name.size()), '0') + name;
    everyone.push_back({name, "fp", 0, cr::to_hex(peers[i].public_key().bytes)});
  }
  natter::welcome_event w;
  w.name = "alice";
  w.users.assign(everyone.begin(), everyone.begin() + static_cast<std::ptrdiff_t>(std::min(listed, everyone.size())));
  w.user_count = everyone.size();
  w.max_frame = 65536;
  w.max_text = 1000;
  return w;
}

std::vector<cr::identity_v2> identities(std::size_t n) {
  std::vector<cr::identity_v2> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(cr::identity_v2::generate());
  return out;
}

}  // namespace

TEST_CASE("a welcome listing 256 of 300: the session pages users, keeps the pages, and room texts wait for the last") {
  cr::init_sodium();
  connected c(true);
  (void)c.handshake();
  const auto peers = identities(299);
  std::vector<natter::user_info> everyone;
  c.client.on_frame(c.server.seal(big_welcome(peers, c.identity, 256, everyone)));
  REQUIRE(c.client.current() == nc::client_session::phase::joined);
  (void)c.client.take_events();
  auto sent = c.server.receive(c.client.take_output());
  REQUIRE(sent.size() == 1);
  CHECK(sent[0]["type"] == "users");
  const auto ref = sent[0]["ref"].get<std::uint64_t>();

  // Typed before the directory is complete: nothing goes, not even handshakes with the 255 listed.
  const auto say = c.client.send(natter::say_request{"to all 300", {}});
  REQUIRE(say.has_value());
  CHECK(c.server.receive(c.client.take_output()).empty());

  std::vector<natter::user_info> first(everyone.begin(), everyone.begin() + 256);
  std::vector<natter::user_info> rest(everyone.begin() + 256, everyone.end());
  c.client.on_frame(c.server.seal(natter::users_event{ref, first, true}));
  CHECK(c.server.receive(c.client.take_output()).empty());
  c.client.on_frame(c.server.seal(natter::users_event{ref, rest, false}));
  const auto events = c.client.take_events();
  bool code_for_300 = false;
  for (const auto& e : events) {
    CHECK_FALSE(std::holds_alternative<natter::server_message>(e));  // our own pages: not the conversation's
    if (const auto* shown = std::get_if<nc::e2e_shown_event>(&e)) {
      code_for_300 = code_for_300 || (shown->text.find("room code now: ") != std::string::npos &&
                                          shown->text.find("(300 members") != std::string::npos);
    }
  }
  CHECK(code_for_300);
  std::set<std::string> handshakes;
  for (const auto& m : c.server.receive(c.client.take_output())) {
    CHECK(m["type"] == "e2e");
    if (m["kind"] == "handshake") handshakes.insert(m["to"].get<std::string>());
  }
  CHECK(handshakes.size() == 299);  // the room text now waits for a session with every member
  CHECK(handshakes.contains("p298"));
  CHECK(c.client.unacknowledged() == 1);

  SUBCASE("the user's own /users is still answered to the conversation") {
    const auto own = c.client.send(natter::users_request{});
    REQUIRE(own.has_value());
    c.client.on_frame(c.server.seal(natter::users_event{*own, first, false}));
    const auto answers = events_of<natter::server_message>(c.client);
    REQUIRE(answers.size() == 1);
    CHECK(std::get<natter::users_event>(answers[0]).users.size() == 256);
  }
}

TEST_CASE("an open room: announced before the welcome; a say routed in the clear is a plain say; --require-e2e refuses") {
  cr::init_sodium();
  auto settings = connected::settings(true);
  settings.e2e.room_limit = 3;
  bool strict = false;
  SUBCASE("plain") {}
  SUBCASE("--require-e2e") { strict = true; }
  settings.e2e.require_e2e = strict;
  connected c(settings);
  (void)c.handshake();
  const auto peers = identities(4);
  std::vector<natter::user_info> everyone;
  c.client.on_frame(c.server.seal(big_welcome(peers, c.identity, 256, everyone)));
  auto events = c.client.take_events();
  REQUIRE_FALSE(events.empty());
  std::size_t welcome_at = events.size();
  std::size_t open_at = events.size();
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (const auto* m = std::get_if<natter::server_message>(&events[i]); m && std::holds_alternative<natter::welcome_event>(*m)) {
      welcome_at = i;
    }
    if (const auto* e = std::get_if<nc::e2e_shown_event>(&events[i]); e && e->kind == nc::e2e_shown::room_open) {
      open_at = i;
      CHECK(e->room_members == 5);
      CHECK(e->text.find("lobby has 5 members, more than 3: room texts are NOT end-to-end, the server can read them") == 0);
    }
  }
  CHECK(open_at < welcome_at);  // so the lines typed before the join run labelled for an open room
  CHECK(c.server.receive(c.client.take_output()).empty());  // all listed: no users request

  const auto ref = c.client.send(natter::say_request{"everyone can read this", {}}, nc::room_route::in_the_clear);
  REQUIRE(ref.has_value());
  const auto sent = c.server.receive(c.client.take_output());
  if (strict) {
    CHECK(sent.empty());
    const auto answers = events_of<natter::server_message>(c.client);
    REQUIRE(answers.size() == 1);
    const auto& error = std::get<natter::error_event>(answers[0]);
    CHECK(error.ref == ref);
    CHECK(error.message == "not sent: the room is open (5 members) and --require-e2e is set");
    CHECK(c.client.refused() == 1);
    return;
  }
  REQUIRE(sent.size() == 1);
  CHECK(sent[0]["type"] == "say");
  CHECK(sent[0]["text"] == "everyone can read this");
  CHECK(sent[0]["ref"] == *ref);
  c.client.on_frame(c.server.seal(natter::ack_event{*ref, 5, 0}));
  const auto answers = events_of<natter::server_message>(c.client);
  REQUIRE(answers.size() == 1);  // the conversation matches it to its line
  CHECK(std::get<natter::ack_event>(answers[0]).ref == *ref);
  CHECK(c.client.unacknowledged() == 0);

  // Whispers stay end to end in an open room.
  (void)c.client.send(natter::whisper_request{"p000", "psst", {}});
  const auto whisper = c.server.receive(c.client.take_output());
  REQUIRE(whisper.size() == 1);
  CHECK(whisper[0]["type"] == "e2e");
  CHECK(whisper[0]["kind"] == "handshake");

  // Two leave: 3 members, end to end again, and said so.
  c.client.on_frame(c.server.seal(natter::presence_event{false, "p002", "", "quit"}));
  (void)c.client.take_events();
  c.client.on_frame(c.server.seal(natter::presence_event{false, "p003", "", "quit"}));
  bool back = false;
  for (const auto& e : events_of<nc::e2e_shown_event>(c.client)) {
    back = back || (e.kind == nc::e2e_shown::room_end_to_end && e.room_members == 3 &&
                    e.text == "lobby has 3 members, 3 at most: room texts are end-to-end again");
  }
  CHECK(back);
  (void)c.client.send(natter::say_request{"sealed", {}});
  for (const auto& m : c.server.receive(c.client.take_output())) CHECK(m["type"] == "e2e");  // no say in the clear
}
