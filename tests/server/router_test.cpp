// The router without sockets: participants are fakes that record what they are given.
#include <doctest/doctest.h>

#include <sodium.h>

#include <map>
#include <mutex>
#include <thread>

#include "natter/crypto/fingerprint_v2.hpp"
#include "natter/message_parse.hpp"
#include "natter/server/batch_sealer.hpp"
#include "natter/server/router.hpp"

using namespace natter;
using namespace natter::server;

namespace {

struct recording_participant : participant {
  std::vector<std::string> received;
  std::vector<leave_reason> disconnects;
  std::vector<std::string> held;  // what came through deliver_soon(), in order
  void deliver(shared_message message) override { received.push_back(*message); }
  void deliver_soon(shared_message message) override {
    held.push_back(*message);
    received.push_back(*message);
  }
  void disconnect(leave_reason reason, std::string) override { disconnects.push_back(reason); }

  // The parsed messages received so far.
  std::vector<server_message> messages() const {
    std::vector<server_message> out;
    for (const auto& text : received) {
      for (auto& item : parse_server_frame(text)) out.push_back(std::get<server_message>(item));
    }
    return out;
  }
  template <typename T>
  std::vector<T> of_type() const {
    std::vector<T> out;
    for (auto& m : messages()) {
      if (auto* t = std::get_if<T>(&m)) out.push_back(*t);
    }
    return out;
  }
};

crypto::ed25519_public_key random_key() {
  return crypto::identity_v2::generate().public_key();
}

struct fixture {
  fixture() { REQUIRE(sodium_init() >= 0); }
  memory_name_registry names;
  std::int64_t now = 1'700'000'000'000;
  router routes{names, [this] { return now; }, 65536, 4096};

  std::shared_ptr<recording_participant> join(const std::string& name, crypto::ed25519_public_key key = random_key()) {
    auto p = std::make_shared<recording_participant>();
    auto result = routes.join(p, name, key, "127.0.0.1:1", 1);
    REQUIRE(std::holds_alternative<joined>(result));
    for (const auto& m : std::get<joined>(result).welcome_messages) p->deliver(m);
    return p;
  }
};

}  // namespace

TEST_CASE_FIXTURE(fixture, "join welcomes with the user list and tells the others") {
  auto alice = join("alice");
  const auto key = random_key();
  auto bob = join("Bob", key);
  const auto welcomes = bob->of_type<welcome_event>();
  REQUIRE(welcomes.size() == 1);
  CHECK(welcomes[0].name == "Bob");
  CHECK(welcomes[0].user_count == 2);
  REQUIRE(welcomes[0].users.size() == 2);
  CHECK(welcomes[0].users[0].name == "alice");
  const auto presence = alice->of_type<presence_event>();
  REQUIRE(presence.size() == 1);
  CHECK(presence[0].joined);
  CHECK(presence[0].name == "Bob");
  CHECK(presence[0].fingerprint == crypto::fingerprint_v2(key));
  CHECK(bob->of_type<presence_event>().empty());  // no notice about oneself
}

TEST_CASE_FIXTURE(fixture, "say reaches everyone but the sender, stamped by the server") {
  auto alice = join("alice");
  auto bob = join("bob");
  auto carol = join("carol");
  now += 5;
  const auto result = routes.say("alice", alice.get(), "hi all", 42);
  REQUIRE(std::holds_alternative<ack_event>(result));
  const auto ack = std::get<ack_event>(result);
  CHECK(ack.ref == 42);
  CHECK(ack.ts_ms == now);
  for (auto* p : {bob.get(), carol.get()}) {
    const auto chats = p->of_type<chat_event>();
    REQUIRE(chats.size() == 1);
    CHECK(chats[0].from == "alice");
    CHECK(chats[0].id == ack.id);
    CHECK(chats[0].ts_ms == now);
  }
  CHECK(alice->of_type<chat_event>().empty());
  // Ids strictly increase.
  const auto second = std::get<ack_event>(routes.say("bob", bob.get(), "again", 43));
  CHECK(second.id > ack.id);
}

