// The server's per-connection protocol core without sockets, the way client_session_test tests
// the client: a real client-side handshake and cipher (natter_crypto) talk to connection_core
// through byte buffers. Each server end is the core plus the outgoing queue the session would
// own; the router between them is real; both clocks are fakes.
#include <doctest/doctest.h>
#include <sodium.h>

#include "natter/crypto/fingerprint_v2.hpp"
#include "natter/crypto/migration_proof.hpp"
#include "natter/frame.hpp"
#include "natter/limits.hpp"
#include "natter/message_build.hpp"
#include "natter/message_parse.hpp"
#include "natter/server/connection_core.hpp"
#include "natter/server/log.hpp"
#include "natter/server/outgoing_queue.hpp"

using namespace natter;
using namespace natter::server;
using outcome = outgoing_queue::push_outcome;

namespace {

// What a session is, minus the socket: the core, the queue, and a record of what the queue told it.
struct server_end final : participant, std::enable_shared_from_this<server_end> {
  explicit server_end(const connection_context& context, std::optional<std::string> refusal = std::nullopt)
      : core(context, "192.0.2.1:4242", std::move(refusal)), queue({100, 1 << 20}) {}
  connection_core core;
  outgoing_queue queue;
  std::vector<outcome> pushes;
  std::vector<leave_reason> disconnects;

  void deliver(shared_message m) override { pushes.push_back(queue.push(std::move(m), false)); }
  void deliver_soon(shared_message m) override { pushes.push_back(queue.push(std::move(m), true)); }
  void disconnect(leave_reason reason, std::string) override { disconnects.push_back(reason); }

  // The deferred flush timer fires: true if the session would now schedule a write.
  bool tick() { return queue.flush_deferred(); }

  // Everything the session would write now, as one byte stream.
  bytes drain() {
    bytes wire;
    std::vector<shared_message> batch;
    while (queue.take(batch, core.has_handshake_output())) {
      bytes out;
      CHECK_FALSE(core.write_output(batch, out));
      wire.insert(wire.end(), out.begin(), out.end());
      batch.clear();
    }
    return wire;
  }
};

// The client's end: natter_crypto's handshake and cipher, no client library.
struct client_end {
  explicit client_end(crypto::identity_v2 id = crypto::identity_v2::generate()) : identity(std::move(id)) {}
  crypto::identity_v2 identity;
  crypto::handshake_v2 handshake = crypto::handshake_v2::client(identity);
  std::optional<crypto::session_cipher_v2> cipher;
  frame_decoder decoder{limits::default_max_frame};
  std::size_t session_frames = 0;  // sealed frames received

  // Reads the server's bytes: handshake frames until established, then sealed frames.
  // Returns the handshake frames to send back and collects the messages.
  std::vector<server_message> messages;
  bytes receive(const bytes& wire) {
    decoder.feed(wire);
    bytes reply;
    bytes body;
    while (decoder.next(body) == decode_status::frame) {
      if (!cipher) {
        auto frames = handshake.on_frame(body);
        if (handshake.current() == crypto::handshake_v2::state::awaiting_verdict) frames = handshake.accept_peer_key();
        for (const auto& frame : frames) {
          const bytes framed = make_frame(frame);
          reply.insert(reply.end(), framed.begin(), framed.end());
        }
        if (handshake.current() == crypto::handshake_v2::state::established) {
          auto keys = handshake.take_keys();
          REQUIRE(keys.has_value());
          cipher.emplace(std::move(keys->client_to_server), std::move(keys->server_to_client),
                         crypto::direction::client_to_server);
        }
        continue;
      }
      auto opened = cipher->open(body);
      REQUIRE(opened.status == crypto::session_cipher_v2::open_status::ok);
      ++session_frames;
      for (auto& item : parse_server_frame(opened.plaintext)) messages.push_back(std::get<server_message>(item));
    }
    return reply;
  }

  bytes seal(const client_message& m) {
    bytes wire;
    natter::append_sealed_frame(*cipher, build(m), wire);
    return wire;
  }

