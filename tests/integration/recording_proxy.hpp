#pragma once
// A loopback TCP relay that records every byte in each direction: the test's wiretap. It accepts
// one connection at a time on 127.0.0.1 (ephemeral port) and forwards it to the target port.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace natter::test {

class recording_proxy {
 public:
  explicit recording_proxy(std::uint16_t target_port);
  ~recording_proxy();
  recording_proxy(const recording_proxy&) = delete;
  recording_proxy& operator=(const recording_proxy&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  // Everything seen so far, client->server and server->client, as byte strings.
  [[nodiscard]] std::string to_server() const;
  [[nodiscard]] std::string to_client() const;

 private:
  void run();
  void relay(int client, int server);

  std::uint16_t target_port_;
  std::uint16_t port_ = 0;
  int listener_ = -1;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stopping_{false};
  mutable std::mutex mutex_;
  std::string to_server_, to_client_;
  std::thread thread_;
};

}  // namespace natter::test