TEST_CASE_FIXTURE(fixture, "a broadcast is serialised once and shared by all recipients") {
  struct pointer_participant : participant {
    const std::string* last = nullptr;
    void deliver(shared_message m) override { keep = m; last = m.get(); }
    void disconnect(leave_reason, std::string) override {}
    shared_message keep;
  };
  auto a = std::make_shared<pointer_participant>();
  auto b = std::make_shared<pointer_participant>();
  auto sender = std::make_shared<pointer_participant>();
  REQUIRE(std::holds_alternative<joined>(routes.join(a, "a", random_key(), "x", {})));
  REQUIRE(std::holds_alternative<joined>(routes.join(b, "b", random_key(), "x", {})));
  REQUIRE(std::holds_alternative<joined>(routes.join(sender, "s", random_key(), "x", {})));
  (void)routes.say("s", sender.get(), "one copy", {});
  CHECK(a->last == b->last);
}

TEST_CASE_FIXTURE(fixture, "whisper reaches exactly its target, case-insensitively") {
  auto alice = join("alice");
  auto bob = join("Bob");
  auto carol = join("carol");
  const auto result = routes.whisper("alice", "BOB", "psst", 3);
  REQUIRE(std::holds_alternative<ack_event>(result));
  const auto chats = bob->of_type<chat_event>();
  REQUIRE(chats.size() == 1);
  CHECK(chats[0].whisper);
  CHECK(chats[0].to == "Bob");
  CHECK(carol->of_type<chat_event>().empty());
  CHECK(alice->of_type<chat_event>().empty());

  const auto missing = routes.whisper("alice", "nobody", "psst", 4);
  REQUIRE(std::holds_alternative<message_error>(missing));
  CHECK(std::get<message_error>(missing).code == "unknown_user");
  CHECK(std::get<message_error>(missing).ref == 4u);
}

TEST_CASE_FIXTURE(fixture, "an action (/me) stays an action, broadcast or whispered") {
  auto alice = join("alice");
  auto bob = join("bob");
  REQUIRE(std::holds_alternative<ack_event>(routes.say("alice", alice.get(), "waves", 1, true)));
  REQUIRE(std::holds_alternative<ack_event>(routes.whisper("alice", "bob", "nods", 2, true)));
  REQUIRE(std::holds_alternative<ack_event>(routes.say("alice", alice.get(), "plain", 3)));
  const auto chats = bob->of_type<chat_event>();
  REQUIRE(chats.size() == 3);
  CHECK(chats[0].action);
  CHECK(chats[1].action);
  CHECK(chats[1].whisper);
  CHECK_FALSE(chats[2].action);
}

TEST_CASE_FIXTURE(fixture, "away: shown by whois, users and a whisper's ack; back clears it; a new connection is here") {
  auto alice = join("alice");
  auto bob = join("bob");
  routes.set_away("BOB", bob.get(), "lunch");
  routes.set_away("bob", alice.get(), "not bob's session");  // only bob's own connection
  const auto whois = std::get<whois_event>(routes.whois("bob", 1));
  CHECK(whois.away == "lunch");
  const auto ack = std::get<ack_event>(routes.whisper("alice", "bob", "there?", 2));
  CHECK(ack.away == "lunch");
  CHECK(bob->of_type<chat_event>().size() == 1);  // delivered all the same
  const auto list = parse_server_frame(*routes.users(3).at(0));
  const auto& users = std::get<users_event>(std::get<server_message>(list.at(0))).users;
  REQUIRE(users.size() == 2);
  CHECK(users[0].away.empty());
  CHECK(users[1].away == "lunch");
  CHECK(std::get<ack_event>(routes.say("alice", alice.get(), "all", 4)).away.empty());
  routes.set_away("bob", bob.get(), "");
  CHECK(std::get<whois_event>(routes.whois("bob", 5)).away.empty());
  CHECK(std::get<ack_event>(routes.whisper("alice", "bob", "back?", 6)).away.empty());
}

TEST_CASE_FIXTURE(fixture, "names: online twice refused, pinned to the first key") {
  const auto key = random_key();
  auto first = join("alice", key);
  auto other = std::make_shared<recording_participant>();
  auto result = routes.join(other, "ALICE", key, "x", 9);
  REQUIRE(std::holds_alternative<message_error>(result));
  CHECK(std::get<message_error>(result).code == "name_in_use");

  routes.leave("alice", first.get(), leave_reason::quit);
  result = routes.join(other, "alice", random_key(), "x", 9);
  REQUIRE(std::holds_alternative<message_error>(result));
  CHECK(std::get<message_error>(result).code == "name_taken");
  CHECK(std::get<message_error>(result).ref == 9u);

  result = routes.join(other, "alice", key, "x", 9);  // the owner comes back
  CHECK(std::holds_alternative<joined>(result));
}

