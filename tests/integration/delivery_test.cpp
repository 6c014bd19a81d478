// Nothing is lost: concurrent senders and concurrent readers through a real server (2 I/O
// threads, --rate 0). Every reader must see every message exactly once, in each sender's order.
// And a client that is cut off is told why before the connection ends.
#include <doctest/doctest.h>

#include <atomic>
#include <map>
#include <thread>

#include "server_process.hpp"
#include "test_peer.hpp"

using namespace natter;
using namespace natter::test;

namespace {

constexpr int sender_count = 4;
constexpr int reader_count = 4;
constexpr int messages_per_sender = 2000;
constexpr int window = 50;  // messages a sender has in flight before it waits for their acks

// What one connection saw: per sender, the next sequence number it expects, and every fault.
struct tally {
  std::map<std::string, int> next_seq;
  int received = 0;
  int faults = 0;  // duplicates, gaps or reordering
  std::string first_fault;

  // Texts are "<seq> <padding>", senders named s0..s3.
  void see(const chat_event& c) {
    const int seq = std::stoi(c.text);
    int& expected = next_seq[c.from];
    if (seq != expected) {
      if (faults++ == 0) first_fault = c.from + ": got " + std::to_string(seq) + ", expected " + std::to_string(expected);
    }
    expected = seq + 1;
    ++received;
  }
};

}  // namespace

TEST_CASE("4 senders x 2000 messages reach 4 concurrent readers exactly once and in order") {
  server_process server({"--rate", "0"});
  std::vector<std::unique_ptr<test_peer>> senders, readers;
  for (int i = 0; i < reader_count; ++i) {
    readers.push_back(std::make_unique<test_peer>(server.port()));
    REQUIRE(readers.back()->join("r" + std::to_string(i)));
  }
  for (int i = 0; i < sender_count; ++i) {
    senders.push_back(std::make_unique<test_peer>(server.port()));
    REQUIRE(senders.back()->join("s" + std::to_string(i)));
  }

  std::vector<tally> reader_tallies(reader_count), sender_tallies(sender_count);
  std::atomic<int> sender_failures{0};
  std::vector<std::jthread> threads;  // joined on any exit, a failed REQUIRE included
  const std::string padding(60, '.');
  for (int r = 0; r < reader_count; ++r) {
    threads.emplace_back([&, r] {
      constexpr int expected = sender_count * messages_per_sender;
      while (reader_tallies[r].received < expected) {
        const auto m = readers[r]->next(20s);  // generous for sanitizer builds; bounded anyway
        if (!m) break;
        if (const auto* c = std::get_if<chat_event>(&*m)) reader_tallies[r].see(*c);
      }
    });
  }
  // Senders read too (the others' messages and their acks), or their own queues would fill.
  for (int s = 0; s < sender_count; ++s) {
    threads.emplace_back([&, s] {
      test_peer& me = *senders[s];
      for (int base = 0; base < messages_per_sender; base += window) {
        for (int k = 0; k < window; ++k) {
          me.send(say_request{std::to_string(base + k) + " " + padding, std::uint64_t(base + k + 1)});
        }
        for (int acks = 0; acks < window;) {
          const auto m = me.next(20s);
          if (!m) {
            ++sender_failures;
            return;
          }
          if (std::holds_alternative<ack_event>(*m)) ++acks;
          else if (const auto* c = std::get_if<chat_event>(&*m)) sender_tallies[s].see(*c);
          else if (std::holds_alternative<error_event>(*m)) ++sender_failures;
        }
      }
      // Then the rest of the other senders' messages.
      while (sender_tallies[s].received < (sender_count - 1) * messages_per_sender) {
        const auto m = me.next(20s);
        if (!m) break;
        if (const auto* c = std::get_if<chat_event>(&*m)) sender_tallies[s].see(*c);
      }
    });
  }
  for (auto& t : threads) t.join();

  INFO(server.log().substr(0, 4000));
  CHECK(sender_failures == 0);
  for (int r = 0; r < reader_count; ++r) {
    CAPTURE(r);
    CHECK(reader_tallies[r].faults == 0);
    CHECK(reader_tallies[r].first_fault == "");
    CHECK(reader_tallies[r].received == sender_count * messages_per_sender);
    for (int s = 0; s < sender_count; ++s) CHECK(reader_tallies[r].next_seq["s" + std::to_string(s)] == messages_per_sender);
  }
  for (int s = 0; s < sender_count; ++s) {
    CAPTURE(s);
    CHECK(sender_tallies[s].faults == 0);
    CHECK(sender_tallies[s].received == (sender_count - 1) * messages_per_sender);
    CHECK(sender_tallies[s].next_seq.count("s" + std::to_string(s)) == 0);  // no echo of one's own
  }
}

TEST_CASE("a reader cut off for being too slow got a gap-free prefix and is told why") {
  server_process server({"--rate", "0", "--queue-bytes", "65536"});
  test_peer slow(server.port()), sender(server.port());
  // The slow reader keeps a normal receive buffer: with a tiny one, TCP's window would open so
  // slowly that even a reader that wakes up could not drain the backlog in time.
  REQUIRE(slow.join("slow"));
  REQUIRE(sender.join("sender"));
  const std::string padding(4000, 'x');
  // Send until the server reports the slow reader gone (it never reads meanwhile).
  bool cut = false;
  int sent = 0;
  for (int round = 0; round < 200 && !cut; ++round) {
    for (int k = 0; k < 20; ++k, ++sent) sender.send(say_request{std::to_string(sent) + " " + padding, std::uint64_t(sent + 1)});
    for (int acks = 0; acks < 20;) {
      const auto m = sender.next(10s);
      REQUIRE(m);
      if (std::holds_alternative<ack_event>(*m)) ++acks;
      if (const auto* p = std::get_if<presence_event>(&*m); p && p->name == "slow" && !p->joined) {
        CHECK(p->reason == "too_slow");
        cut = true;
      }
    }
  }
  REQUIRE(cut);
  const auto cut_seen = std::chrono::steady_clock::now();
  // Now read at full speed: the server gives the goodbye 2 s (its linger) to get through the
  // backlog in the socket buffers, then resets the connection.
  tally seen;
  std::optional<bye_event> bye;
  while (!bye) {
    const auto m = slow.next(5s);
    if (!m) break;
    if (const auto* c = std::get_if<chat_event>(&*m)) seen.see(*c);
    if (const auto* b = std::get_if<bye_event>(&*m)) bye = *b;
  }
  INFO("after ", std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - cut_seen).count(), " ms: received ", seen.received, " of ", sent, "; closed ", slow.closed(), "; error ", slow.error());
  INFO(server.log());
  REQUIRE(bye);
  CHECK(bye->reason == "too_slow");
  CHECK_FALSE(bye->message.empty());
  CHECK(seen.faults == 0);
  CHECK(seen.received > 0);
  CHECK(seen.received < sent);
  CHECK(slow.wait_closed());
}