  template <typename T>
  std::vector<T> take() {
    std::vector<T> out;
    for (auto& m : messages) {
      if (auto* t = std::get_if<T>(&m)) out.push_back(*t);
    }
    std::erase_if(messages, [](const server_message& m) { return std::holds_alternative<T>(m); });
    return out;
  }
};

struct sodium_ready {
  sodium_ready() {
    REQUIRE(sodium_init() >= 0);
    logger::set_level(log_level::warn);  // the core logs joins and leaves at info
  }
};

struct fixture : sodium_ready {
  std::int64_t wall = 1'700'000'000'000;  // what `ts` shows
  std::int64_t steady = 5'000;            // what rates and timeouts count
  memory_name_registry names;
  crypto::key_pair identity = crypto::key_pair::generate();
  router routes{names, [this] { return wall; }, 65536, limits::max_text, 1, 2};
  rate_book rates{1, 2};
  crypto::x25519_of_cache conversions{4};
  ban_list bans;
  connection_context context{identity, routes, rates, nullptr, &conversions,
                             connection_settings{65536, limits::max_text, 10'000, 90'000},
                             [this] { return steady; }, &bans};

  struct peer {
    explicit peer(crypto::identity_v2 id) : client(std::move(id)) {}
    std::shared_ptr<server_end> server;
    client_end client;
    input_result send(const client_message& m) { return server->core.on_bytes(client.seal(m)); }
    // Delivers what the server queued to the client.
    void pump() { CHECK(client.receive(server->drain()).empty()); }
  };

  // A connection through the handshake (not joined).
  std::unique_ptr<peer> connect(crypto::identity_v2 id = crypto::identity_v2::generate()) {
    auto p = std::make_unique<peer>(std::move(id));
    p->server = std::make_shared<server_end>(context);
    p->server->core.start(p->server);
    CHECK(p->server->core.has_handshake_output());
    const bytes message_1 = p->client.receive(p->server->drain());  // server hello in, hello + message 1 out
    REQUIRE_FALSE(message_1.empty());
    const auto result = p->server->core.on_bytes(message_1);
    CHECK(result.handshake_output);
    CHECK_FALSE(result.close);
    const bytes message_3 = p->client.receive(p->server->drain());  // message 2 in, message 3 out
    REQUIRE(p->client.cipher);
    CHECK_FALSE(p->server->core.on_bytes(message_3).close);
    CHECK(p->server->core.current() == connection_core::phase::awaiting_join);
    return p;
  }

  std::unique_ptr<peer> join(const std::string& name, crypto::identity_v2 id = crypto::identity_v2::generate()) {
    auto p = connect(std::move(id));
    const auto result = p->send(join_request{name, 1});
    CHECK(result.joined);
    p->pump();
    const auto welcome = p->client.take<welcome_event>();
    REQUIRE(welcome.size() == 1);
    CHECK(welcome[0].name == name);
    CHECK(p->server->core.current() == connection_core::phase::joined);
    return p;
  }
};

}  // namespace

TEST_CASE_FIXTURE(fixture, "join, say and whisper through the core, with real handshakes and ciphers") {
  auto alice = join("alice");
  auto bob = join("bob");
  alice->pump();
  CHECK(alice->client.take<presence_event>().at(0).name == "bob");
  CHECK(alice->server->core.who() == "alice (192.0.2.1:4242)");

  wall += 1234;
  CHECK_FALSE(alice->send(say_request{"hello bob", 7}).close);
  alice->pump();
  bob->pump();
  const auto ack = alice->client.take<ack_event>();
  REQUIRE(ack.size() == 1);
  CHECK(ack[0].ref == 7);
  CHECK(ack[0].ts_ms == wall);  // `ts` is the wall clock's
  const auto chat = bob->client.take<chat_event>();
  REQUIRE(chat.size() == 1);
  CHECK(chat[0].from == "alice");
  CHECK(chat[0].text == "hello bob");
  CHECK(chat[0].id == ack[0].id);

  steady += 2000;  // a token back
  (void)alice->send(whisper_request{"BOB", "psst", 8});
  alice->pump();
  bob->pump();
  CHECK(alice->client.take<ack_event>().at(0).ref == 8);
  const auto whisper = bob->client.take<chat_event>();
  REQUIRE(whisper.size() == 1);
  CHECK(whisper[0].whisper);
  CHECK(whisper[0].to == "bob");

  (void)alice->send(whisper_request{"carol", "anyone?", 9});
  (void)alice->send(users_request{10});
  (void)alice->send(whois_request{"bob", 11});
  alice->pump();
  const auto errors = alice->client.take<error_event>();
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].code == errc::unknown_user);
  CHECK(errors[0].ref == 9);
  const auto users = alice->client.take<users_event>();
  REQUIRE(users.size() == 1);
  CHECK(users[0].ref == 10);
  const auto whois = alice->client.take<whois_event>();
  REQUIRE(whois.size() == 1);
  CHECK(whois[0].online);
  CHECK(users[0].users.size() == 2);
}