TEST_CASE_FIXTURE(fixture, "leave tells the others why, and a stale session cannot remove a newer one") {
  auto alice = join("alice");
  const auto key = random_key();
  auto bob = join("bob", key);
  routes.leave("bob", bob.get(), leave_reason::too_slow);
  const auto presence = alice->of_type<presence_event>();
  REQUIRE(presence.size() == 2);
  CHECK_FALSE(presence[1].joined);
  CHECK(presence[1].reason == "too_slow");

  auto bob_again = join("bob", key);
  routes.leave("bob", bob.get(), leave_reason::dropped);  // the old session, late
  CHECK(routes.online() == 2);
}

TEST_CASE_FIXTURE(fixture, "users lists come in chunks that always fit a frame") {
  std::vector<std::shared_ptr<recording_participant>> crowd;
  for (int i = 0; i < 600; ++i) crowd.push_back(join("user" + std::to_string(i)));
  const auto chunks = routes.users(7);
  REQUIRE(chunks.size() == 3);
  std::size_t listed = 0;
  for (std::size_t i = 0; i < chunks.size(); ++i) {
    CHECK(chunks[i]->size() < 65536 - 40);
    auto parsed = parse_server_frame(*chunks[i]);
    const auto& users = std::get<users_event>(std::get<server_message>(parsed[0]));
    CHECK(users.more == (i + 1 < chunks.size()));
    CHECK(users.ref == 7u);
    listed += users.users.size();
  }
  CHECK(listed == 600);
  // The last joiner's welcome holds a first page and the full count.
  const auto welcome = crowd.back()->of_type<welcome_event>();
  REQUIRE(welcome.size() == 1);
  CHECK(welcome[0].user_count == 600);
  CHECK(welcome[0].users.size() == 256);
}

TEST_CASE_FIXTURE(fixture, "whois works for online and offline registered users") {
  const auto key = random_key();
  auto alice = join("alice", key);
  auto answer = routes.whois("ALICE", 1);
  REQUIRE(std::holds_alternative<whois_event>(answer));
  CHECK(std::get<whois_event>(answer).fingerprint == crypto::fingerprint_v2(key));
  CHECK(std::get<whois_event>(answer).online);
  routes.leave("alice", alice.get(), leave_reason::quit);
  answer = routes.whois("alice", 1);
  REQUIRE(std::holds_alternative<whois_event>(answer));
  CHECK_FALSE(std::get<whois_event>(answer).online);
  CHECK(std::holds_alternative<message_error>(routes.whois("ghost", 2)));
}

TEST_CASE_FIXTURE(fixture, "kick and disconnect_all ask participants to leave") {
  auto alice = join("alice");
  auto bob = join("bob");
  CHECK(routes.kick("ALICE", "spam"));
  CHECK_FALSE(routes.kick("nobody", "x"));
  REQUIRE(alice->disconnects.size() == 1);
  CHECK(alice->disconnects[0] == leave_reason::kicked);
  routes.disconnect_all(leave_reason::server_stopping, "bye");
  CHECK(bob->disconnects.back() == leave_reason::server_stopping);
}

TEST_CASE_FIXTURE(fixture, "presence notices may wait, chat and answers may not") {
  auto alice = join("alice");
  auto bob = join("bob");
  CHECK(alice->held.size() == 1);  // bob's join
  CHECK(alice->held[0].find("\"type\":\"presence\"") != std::string::npos);
  CHECK(bob->held.empty());        // bob's own welcome came through deliver()

  REQUIRE(std::holds_alternative<ack_event>(routes.say("bob", bob.get(), "hi", 2)));
  REQUIRE(std::holds_alternative<ack_event>(routes.whisper("bob", "alice", "psst", 3)));
  CHECK(alice->held.size() == 1);  // neither the broadcast nor the whisper was held
  CHECK(alice->of_type<chat_event>().size() == 2);

  routes.leave("bob", bob.get(), leave_reason::quit);
  REQUIRE(alice->held.size() == 2);
  CHECK(alice->held[1].find("\"event\":\"left\"") != std::string::npos);
}

