// Room messages under sender keys (e2e_sender_key): one seal per message, signatures members
// cannot forge, forward secrecy per message, and rotation that locks out a removed member.
#include <doctest/doctest.h>

#include "e2e_test_support.hpp"
#include "natter/crypto/e2e_sender_key.hpp"

using natter::test::t0;
using natter::test::to_bytes;
namespace e2e = natter::crypto::e2e;

namespace {

e2e::sender_key_sender make_sender(std::string room = "lobby") {
  auto sender = e2e::sender_key_sender::create(std::move(room));
  REQUIRE(sender.has_value());
  return std::move(*sender);
}

e2e::sender_key_receiver receiver_of(const e2e::sender_key_sender& sender) {
  auto receiver = e2e::sender_key_receiver::from_distribution(sender.distribution());
  REQUIRE(receiver.has_value());
  return std::move(*receiver);
}

// Whether any of the first `steps` message keys from `ck` opens `message` (what an attacker
// holding that chain key can try).
bool any_key_opens(const natter::crypto::secret_key& ck, std::uint32_t from, const std::vector<std::uint8_t>& message,
                   std::uint32_t steps) {
  const auto view = e2e::parse_room_message(message);
  REQUIRE(view.has_value());
  e2e::chain_key chain(e2e::copy_of(ck), from, e2e::chain_kind::sender_key);
  for (std::uint32_t i = 0; i < steps; ++i) {
    const auto mk = chain.step();
    if (e2e::open(mk->key, view->nonce, view->header_bytes, view->ciphertext)) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("e2e sender key: one sealed message opens for every member; duplicates refused") {
  auto sender = make_sender();
  auto bob = receiver_of(sender);
  auto carol = receiver_of(sender);
  const std::vector<std::uint8_t> text(200, 't');
  const auto message = sender.seal(text);
  REQUIRE(message.has_value());
  // 200 bytes of text: header 23 + nonce 24 + 256 padded + tag 16 + signature 64.
  CHECK(message->size() == 23 + 24 + 256 + 16 + 64);
  CHECK(bob.open(*message, t0).plaintext == text);
  CHECK(carol.open(*message, t0).plaintext == text);
  CHECK(bob.open(*message, t0).status == e2e::receive_status::duplicate);
}

TEST_CASE("e2e sender key: reordering within the window, gaps reported, tampering refused") {
  auto sender = make_sender();
  auto bob = receiver_of(sender);
  std::vector<std::vector<std::uint8_t>> m;
  for (int i = 0; i < 4; ++i) m.push_back(*sender.seal(to_bytes("m" + std::to_string(i))));
  CHECK(bob.open(m[2], t0).plaintext == to_bytes("m2"));
  CHECK(bob.outstanding() == std::vector<std::uint32_t>{0, 1});
  auto tampered = m[1];
  tampered[30] ^= 1;  // in the nonce: the signature no longer verifies
  CHECK(bob.open(tampered, t0).status == e2e::receive_status::bad_signature);
  CHECK(bob.open(m[1], t0).plaintext == to_bytes("m1"));
  CHECK(bob.open(m[0], t0).plaintext == to_bytes("m0"));
  CHECK(bob.open(m[3], t0).plaintext == to_bytes("m3"));
  CHECK(bob.outstanding().empty());
}

TEST_CASE("e2e sender key: a member holding the sender's chain key cannot forge a message from it") {
  auto sender = make_sender();
  auto bob = receiver_of(sender);
  // mallory is a member too: she got the same distribution, chain key and all.
  auto leaked = e2e::parse_distribution(sender.distribution());
  REQUIRE(leaked.has_value());
  e2e::chain_key chain(std::move(leaked->chain_key), leaked->iteration, e2e::chain_kind::sender_key);
  const auto mk = chain.step();
  auto forged = *e2e::write_room_header({"lobby", sender.epoch(), sender.key_id(), mk->n});
  const auto nonce = e2e::random_nonce();
  const auto sealed = *e2e::seal(mk->key, nonce, forged, to_bytes("send mallory your password"));
  forged.insert(forged.end(), nonce.begin(), nonce.end());
  forged.insert(forged.end(), sealed.begin(), sealed.end());
  // The AEAD is valid (so only the signature stands in her way); she signs with her own key.
  const auto mallory = natter::test::identity_filled(0x66);
  const auto sig = mallory.sign(forged);
  forged.insert(forged.end(), sig.begin(), sig.end());
  REQUIRE(e2e::open(mk->key, nonce, std::span(forged).first(23), sealed).has_value());

  CHECK(bob.open(forged, t0).status == e2e::receive_status::bad_signature);
  // And the real message 0 still opens: the forgery burnt nothing.
  CHECK(bob.open(*sender.seal(to_bytes("real")), t0).plaintext == to_bytes("real"));
}

TEST_CASE("e2e sender key: a state taken after message n cannot decrypt message n-1 (nor a joiner old ones)") {
  auto sender = make_sender();
  auto bob = receiver_of(sender);
  std::vector<std::vector<std::uint8_t>> m;
  for (int i = 0; i < 3; ++i) m.push_back(*sender.seal(to_bytes("old " + std::to_string(i))));
  for (const auto& message : m) REQUIRE(bob.open(message, t0).status == e2e::receive_status::ok);

  // The sender's state after message 2, as a snapshot or a joiner would get it.
  const auto snapshot = e2e::parse_distribution(sender.distribution());
  REQUIRE(snapshot.has_value());
  CHECK(snapshot->iteration == 3);
  for (const auto& message : m) CHECK_FALSE(any_key_opens(snapshot->chain_key, snapshot->iteration, message, 50));
  auto joiner = receiver_of(sender);
  for (const auto& message : m) CHECK(joiner.open(message, t0).status == e2e::receive_status::duplicate);
  // What follows, the joiner reads.
  const auto next = *sender.seal(to_bytes("new"));
  CHECK(joiner.open(next, t0).plaintext == to_bytes("new"));
  CHECK(bob.open(next, t0).plaintext == to_bytes("new"));
}

TEST_CASE("e2e sender key: after rotation the old epoch is refused and a removed member reads nothing new") {
  auto sender = make_sender();
  auto bob = receiver_of(sender);
  auto removed = receiver_of(sender);
  const auto old_key = e2e::parse_distribution(sender.distribution());
  const auto before = *sender.seal(to_bytes("before"));
  const auto straggler = *sender.seal(to_bytes("sent before the rotation, arrives after"));
  const auto third = *sender.seal(to_bytes("third"));
  REQUIRE(bob.open(before, t0).status == e2e::receive_status::ok);
  REQUIRE(bob.open(third, t0).status == e2e::receive_status::ok);
  REQUIRE(bob.outstanding() == std::vector<std::uint32_t>{1});
  REQUIRE(removed.open(before, t0).status == e2e::receive_status::ok);
  const auto old_distribution = sender.distribution();

  sender.rotate();  // the removed member is not sent the new distribution
  CHECK(sender.epoch() == 1);
  const auto new_distribution = sender.distribution();
  CHECK(bob.accept_distribution(new_distribution) == e2e::receive_status::ok);
  CHECK(bob.accept_distribution(new_distribution) == e2e::receive_status::duplicate);
  CHECK(bob.accept_distribution(old_distribution) == e2e::receive_status::old_epoch);
  CHECK(bob.take_lost() == std::vector<std::uint32_t>{1});  // the straggler will not open now

  const auto after = *sender.seal(to_bytes("after the removal"));
  CHECK(bob.open(after, t0).plaintext == to_bytes("after the removal"));
  CHECK(bob.open(straggler, t0).status == e2e::receive_status::old_epoch);
  CHECK(removed.open(after, t0).status == e2e::receive_status::unknown_epoch);
  // Nor can the removed member open it by hand with every key its old chain would give.
  CHECK_FALSE(any_key_opens(old_key->chain_key, 0, after, 100));
}

TEST_CASE("e2e sender key: a message credited to the wrong sender or room is refused") {
  auto alice = make_sender();
  auto carol = make_sender();
  auto other_room = make_sender("other");
  auto bobs_view_of_alice = receiver_of(alice);
  // The server says carol's message is alice's: another key id.
  CHECK(bobs_view_of_alice.open(*carol.seal(to_bytes("x")), t0).status == e2e::receive_status::wrong_session);
  CHECK(bobs_view_of_alice.open(*other_room.seal(to_bytes("x")), t0).status == e2e::receive_status::wrong_session);
  CHECK(bobs_view_of_alice.accept_distribution(other_room.distribution()) == e2e::receive_status::wrong_session);
  CHECK(bobs_view_of_alice.open(to_bytes("garbage"), t0).status == e2e::receive_status::bad_format);
  CHECK_FALSE(e2e::sender_key_sender::create("").has_value());
  CHECK_FALSE(e2e::sender_key_receiver::from_distribution(to_bytes("garbage")).has_value());
}