TEST_CASE_FIXTURE(fixture, "the join check: nothing but join, ping and quit before joining") {
  auto p = connect();
  (void)p->send(say_request{"too early", 1});
  (void)p->send(whisper_request{"bob", "too early", 2});
  (void)p->send(users_request{3});
  (void)p->send(whois_request{"bob", 4});
  (void)p->send(ping_request{5});
  p->pump();
  const auto errors = p->client.take<error_event>();
  REQUIRE(errors.size() == 4);
  for (std::size_t i = 0; i < errors.size(); ++i) {
    CHECK(errors[i].code == errc::not_joined);
    CHECK(errors[i].message == "join first");
    CHECK(errors[i].ref == i + 1);
  }
  (void)p->send(ping_request{5});
  p->pump();
  CHECK(p->client.take<pong_event>().at(0).ref == 5);

  CHECK(p->send(join_request{"dana", 6}).joined);
  CHECK_FALSE(p->send(join_request{"dana", 7}).joined);
  p->pump();
  const auto again = p->client.take<error_event>();
  REQUIRE(again.size() == 1);
  CHECK(again[0].code == errc::already_joined);
}

TEST_CASE_FIXTURE(fixture, "a banned identity or address is refused at join with banned; others still join") {
  auto mallory_id = crypto::identity_v2::generate();
  const std::string fingerprint = crypto::fingerprint_v2(mallory_id.public_key());
  REQUIRE(bans.add({{ban_kind::identity, fingerprint}, "spam", 1}) == ban_result::done);
  auto mallory = connect(std::move(mallory_id));
  CHECK_FALSE(mallory->send(join_request{"mallory", 1}).joined);
  mallory->pump();
  auto refused = mallory->client.take<error_event>();
  REQUIRE(refused.size() == 1);
  CHECK(refused[0].code == errc::banned);
  CHECK(refused[0].message == "you are banned from this server: spam");
  CHECK(refused[0].ref == 1);
  CHECK(mallory->server->core.current() == connection_core::phase::awaiting_join);
  CHECK_FALSE(names.lookup("mallory"));  // a banned key claims no name

  join("alice");  // another key is unaffected
  // Every connection here comes from 192.0.2.1: an address ban refuses the next join, even of
  // a connection that was through its handshake when the ban was made.
  auto carol = connect();
  REQUIRE(bans.add({{ban_kind::address, "192.0.2.1"}, "", 2}) == ban_result::done);
  CHECK_FALSE(carol->send(join_request{"carol", 2}).joined);
  carol->pump();
  CHECK(carol->client.take<error_event>().at(0).message == "you are banned from this server");
}

