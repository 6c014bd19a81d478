#pragma once
// Starts natter-server for one scenario: ephemeral port (--port 0 --port-file), no rate or
// per-address limits, room for many connections, a fresh temporary state directory, its log in
// that directory. The file-descriptor limit the bench raised is inherited. Stopped with SIGTERM
// (then SIGKILL) when destroyed.
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace natter::bench {

struct launch_settings {
  std::string binary;
  int threads = 0;                 // 0: the server's default
  std::optional<int> cpu;          // pin the server to this core
  std::vector<std::string> extra;  // more server arguments
};

class server_launcher {
 public:
  // Throws std::runtime_error if the server does not start or announce its port within 10 s.
  explicit server_launcher(const launch_settings& settings);
  ~server_launcher();
  server_launcher(const server_launcher&) = delete;
  server_launcher& operator=(const server_launcher&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] pid_t pid() const { return pid_; }
  [[nodiscard]] std::string log_tail(std::size_t bytes = 2000) const;
  void stop();

 private:
  std::filesystem::path dir_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace natter::bench
