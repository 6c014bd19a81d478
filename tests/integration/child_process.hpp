#pragma once
// Runs a program (the real `natter` client) with chosen stdin, environment and timeout, and
// captures what it prints. Used by the CLI tests.
#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

namespace natter::test {

struct process_result {
  int status = -1;  // exit code, or -signal, or -1000 on timeout
  std::string out;
  std::string err;
};

// Runs to completion, feeding `input` on stdin (then EOF). Killed after `timeout`.
process_result run_process(const std::vector<std::string>& args, const std::string& input,
                           const std::vector<std::string>& env = {},
                           std::chrono::milliseconds timeout = std::chrono::seconds(15));

// A program running in the background, stdin from /dev/null, output into files.
class background_process {
 public:
  background_process(const std::vector<std::string>& args, const std::vector<std::string>& env,
                     const std::filesystem::path& dir, const std::string& tag);
  ~background_process();
  background_process(const background_process&) = delete;
  background_process& operator=(const background_process&) = delete;

  [[nodiscard]] std::string out() const;
  [[nodiscard]] std::string err() const;
  // Polls stdout until it contains `text`.
  bool wait_for_output(const std::string& text, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // Waits for the process to exit by itself; returns its status or -1000 on timeout.
  int wait(std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // SIGTERM, then wait.
  int stop();

 private:
  pid_t pid_ = -1;
  int status_ = -1000;
  std::filesystem::path out_path_, err_path_;
};

}  // namespace natter::test
