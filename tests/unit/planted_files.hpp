#pragma once
// What another local user might leave at a path we are about to open: helpers for the key file
// and key log tests (docs/SECURITY.md "Files").
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <future>
#include <sstream>
#include <string>

namespace natter::test {

// The uid of "nobody" on Debian: a user that is not us, for foreign-owned files.
inline constexpr uid_t nobody_uid = 65534;

// chown needs root; the suite runs as root in CI. Otherwise the caller skips with a message.
inline bool can_chown() { return ::geteuid() == 0; }

inline void write_file(const std::filesystem::path& path, const std::string& content, unsigned mode) {
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    REQUIRE(out.good());
    out << content;
  }
  REQUIRE(::chmod(path.c_str(), static_cast<mode_t>(mode)) == 0);
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void make_fifo(const std::filesystem::path& path) { REQUIRE(::mkfifo(path.c_str(), 0600) == 0); }

// Runs `attempt` (which opens `fifo` and is expected to throw) on its own thread and returns the
// error text, or "accepted". Code that opens a FIFO without O_NONBLOCK blocks until the other
// end appears: that is a failure too, after which the other end is opened and closed once so the
// blocked open returns and the thread can finish.
template <typename Attempt>
std::string error_from_fifo(const std::filesystem::path& fifo, Attempt attempt) {
  auto result = std::async(std::launch::async, [&]() -> std::string {
    try {
      attempt();
    } catch (const std::exception& e) {
      return e.what();
    }
    return "accepted";
  });
  int reader = -1;
  if (result.wait_for(std::chrono::seconds(3)) != std::future_status::ready) {
    FAIL_CHECK("blocked opening the FIFO " << fifo);
    // A reader, kept open until the attempt is done, releases a blocked writer (and spares it a
    // SIGPIPE); a writer opened and closed at once releases a blocked reader with end of file.
    reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);
    const int writer = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    if (writer >= 0) ::close(writer);
  }
  std::string outcome = result.get();
  if (reader >= 0) ::close(reader);
  return outcome;
}

}  // namespace natter::test