TEST_CASE_FIXTURE(fixture, "rate limiting runs on the steady clock: a wall-clock step changes nothing") {
  auto alice = join("alice");
  auto bob = join("bob");
  // rate 1/s, burst 2
  (void)alice->send(say_request{"one", 1});
  (void)alice->send(say_request{"two", 2});
  (void)alice->send(say_request{"three", 3});
  alice->pump();
  CHECK(alice->client.take<ack_event>().size() == 2);
  auto errors = alice->client.take<error_event>();
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].code == errc::rate_limited);
  CHECK(errors[0].ref == 3);

  wall += 3'600'000;  // the system clock jumps an hour ahead: no tokens for that
  (void)alice->send(whisper_request{"bob", "four", 4});
  alice->pump();
  CHECK(alice->client.take<error_event>().at(0).code == errc::rate_limited);
  wall -= 7'200'000;  // or back: nothing breaks either
  (void)alice->send(say_request{"five", 5});
  alice->pump();
  CHECK(alice->client.take<error_event>().at(0).code == errc::rate_limited);

  steady += 1000;  // one second of real time: one token
  (void)alice->send(say_request{"six", 6});
  (void)alice->send(say_request{"seven", 7});
  alice->pump();
  CHECK(alice->client.take<ack_event>().at(0).ref == 6);
  CHECK(alice->client.take<error_event>().size() == 1);
  bob->pump();
  CHECK(bob->client.take<chat_event>().size() == 3);  // one, two, six
}

TEST_CASE_FIXTURE(fixture, "a bad MAC closes with protocol_error, a sealed bye, and input stops") {
  auto alice = join("alice");
  auto bob = join("bob");
  bytes wire = alice->client.seal(say_request{"forged", 1});
  wire.back() ^= 1;
  const auto result = alice->server->core.on_bytes(wire);
  REQUIRE(result.close);
  CHECK(result.close->say_bye);
  REQUIRE(result.close->bye);
  CHECK(alice->server->core.closing());
  alice->server->queue.shut(result.close->bye);  // what the session does
  alice->pump();
  const auto bye = alice->client.take<bye_event>();
  REQUIRE(bye.size() == 1);
  CHECK(bye[0].reason == "protocol_error");
  CHECK(bye[0].message == "frame failed authentication (bad MAC)");
  // The others hear why; later input is ignored.
  bob->pump();
  const auto left = bob->client.take<presence_event>();
  REQUIRE(left.size() == 1);
  CHECK_FALSE(left[0].joined);
  CHECK(left[0].reason == "protocol_error");
  CHECK_FALSE(alice->server->core.on_bytes(alice->client.seal(say_request{"ignored", 2})).close);
  CHECK(routes.online() == 1);
}

TEST_CASE_FIXTURE(fixture, "bad frames: an oversized header or a broken hello end the connection") {
  SUBCASE("frame over max_frame") {
    auto p = connect();
    bytes header;
    append_frame_header(header, 65537);
    const auto result = p->server->core.on_bytes(header);
    REQUIRE(result.close);
    REQUIRE(result.close->bye);
    CHECK(result.close->bye->find("frame length over the limit") != std::string::npos);
  }
  SUBCASE("a hello that is not one: a plaintext refusal, no bye (there is no cipher)") {
    auto server = std::make_shared<server_end>(context);
    server->core.start(server);
    (void)server->drain();
    const auto result = server->core.on_bytes(make_frame(bytes(crypto::hello_size, 0x42)));
    REQUIRE(result.close);
    CHECK(result.close->say_bye);
    CHECK_FALSE(result.close->bye);
    CHECK(server->core.has_handshake_output());  // the refusal
    frame_decoder decoder(limits::default_max_frame);
    decoder.feed(server->drain());
    bytes body;
    REQUIRE(decoder.next(body) == decode_status::frame);
    CHECK(crypto::decode_refusal(body).has_value());
  }
  SUBCASE("a frame that is not JSON is answered, not disconnected") {
    auto p = connect();
    bytes wire;
    natter::append_sealed_frame(*p->client.cipher, "{not json", wire);
    CHECK_FALSE(p->server->core.on_bytes(wire).close);
    p->pump();
    CHECK(p->client.take<error_event>().at(0).code == errc::bad_json);
  }
}

TEST_CASE_FIXTURE(fixture, "a frame split across reads, or several in one read, is handled the same") {
  auto alice = join("alice");
  bytes wire = alice->client.seal(ping_request{1});
  const bytes second = alice->client.seal(ping_request{2});
  wire.insert(wire.end(), second.begin(), second.end());
  (void)alice->server->core.on_bytes(std::span(wire).first(3));
  (void)alice->server->core.on_bytes(std::span(wire).subspan(3));
  alice->pump();
  const auto pongs = alice->client.take<pong_event>();
  REQUIRE(pongs.size() == 2);
  CHECK(pongs[1].ref == 2);
}

