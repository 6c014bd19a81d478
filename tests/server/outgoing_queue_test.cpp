// The outgoing queue's decisions: when a write must be scheduled, when a message may wait for the
// deferred flush, when a client is too slow, and that the goodbye passes the limits.
#include <doctest/doctest.h>

#include "natter/server/outgoing_queue.hpp"

using namespace natter::server;
using outcome = outgoing_queue::push_outcome;

namespace {
shared_message text(std::string s) { return std::make_shared<const std::string>(std::move(s)); }
}  // namespace

TEST_CASE("the first push schedules the one write; later ones ride along") {
  outgoing_queue queue({100, 1000});
  CHECK(queue.push(text("a"), false) == outcome::write);
  CHECK(queue.push(text("b"), false) == outcome::queued);
  CHECK_FALSE(queue.schedule_write());  // already scheduled
  std::vector<shared_message> batch;
  REQUIRE(queue.take(batch, false));
  REQUIRE(batch.size() == 2);
  CHECK(*batch[0] == "a");
  CHECK(*batch[1] == "b");
  batch.clear();
  CHECK_FALSE(queue.take(batch, false));  // drained: the writer goes idle
  CHECK(queue.push(text("c"), false) == outcome::write);
}

TEST_CASE("a writer with handshake bytes of its own stays scheduled") {
  outgoing_queue queue({100, 1000});
  CHECK(queue.schedule_write());
  std::vector<shared_message> batch;
  CHECK(queue.take(batch, true));
  CHECK(batch.empty());
  CHECK(queue.push(text("a"), false) == outcome::queued);
}

TEST_CASE("messages that may wait are held for the deferred flush, up to a batch's worth") {
  outgoing_queue queue({1000, 100000});
  CHECK(queue.push(text("p1"), true) == outcome::wait);  // list me with the flush timer, once
  for (std::size_t i = 2; i < outgoing_queue::deferred_flush_count; ++i) {
    CHECK(queue.push(text("p"), true) == outcome::queued);
  }
  // The 64th fills a batch: it leaves now.
  CHECK(queue.push(text("p64"), true) == outcome::write);
  CHECK_FALSE(queue.flush_deferred());  // the timer finds a write already scheduled
}

TEST_CASE("the deferred flush writes held messages; an urgent one carries them out first") {
  SUBCASE("timer") {
    outgoing_queue queue({100, 1000});
    CHECK(queue.push(text("presence"), true) == outcome::wait);
    CHECK(queue.flush_deferred());
    CHECK_FALSE(queue.flush_deferred());
  }
  SUBCASE("urgent message") {
    outgoing_queue queue({100, 1000});
    CHECK(queue.push(text("presence"), true) == outcome::wait);
    CHECK(queue.push(text("chat"), false) == outcome::write);
    std::vector<shared_message> batch;
    REQUIRE(queue.take(batch, false));
    REQUIRE(batch.size() == 2);
    CHECK(*batch[0] == "presence");  // order kept
    CHECK_FALSE(queue.flush_deferred());
  }
  SUBCASE("nothing left") {
    outgoing_queue queue({100, 1000});
    CHECK_FALSE(queue.flush_deferred());
  }
}

TEST_CASE("a client that does not read is cut off at the message or byte limit, then refused") {
  SUBCASE("messages") {
    outgoing_queue queue({2, 1000});
    CHECK(queue.push(text("a"), false) == outcome::write);
    CHECK(queue.push(text("b"), false) == outcome::queued);
    CHECK(queue.push(text("c"), false) == outcome::overflow);
    CHECK(queue.push(text("d"), false) == outcome::refused);
  }
  SUBCASE("bytes") {
    outgoing_queue queue({100, 5});
    CHECK(queue.push(text("abc"), false) == outcome::write);
    CHECK(queue.push(text("def"), false) == outcome::overflow);
  }
}

TEST_CASE("shut() refuses new messages but queues the goodbye past the limits") {
  outgoing_queue queue({1, 3});
  CHECK(queue.push(text("abc"), false) == outcome::write);
  queue.shut(text("a goodbye longer than the limit"));
  CHECK(queue.push(text("x"), false) == outcome::refused);
  CHECK_FALSE(queue.flush_deferred());
  std::vector<shared_message> batch;
  REQUIRE(queue.take(batch, false));
  REQUIRE(batch.size() == 2);
  CHECK(*batch[1] == "a goodbye longer than the limit");
  queue.shut(nullptr);
  queue.clear();
  batch.clear();
  CHECK_FALSE(queue.take(batch, false));
}
