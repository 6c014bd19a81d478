// Both programs make themselves not dumpable first thing (docs/SECURITY.md "Files"): another
// process of the *same* user may then not read their memory, environment or open files. Played
// as that attacker: the server and a probe both run as an unprivileged user (uid 65534), and the
// probe tries to open the server's /proc/PID/environ and /proc/PID/mem.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <filesystem>
#include <string>
#include <thread>

namespace {

constexpr uid_t unprivileged = 65534;  // "nobody" on Debian

// Runs `body` in a child as the unprivileged user; returns its exit status (or -1).
template <typename Body>
int as_unprivileged(Body body) {
  const pid_t child = ::fork();
  if (child == 0) {
    if (::setgid(unprivileged) != 0 || ::setuid(unprivileged) != 0) ::_exit(126);
    ::_exit(body());
  }
  int status = 0;
  if (child < 0 || ::waitpid(child, &status, 0) != child || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

// 0 if opening `path` is refused with EACCES/EPERM, 1 if it opens, 2 on any other error.
int refused(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd >= 0) {
    ::close(fd);
    return 1;
  }
  return (errno == EACCES || errno == EPERM) ? 0 : 2;
}

}  // namespace

TEST_CASE("natter-server is not dumpable: a process of its own user cannot read its memory or environment") {
  if (::geteuid() != 0) {
    FAIL("needs root, to run the server and the probe as another user (CI runs as root)");
    return;
  }
  const auto dir = std::filesystem::temp_directory_path() / ("natter-dumpable-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir / "state");
  REQUIRE(::chown(dir.c_str(), unprivileged, unprivileged) == 0);
  REQUIRE(::chown((dir / "state").c_str(), unprivileged, unprivileged) == 0);
  REQUIRE(::chmod((dir / "state").c_str(), 0700) == 0);
  const std::string state = (dir / "state").string();

  const pid_t server = ::fork();
  REQUIRE(server >= 0);
  if (server == 0) {
    if (::setgid(unprivileged) != 0 || ::setuid(unprivileged) != 0) ::_exit(126);
    const int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0), ::dup2(null, 1), ::dup2(null, 2);
    ::execl(NATTER_SERVER_BIN, "natter-server", "--port", "0", "--state-dir", state.c_str(), "--no-console",
            static_cast<char*>(nullptr));
    ::_exit(127);
  }
  // The server key is written after the prctl() call: once it exists, the server is protected.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!std::filesystem::exists(dir / "state" / "server.key") && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  CHECK(std::filesystem::exists(dir / "state" / "server.key"));

  const std::string proc = "/proc/" + std::to_string(server);
  CHECK(as_unprivileged([&] { return refused(proc + "/environ"); }) == 0);
  CHECK(as_unprivileged([&] { return refused(proc + "/mem"); }) == 0);
  // The control: another program of the same user that does not protect itself (sleep, exec'ed
  // the same way: exec makes a process dumpable again) is open to the same probe, so the refusals
  // above are the server's own doing.
  const pid_t plain = ::fork();
  REQUIRE(plain >= 0);
  if (plain == 0) {
    if (::setgid(unprivileged) != 0 || ::setuid(unprivileged) != 0) ::_exit(126);
    ::execl("/bin/sleep", "sleep", "10", static_cast<char*>(nullptr));
    ::_exit(127);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // let it exec
  CHECK(as_unprivileged([&] { return refused("/proc/" + std::to_string(plain) + "/environ"); }) == 1);
  ::kill(plain, SIGKILL);
  ::waitpid(plain, nullptr, 0);

  ::kill(server, SIGTERM);
  int status = 0;
  ::waitpid(server, &status, 0);
  std::filesystem::remove_all(dir);
}