TEST_CASE_FIXTURE(fixture, "quit says goodbye and tells the others; an outside close builds the bye too") {
  auto alice = join("alice");
  auto bob = join("bob");
  auto carol = join("carol");
  const auto result = alice->send(quit_request{});
  REQUIRE(result.close);
  REQUIRE(result.close->bye);
  CHECK(result.close->bye->find("goodbye") != std::string::npos);
  CHECK_FALSE(alice->server->core.close(leave_reason::dropped, "", false));  // once only

  const auto kicked = bob->server->core.close(leave_reason::kicked, "by the operator", true);
  REQUIRE(kicked);
  CHECK(kicked->bye->find("kicked") != std::string::npos);
  carol->pump();
  const auto left = carol->client.take<presence_event>();
  REQUIRE(left.size() == 2);
  CHECK(left[0].reason == "quit");
  CHECK(left[1].reason == "kicked");
  CHECK(left[0].message.empty());  // a quit without a reason
  CHECK(left[1].message == "by the operator");
  CHECK(routes.online() == 1);
}

TEST_CASE_FIXTURE(fixture, "the others hear the quit's and the kick's reasons, bounded; other ends carry none") {
  auto alice = join("alice");
  auto bob = join("bob");
  auto dave = join("dave");
  auto eve = join("eve");
  auto carol = join("carol");
  (void)alice->send(quit_request{"see you tomorrow"});
  // The console's kick reason has no limit of its own: the notice cuts it at a character.
  const std::string long_reason = std::string(limits::max_reason - 1, 'x') + "Ã©" + "more";
  (void)bob->server->core.close(leave_reason::kicked, long_reason, true);
  (void)dave->server->core.close(leave_reason::kicked, "kicked by the operator", true);  // the console's default
  (void)eve->server->core.close(leave_reason::timeout, "idle timeout", true);
  carol->pump();
  const auto left = carol->client.take<presence_event>();
  REQUIRE(left.size() == 4);
  CHECK(left[0].message == "see you tomorrow");
  CHECK(left[1].message == std::string(limits::max_reason - 1, 'x'));
  CHECK(left[2].message.empty());
  CHECK(left[3].message.empty());
}

