#pragma once
// Starts a real natter-server on 127.0.0.1 with an ephemeral port and a private state directory,
// and stops it (SIGTERM) when the test is done. The server's log is kept for assertions.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace natter::test {

// A fresh directory under the system temp dir, removed on destruction.
class temp_dir {
 public:
  temp_dir();
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

class server_process {
 public:
  // `state_dir` empty: a private one. Extra arguments are passed through (e.g. {"--rate","0"}).
  explicit server_process(std::vector<std::string> extra_args = {}, std::filesystem::path state_dir = {});
  ~server_process();
  server_process(const server_process&) = delete;
  server_process& operator=(const server_process&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] const std::filesystem::path& state_dir() const { return state_dir_; }
  [[nodiscard]] std::string log() const;
  [[nodiscard]] bool running();
  // Polls the log until it contains `text` (true) or the timeout passes (false).
  bool wait_for_log(const std::string& text, std::chrono::milliseconds timeout = std::chrono::seconds(5));

  // SIGTERM and wait; returns the exit status (or -signal). Idempotent.
  int stop(std::chrono::milliseconds timeout = std::chrono::seconds(10));
  [[nodiscard]] pid_t pid() const { return pid_; }

 private:
  temp_dir scratch_;
  std::filesystem::path state_dir_;
  std::filesystem::path log_path_;
  pid_t pid_ = -1;
  std::uint16_t port_ = 0;
  int exit_status_ = 0;
};

// Path of a binary built by this project (set by CMake).
std::string server_binary();
std::string client_binary();

}  // namespace natter::test