TEST_CASE_FIXTURE(fixture, "a welcome listing 256 users of the longest names, with keys, fits one frame") {
  for (int i = 0; i < 300; ++i) {
    std::string name = std::to_string(i);
    name.insert(0, limits::max_name - name.size(), 'n');  // 32 characters
    (void)join(name);
  }
  auto last = join(std::string(limits::max_name, 'z'));
  REQUIRE(last->received.size() == 1);
  const std::string& welcome = last->received[0];
  CHECK(welcome.size() <= max_outgoing_plaintext);
  const auto parsed = last->of_type<welcome_event>();
  REQUIRE(parsed.size() == 1);
  CHECK(parsed[0].users.size() == limits::max_users_per_message);
  CHECK(parsed[0].users[0].key.size() == 64);
}

namespace {
// A participant other threads may deliver to while its own join is still returning.
struct locked_participant : participant {
  std::mutex mutex;
  std::vector<std::string> received;
  void deliver(shared_message message) override {
    std::lock_guard lock(mutex);
    received.push_back(*message);
  }
  void deliver_soon(shared_message message) override { deliver(std::move(message)); }
  void disconnect(leave_reason, std::string) override {}
};
}  // namespace

TEST_CASE("router: racing joins and leaves tell each member of every other exactly once") {
  REQUIRE(sodium_init() >= 0);
  memory_name_registry names;
  router routes{names, [] { return std::int64_t{1'700'000'000'000}; }, 65536, 4096};
  constexpr int threads = 8, per_thread = 25;  // 200 members, well under one welcome page
  std::vector<std::shared_ptr<locked_participant>> people(threads * per_thread);
  for (auto& p : people) p = std::make_shared<locked_participant>();
  std::vector<crypto::ed25519_public_key> keys;
  for (std::size_t i = 0; i < people.size(); ++i) keys.push_back(random_key());
  // Everyone also has a short-lived neighbour who joins and leaves while the others join: each
  // member must hear of a neighbour's leave exactly when it heard of the join.
  std::vector<std::shared_ptr<locked_participant>> transient(threads);
  for (auto& p : transient) p = std::make_shared<locked_participant>();
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      for (int i = 0; i < per_thread; ++i) {
        const std::size_t n = static_cast<std::size_t>(t * per_thread + i);
        auto result = routes.join(people[n], "u" + std::to_string(n), keys[n], "127.0.0.1:1", 1);
        if (auto* ok = std::get_if<joined>(&result)) {
          for (const auto& m : ok->welcome_messages) people[n]->deliver(m);
        }
        if (i == per_thread / 2) {
          const std::string name = "t" + std::to_string(t);
          auto r = routes.join(transient[static_cast<std::size_t>(t)], name, random_key(), "127.0.0.1:1", 1);
          if (std::holds_alternative<joined>(r)) routes.leave(name, transient[static_cast<std::size_t>(t)].get(), leave_reason::quit, {});
        }
      }
    });
  }
  for (auto& w : workers) w.join();
  REQUIRE(routes.online() == people.size());

  std::size_t problems = 0;
  for (std::size_t n = 0; n < people.size(); ++n) {
    std::map<std::string, int> heard;  // name -> times listed or announced as joined
    std::map<std::string, int> left;
    for (const auto& text : people[n]->received) {
      for (auto& item : parse_server_frame(text)) {
        const auto& m = std::get<server_message>(item);
        if (const auto* w = std::get_if<welcome_event>(&m)) {
          for (const auto& u : w->users) ++heard[u.name];
        } else if (const auto* p = std::get_if<presence_event>(&m)) {
          (p->joined ? heard : left)[p->name] += 1;
        }
      }
    }
    for (std::size_t other = 0; other < people.size(); ++other) {
      // The welcome lists the joiner itself; every other member exactly once.
      if (heard["u" + std::to_string(other)] != 1) ++problems;
    }
    for (int t = 0; t < threads; ++t) {
      const std::string name = "t" + std::to_string(t);
      // Heard of the neighbour's join (listed or announced) exactly when told of its leave.
      if (heard[name] != left[name] || heard[name] > 1) ++problems;
    }
  }
  CHECK(problems == 0);
}