TEST_CASE_FIXTURE(fixture, "timeouts come from the steady clock: handshake, then idle") {
  auto p = connect();
  CHECK(p->server->core.deadline_ms() == 5'000 + 10'000);
  steady += 9'999;
  CHECK_FALSE(p->server->core.on_deadline());
  steady += 1;
  const auto late = p->server->core.on_deadline();
  REQUIRE(late);
  CHECK(late->bye->find("handshake timed out") != std::string::npos);

  auto q = join("quinn");
  steady += 500;
  (void)q->send(ping_request{1});
  CHECK(q->server->core.deadline_ms() == steady + 90'000);
  steady += 89'999;
  wall += 86'400'000;  // a day's clock step is no idleness
  CHECK_FALSE(q->server->core.on_deadline());
  steady += 1;
  const auto idle = q->server->core.on_deadline();
  REQUIRE(idle);
  CHECK(idle->bye->find("idle timeout") != std::string::npos);
}

TEST_CASE_FIXTURE(fixture, "presence notices wait for the deferred flush; a chat message carries them out") {
  auto alice = join("alice");
  auto bob = join("bob");
  alice->pump();
  (void)alice->client.take<presence_event>();
  CHECK_FALSE(alice->server->tick());  // the timer finds bob's notice already written
  alice->server->pushes.clear();
  auto carol = join("carol");
  auto dana = join("dana");
  // Two notices for alice: the first asks to be listed with the flush timer, the second waits too.
  CHECK(alice->server->pushes == std::vector{outcome::wait, outcome::queued});
  (void)bob->send(say_request{"news", 1});
  CHECK(alice->server->pushes.back() == outcome::write);  // the chat cannot wait, and takes them along
  CHECK_FALSE(alice->server->tick());  // nothing for the timer to do once the write is scheduled
  const std::size_t frames_before = alice->client.session_frames;
  alice->pump();
  CHECK(alice->client.session_frames == frames_before + 1);  // one batch frame: seal once, one write
  const auto& received = alice->client.messages;
  REQUIRE(received.size() == 3);
  CHECK(std::get<presence_event>(received[0]).name == "carol");
  CHECK(std::get<presence_event>(received[1]).name == "dana");
  CHECK(std::get<chat_event>(received[2]).text == "news");
}

// ---- protocol 2: what the attacks of issue 12 need to be refused ---------------------------------

TEST_CASE_FIXTURE(fixture, "a relay that drops one client frame: the next one closes the connection, naming the gap") {
  auto alice = join("alice");
  auto bob = join("bob");
  const bytes dropped = alice->client.seal(say_request{"msg two", 2});
  (void)dropped;  // sealed (counter used) but never delivered
  const auto result = alice->server->core.on_bytes(alice->client.seal(say_request{"msg three", 3}));
  REQUIRE(result.close);
  REQUIRE(result.close->bye);
  // The join was frame 1; "msg two" was frame 2 and never arrived.
  CHECK(result.close->bye->find("frame 2 missing (got frame 3)") != std::string::npos);
  bob->pump();
  CHECK(bob->client.take<chat_event>().empty());  // "msg three" was not delivered as if nothing happened
}

TEST_CASE_FIXTURE(fixture, "a replayed client frame closes the connection and is not delivered twice") {
  auto alice = join("alice");
  auto bob = join("bob");
  const bytes frame = alice->client.seal(say_request{"once", 2});
  CHECK_FALSE(alice->server->core.on_bytes(frame).close);
  const auto again = alice->server->core.on_bytes(frame);
  REQUIRE(again.close);
  CHECK(again.close->bye->find("replayed") != std::string::npos);
  bob->pump();
  CHECK(bob->client.take<chat_event>().size() == 1);
}

TEST_CASE_FIXTURE(fixture, "an authentic empty plaintext is answered bad_json; the connection stays") {
  auto p = connect();
  bytes wire;
  natter::append_sealed_frame(*p->client.cipher, "", wire);
  CHECK_FALSE(p->server->core.on_bytes(wire).close);
  (void)p->send(ping_request{9});
  p->pump();
  CHECK(p->client.take<error_event>().at(0).code == errc::bad_json);
  CHECK(p->client.take<pong_event>().at(0).ref == 9);
}

namespace {
crypto::identity_v2 same_identity_as(const crypto::identity_v2& id) {
  crypto::secret_bytes seed;
  std::copy(id.seed().data(), id.seed().data() + id.seed().size(), seed.data());
  return crypto::identity_v2::from_seed(std::move(seed));
}
}  // namespace

TEST_CASE_FIXTURE(fixture, "the rate limit is the identity's: reconnecting does not refill it, another identity has its own") {
  auto bob = join("bob");
  const auto identity = crypto::identity_v2::generate();
  {
    auto alice = join("alice", same_identity_as(identity));
    (void)alice->send(say_request{"one", 2});
    (void)alice->send(say_request{"two", 3});  // burst 2: both pass
    alice->pump();
    CHECK(alice->client.take<ack_event>().size() == 2);
    (void)alice->server->core.close(leave_reason::dropped, "", false);
  }
  auto again = join("alice", same_identity_as(identity));
  (void)again->send(say_request{"three", 2});
  again->pump();
  const auto errors = again->client.take<error_event>();
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].code == errc::rate_limited);
  (void)bob->send(say_request{"bob is not alice", 2});
  bob->pump();
  CHECK(bob->client.take<ack_event>().size() == 1);
  CHECK(conversions.hits() >= 1);  // the second handshake of the same identity was remembered
  steady += 1000;  // and the bucket refills with time, as before
  (void)again->send(say_request{"four", 3});
  again->pump();
  CHECK(again->client.take<ack_event>().size() == 1);
}

