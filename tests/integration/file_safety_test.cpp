// The real programs refuse planted files at start-up, with the reason, and write nothing
// through them (docs/SECURITY.md "Files"). The rules themselves are unit-tested beside
// natter/secure_file.hpp; this checks that both programs go through them and stop cleanly.
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "child_process.hpp"
#include "server_process.hpp"

using namespace natter::test;

namespace {

void plant(const std::filesystem::path& path, const std::string& content, mode_t mode) {
  { std::ofstream(path, std::ios::binary) << content; }
  REQUIRE(::chmod(path.c_str(), mode) == 0);
}

std::string slurp(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

TEST_CASE("natter-server refuses a key log planted as a symlink and writes nothing through it") {
  temp_dir dir;
  const auto victim = dir.path() / "victim";
  plant(victim, "precious\n", 0600);
  const auto keylog = dir.path() / "keys.log";
  std::filesystem::create_symlink(victim, keylog);
  const auto run = run_process({server_binary(), "--port", "0", "--no-console", "--state-dir",
                                (dir.path() / "state").string(), "--keylog", keylog.string()},
                               "", {}, std::chrono::seconds(10));
  INFO(run.err);
  CHECK(run.status == 1);
  CHECK(run.err.find("key log " + keylog.string() + " is a symlink: refused") != std::string::npos);
  CHECK(slurp(victim) == "precious\n");
}

TEST_CASE("natter-server refuses a server.key others can read, naming the fix") {
  temp_dir dir;
  const auto state = dir.path() / "state";
  const auto first = run_process({server_binary(), "--fingerprint", "--state-dir", state.string()}, "");
  REQUIRE(first.status == 0);
  REQUIRE(::chmod((state / "server.key").c_str(), 0644) == 0);
  const auto again = run_process({server_binary(), "--fingerprint", "--state-dir", state.string()}, "");
  INFO(again.err);
  CHECK(again.status == 1);
  CHECK(again.err.find((state / "server.key").string() + " is readable by others (mode 0644): chmod 600") !=
        std::string::npos);
}

TEST_CASE("natter refuses an identity that is a symlink, and a key log others can read") {
  temp_dir dir;
  const auto config = dir.path() / "config";
  const std::vector<std::string> env = {"XDG_CONFIG_HOME=" + config.string()};
  const auto made = run_process({client_binary(), "--fingerprint"}, "", env);
  REQUIRE(made.status == 0);
  const auto identity = config / "natter" / "identity";

  SUBCASE("identity as a symlink") {
    std::filesystem::rename(identity, dir.path() / "real-identity");
    std::filesystem::create_symlink(dir.path() / "real-identity", identity);
    const auto run = run_process({client_binary(), "--fingerprint"}, "", env);
    INFO(run.err);
    CHECK(run.status != 0);
    CHECK(run.err.find(identity.string() + " is a symlink: refused") != std::string::npos);
  }
  SUBCASE("NATTER_KEYLOGFILE planted 0644") {
    const auto keylog = dir.path() / "keys.log";
    plant(keylog, "", 0644);
    auto with_log = env;
    with_log.push_back("NATTER_KEYLOGFILE=" + keylog.string());
    const auto run = run_process({client_binary(), "--name", "x", "127.0.0.1:1"}, "", with_log);
    INFO(run.err);
    CHECK(run.status != 0);
    CHECK(run.err.find("key log " + keylog.string() + " is readable by others (mode 0644)") != std::string::npos);
    CHECK(slurp(keylog).empty());
  }
}
