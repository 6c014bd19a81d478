// Batch assembly and sealing: queued messages become as few sealed frames as fit, and a client's
// cipher opens each to the message itself or a batch array.
#include <doctest/doctest.h>
#include <sodium.h>

#include <algorithm>

#include "natter/message_parse.hpp"
#include "natter/server/batch_sealer.hpp"

using namespace natter;
using namespace natter::server;

namespace {

crypto::secret_key random_key() {
  crypto::secret_key key;
  randombytes_buf(key.data(), key.size());
  return key;
}

crypto::secret_key copy_of(const crypto::secret_key& key) {
  crypto::secret_key out;
  std::copy(key.data(), key.data() + key.size(), out.data());
  return out;
}

struct cipher_pair {
  cipher_pair() {
    REQUIRE(sodium_init() >= 0);
    const auto c2s = random_key();
    const auto s2c = random_key();
    server.emplace(copy_of(s2c), copy_of(c2s), crypto::direction::server_to_client);
    client.emplace(copy_of(c2s), copy_of(s2c), crypto::direction::client_to_server);
  }
  std::optional<crypto::session_cipher_v2> server;
  std::optional<crypto::session_cipher_v2> client;

  // The plaintexts of the frames in `wire`.
  std::vector<std::string> open_all(const bytes& wire) {
    frame_decoder decoder(limits::default_max_frame);
    decoder.feed(wire);
    std::vector<std::string> out;
    bytes body;
    while (decoder.next(body) == decode_status::frame) {
      auto opened = client->open(body);
      REQUIRE(opened.status == crypto::session_cipher_v2::open_status::ok);
      // Padded: the body says the plaintext's size only to a 128-byte bucket.
      CHECK(body.size() == crypto::session_cipher_v2::sealed_size(opened.plaintext.size()));
      out.push_back(opened.plaintext);
    }
    CHECK(decoder.buffered() == 0);
    return out;
  }
};

#define CHECK_OK(sealing) CHECK((sealing) == crypto::session_cipher_v2::seal_status::ok)

shared_message text(std::string s) { return std::make_shared<const std::string>(std::move(s)); }

std::vector<shared_message> pings(std::size_t n) {
  std::vector<shared_message> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(text(R"({"type":"pong","ref":)" + std::to_string(i) + "}"));
  return out;
}

}  // namespace

TEST_CASE("a lone message is sealed as is; several become one batch array") {
  cipher_pair c;
  bytes wire;
  CHECK_OK(seal_batch(*c.server, std::vector{text(R"({"type":"pong"})")}, wire));
  CHECK(c.open_all(wire) == std::vector<std::string>{R"({"type":"pong"})"});

  wire.clear();
  const auto batch = pings(3);
  CHECK_OK(seal_batch(*c.server, batch, wire));
  const auto frames = c.open_all(wire);
  REQUIRE(frames.size() == 1);
  CHECK(frames[0] == "[" + *batch[0] + "," + *batch[1] + "," + *batch[2] + "]");
  const auto parsed = parse_server_frame(frames[0]);
  REQUIRE(parsed.size() == 3);
  CHECK(std::holds_alternative<server_message>(parsed[2]));
}

TEST_CASE("a batch frame holds at most max_batch messages") {
  cipher_pair c;
  bytes wire;
  CHECK_OK(seal_batch(*c.server, pings(limits::max_batch + 1), wire));
  const auto frames = c.open_all(wire);
  REQUIRE(frames.size() == 2);
  CHECK(parse_server_frame(frames[0]).size() == limits::max_batch);
  CHECK(frames[1] == R"({"type":"pong","ref":256})");
  CHECK(c.server->frames_sent() == 2);
}

TEST_CASE("frames stay within the default max frame, whatever the messages' sizes") {
  cipher_pair c;
  std::vector<shared_message> batch;
  for (int i = 0; i < 40; ++i) batch.push_back(text(R"({"type":"chat","text":")" + std::string(4000, 'x') + "\"}"));
  bytes wire;
  CHECK_OK(seal_batch(*c.server, batch, wire));
  const auto frames = c.open_all(wire);
  CHECK(frames.size() >= 3);
  std::size_t messages = 0;
  for (const auto& f : frames) {
    CHECK(f.size() <= max_outgoing_plaintext);
    messages += f.front() == '[' ? static_cast<std::size_t>(std::count(f.begin(), f.end(), '{')) : 1;
  }
  CHECK(messages == batch.size());
}

TEST_CASE("one shared message sealed for two recipients: the same text under two keys, appended") {
  cipher_pair a;
  cipher_pair b;
  const auto message = text(R"({"type":"chat","text":"fan-out"})");
  const std::vector batch{message};
  bytes to_a = {1, 2, 3};  // sealing appends to what the buffer holds
  bytes to_b;
  CHECK_OK(seal_batch(*a.server, batch, to_a));
  CHECK_OK(seal_batch(*b.server, batch, to_b));
  CHECK(to_a[0] == 1);
  CHECK(a.open_all(bytes(to_a.begin() + 3, to_a.end())) == std::vector{*message});
  CHECK(b.open_all(to_b) == std::vector{*message});
  CHECK(message.use_count() == 2);  // nobody kept or copied the message object
}

TEST_CASE("an exhausted cipher seals nothing more: the frames before it stay, no unsealed byte is left") {
  REQUIRE(sodium_init() >= 0);
  const auto c2s = random_key();
  const auto s2c = random_key();
  const auto max = crypto::session_cipher_v2::max_counter;
  // Two frames left before the counter runs out.
  auto server = crypto::session_cipher_v2::resume(copy_of(s2c), copy_of(c2s), crypto::direction::server_to_client,
                                                  max - 2, 0);
  auto client = crypto::session_cipher_v2::resume(copy_of(c2s), copy_of(s2c), crypto::direction::client_to_server,
                                                  0, max - 2);
  std::vector<shared_message> batch;
  for (int i = 0; i < 3; ++i) batch.push_back(text(R"({"type":"chat","text":")" + std::string(60000, 'a' + i) + "\"}"));
  bytes wire;
  CHECK(seal_batch(server, batch, wire) == crypto::session_cipher_v2::seal_status::exhausted);
  frame_decoder decoder(limits::default_max_frame);
  decoder.feed(wire);
  bytes body;
  int opened = 0;
  while (decoder.next(body) == decode_status::frame) {
    CHECK(client.open(body).status == crypto::session_cipher_v2::open_status::ok);
    ++opened;
  }
  CHECK(opened == 2);
  CHECK(decoder.buffered() == 0);  // nothing half-written, nothing in clear
  CHECK(server.exhausted());
}