TEST_CASE_FIXTURE(fixture, "an admission refusal comes after the hello, in place of message 2, and the client shows it as unauthenticated") {
  peer p{crypto::identity_v2::generate()};
  p.server = std::make_shared<server_end>(context, std::string("server is full"));
  p.server->core.start(p.server);
  const bytes message_1 = p.client.receive(p.server->drain());
  REQUIRE_FALSE(message_1.empty());  // the hello came first, so the client sent message 1
  const auto result = p.server->core.on_bytes(message_1);
  REQUIRE(result.close);
  CHECK_FALSE(result.close->bye);  // no session keys: the refusal is the plaintext NATE
  CHECK(p.client.receive(p.server->drain()).empty());
  CHECK(p.client.handshake.current() == crypto::handshake_v2::state::failed);
  CHECK(p.client.handshake.refused_unauthenticated());
  CHECK(p.client.handshake.refusal_text() == "server is full");
  CHECK(routes.online() == 0);
}

TEST_CASE_FIXTURE(fixture, "a protocol 1 client hello gets a refusal naming protocol 2") {
  auto server = std::make_shared<server_end>(context);
  server->core.start(server);
  (void)server->drain();
  const auto v1_key = crypto::key_pair::generate();
  const auto result = server->core.on_bytes(make_frame(crypto::encode_hello(crypto::role::client, v1_key.public_key_bytes, 1)));
  REQUIRE(result.close);
  frame_decoder decoder(limits::default_max_frame);
  decoder.feed(server->drain());
  bytes body;
  REQUIRE(decoder.next(body) == decode_status::frame);
  const auto refusal = crypto::decode_refusal(body);
  REQUIRE(refusal.has_value());
  CHECK(refusal->find("upgrade natter") != std::string::npos);
}

TEST_CASE_FIXTURE(fixture, "migration: a proof of the v1 key moves its name, once; a bad proof is refused") {
  const auto v1 = crypto::key_pair::generate();
  REQUIRE(names.claim("carol", name_owner::v1(v1.public_key_bytes), 1) == claim_result::claimed_new);

  SUBCASE("without a proof the name stays the v1 key's") {
    auto p = connect();
    (void)p->send(join_request{"carol", 1});
    p->pump();
    CHECK(p->client.take<error_event>().at(0).code == errc::name_taken);
  }
  SUBCASE("a proof for another handshake, or by another key, is refused as bad_migration") {
    auto p = connect();
    std::array<std::uint8_t, 32> wrong_hash{};
    const auto proof = crypto::make_migration_proof(v1, identity.public_key_bytes, wrong_hash);
    REQUIRE(proof.has_value());
    (void)p->send(join_request{"carol", 1, crypto::to_hex(v1.public_key_bytes), crypto::to_hex(*proof)});
    (void)p->send(join_request{"carol", 2, crypto::to_hex(v1.public_key_bytes), "00"});
    p->pump();
    const auto errors = p->client.take<error_event>();
    REQUIRE(errors.size() == 2);
    CHECK(errors[0].code == errc::bad_migration);
    CHECK(errors[1].code == errc::bad_migration);
    CHECK(names.lookup("carol")->owner == name_owner::v1(v1.public_key_bytes));
  }
  SUBCASE("the right proof moves it to the identity, and nobody else can have it after") {
    const auto identity_v2 = crypto::identity_v2::generate();
    auto p = connect(same_identity_as(identity_v2));
    const auto hash = p->client.handshake.handshake_hash();
    REQUIRE(hash.has_value());
    const auto proof = crypto::make_migration_proof(v1, identity.public_key_bytes, *hash);
    REQUIRE(proof.has_value());
    CHECK(p->send(join_request{"carol", 1, crypto::to_hex(v1.public_key_bytes), crypto::to_hex(*proof)}).joined);
    CHECK(names.lookup("carol")->owner == name_owner::v2(identity_v2.public_key()));
    (void)p->server->core.close(leave_reason::quit, "", false);
    auto thief = connect();
    (void)thief->send(join_request{"carol", 1});
    thief->pump();
    CHECK(thief->client.take<error_event>().at(0).code == errc::name_taken);
  }
}

// ---- end-to-end bodies: routed on the envelope, passed on byte for byte ----------------------

