#pragma once
// A malicious server for tests: a loopback relay between real `natter` clients and a real
// `natter-server` that holds the server's hop keys (its --keylog, PROTOCOL.md §9). That is
// exactly the power a hostile server has over everything above the hop: it opens every frame
// the server sends, lets the test's `attack` rewrite the messages (tamper a body, relabel
// `from`, replay, drop, reorder, substitute a directory key, add a ghost), and seals the result
// for the client with its own strictly consecutive counters (session_cipher_v2, the library's
// own code). What the clients send is passed through byte for byte, and opened on the side for
// the test to inspect (`sent_by`).
//
// Finding a connection's keys: the connection id is the client's ephemeral key, bytes 8..39 of
// frame 1 (PROTOCOL.md §2.7); the server writes `NATTER_V2_SESSION <id> <k_c2s> <k_s2c>` when it
// splits, before it answers the join, and the relay polls the log for that line (bounded).
//
// Nonces: re-sealing under the server's k_s2c with the relay's own counters repeats nonces the
// server already used under that key, for other plaintexts. That is acceptable only here: the
// key is a throwaway hop key of a test server that is logged to a file anyway, and every
// plaintext involved is the test's own. Never do this with a key that protects anything.
//
// Failure contract: a frame that does not open, a key that never appears in the log, or JSON
// that does not parse closes that connection and is recorded in problems(); the test checks
// that list is empty, so a broken relay cannot pass for a detected attack.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

namespace natter::test {

class keyed_relay {
 public:
  using messages = std::vector<nlohmann::json>;
  // One server frame's messages for client `to` (its name from its welcome; empty before it).
  // Returns the frames to send in their place, in order; an empty frame is not sent. Called
  // with a lock held, one frame at a time across all connections, so attacks may keep state.
  using attack = std::function<std::vector<messages>(const std::string& to, messages frame)>;

  keyed_relay(std::uint16_t server_port, std::filesystem::path server_keylog);
  ~keyed_relay();
  keyed_relay(const keyed_relay&) = delete;
  keyed_relay& operator=(const keyed_relay&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  // Replaces the attack (the default passes every frame through unchanged). Once it returns the
  // old attack is not running and will not run again. The relay calls the attack until it is
  // destroyed, so whatever the attack refers to must outlive the relay.
  void set_attack(attack a);

  // Every message client `name` has sent so far, opened as the server would.
  [[nodiscard]] messages sent_by(const std::string& name) const;
  // Server frames opened and sealed again for a client: proof the relay was in the path.
  [[nodiscard]] std::size_t frames_resealed() const;
  [[nodiscard]] std::vector<std::string> problems() const;

 private:
  struct connection;
  void accept_loop();
  void serve(int client, int server);
  void record_problem(std::string what);

  std::uint16_t server_port_;
  std::filesystem::path keylog_;
  std::uint16_t port_ = 0;
  int listener_ = -1;
  int wake_[2] = {-1, -1};
  mutable std::mutex mutex_;  // guards everything below
  attack attack_;
  std::map<std::string, messages> sent_;
  std::size_t resealed_ = 0;
  std::vector<std::string> problems_;
  std::vector<std::thread> connections_;
  std::thread acceptor_;
  std::mutex attack_mutex_;  // one attack call at a time
};

// Helpers for attacks on e2e events (docs/E2E.md §12).
bool is_e2e(const nlohmann::json& m, const std::string& kind, const std::string& from);
// The body with one byte flipped, in the middle: inside the ciphertext of a pairwise body and of
// a room message alike (both have a short header before and a tag or signature after).
std::string flip_middle_byte(const std::string& base64_body);

}  // namespace natter::test