TEST_CASE_FIXTURE(fixture, "an end-to-end room body goes to every other member as sent, from the sender's name") {
  auto alice = join("alice");
  auto bob = join("bob");
  auto carol = join("carol");
  const std::string body = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
  CHECK_FALSE(alice->send(e2e_request{"room", "", body, 2}).close);
  alice->pump();
  bob->pump();
  carol->pump();
  CHECK(alice->client.take<ack_event>().at(0).ref == 2);
  CHECK(alice->client.take<e2e_event>().empty());  // not echoed to the sender
  for (auto* p : {bob.get(), carol.get()}) {
    const auto got = p->client.take<e2e_event>();
    REQUIRE(got.size() == 1);
    CHECK(got[0].from == "alice");
    CHECK(got[0].kind == "room");
    CHECK(got[0].to.empty());
    CHECK(got[0].body == body);
  }
}

TEST_CASE_FIXTURE(fixture, "a direct end-to-end body reaches only its recipient, under the canonical name") {
  auto alice = join("alice");
  auto bob = join("Bob");
  auto carol = join("carol");
  (void)alice->send(e2e_request{"handshake", "BOB", "aGFuZHNoYWtl", 2});
  (void)alice->send(e2e_request{"whisper", "nobody", "d2hpc3Blcg==", 3});
  alice->pump();
  bob->pump();
  carol->pump();
  const auto got = bob->client.take<e2e_event>();
  REQUIRE(got.size() == 1);
  CHECK(got[0].kind == "handshake");
  CHECK(got[0].to == "Bob");
  CHECK(got[0].body == "aGFuZHNoYWtl");
  CHECK(carol->client.take<e2e_event>().empty());
  CHECK(alice->client.take<error_event>().at(0).code == errc::unknown_user);
}

TEST_CASE_FIXTURE(fixture, "end-to-end envelopes are checked: kind, to, base64 body") {
  auto alice = join("alice");
  (void)alice->send(e2e_request{"room", "bob", "AAAA", 2});     // a room body names nobody
  (void)alice->send(e2e_request{"whisper", "", "AAAA", 3});     // a direct one names someone
  alice->pump();
  auto errors = alice->client.take<error_event>();
  REQUIRE(errors.size() == 2);
  CHECK(errors[0].code == errc::bad_message);
  CHECK(errors[1].code == errc::bad_name);
  // The parser refuses bad kinds and bodies before the core sees them.
  for (const std::string bad : {R"({"type":"e2e","kind":"text","to":"bob","body":"AAAA","ref":4})",
                                R"({"type":"e2e","kind":"room","body":"not base64!","ref":5})",
                                R"({"type":"e2e","kind":"room","body":"AAA","ref":6})"}) {
    bytes wire;
    natter::append_sealed_frame(*alice->client.cipher, bad, wire);
    CHECK_FALSE(alice->server->core.on_bytes(wire).close);
  }
  alice->pump();
  errors = alice->client.take<error_event>();
  REQUIRE(errors.size() == 3);
  CHECK(errors[0].code == errc::bad_message);
  CHECK(errors[1].code == errc::bad_body);
  CHECK(errors[2].code == errc::bad_body);
}

TEST_CASE_FIXTURE(fixture, "end-to-end key and handshake bodies have their own budget; texts share the chat rate") {
  auto alice = join("alice");
  auto bob = join("bob");
  // chat: rate 1/s, burst 2 in this fixture. 50 handshake bodies at once are not chat.
  for (std::uint64_t i = 0; i < 50; ++i) (void)alice->send(e2e_request{"key", "bob", "AAAA", 10 + i});
  (void)alice->send(e2e_request{"whisper", "bob", "AAAA", 100});
  (void)alice->send(say_request{"plain", 101});
  (void)alice->send(e2e_request{"room", "", "AAAA", 102});  // the third chat message: over the burst
  alice->pump();
  CHECK(alice->client.take<ack_event>().size() == 52);
  const auto errors = alice->client.take<error_event>();
  REQUIRE(errors.size() == 1);
  CHECK(errors[0].code == errc::rate_limited);
  CHECK(errors[0].ref == 102);
}
