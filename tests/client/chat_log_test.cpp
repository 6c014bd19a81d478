// Chat logs on disk (chat_log.hpp): file names, modes, a new file each day, refusals of what
// another user could have planted, and what the conversation hands over (never fingerprints;
// our own lines once acknowledged).
#include "natter/client/chat_log.hpp"

#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "natter/client/conversation.hpp"

namespace nc = natter::client;

namespace {

struct scratch {
  std::filesystem::path dir;
  scratch() {
    std::string d = (std::filesystem::temp_directory_path() / "natter-chatlog-XXXXXX").string();
    REQUIRE(::mkdtemp(d.data()));
    dir = d;
  }
  ~scratch() { std::filesystem::remove_all(dir); }
};

std::string read(const std::filesystem::path& file) {
  std::ifstream in(file);
  std::stringstream all;
  all << in.rdbuf();
  return all.str();
}

unsigned mode_of(const std::filesystem::path& p) {
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

// 2026-12-01 23:59:58 UTC.
constexpr std::int64_t late_ms = 1796169598000;

}  // namespace

TEST_CASE("directory names keep a host name inside the log directory") {
  CHECK(nc::log_directory_name("chat.example.org", 9900) == "chat.example.org_9900");
  CHECK(nc::log_directory_name("::1", 9901) == "__1_9901");
  CHECK(nc::log_directory_name("../../etc", 1) == ".._.._etc_1");
  CHECK(nc::log_directory_name("a/b", 1) == "a_b_1");
}

TEST_CASE("one file per server and day, 0600 in 0700 directories, appended, with dates") {
  scratch s;
  std::int64_t now = late_ms;
  const auto logs = s.dir / "logs";
  nc::chat_log log(logs, "chat.example.org", 9900, [&now] { return now; }, true);
  const auto day1 = logs / "chat.example.org_9900" / "2026-12-01.log";
  CHECK(log.file_for(now) == day1);
  REQUIRE_FALSE(log.write("<bob> hi"));
  now += 1000;
  REQUIRE_FALSE(log.write("* carol left (quit)\nforged line"));
  CHECK(read(day1) == "2026-12-01 23:59:58 <bob> hi\n2026-12-01 23:59:59 * carol left (quit)\xef\xbf\xbd" "forged line\n");
  CHECK(mode_of(day1) == 0600);
  CHECK(mode_of(logs) == 0700);
  CHECK(mode_of(logs / "chat.example.org_9900") == 0700);

  // Midnight: the next line opens the next day's file.
  now += 2000;
  REQUIRE_FALSE(log.write("<bob> good morning"));
  const auto day2 = logs / "chat.example.org_9900" / "2026-12-02.log";
  CHECK(read(day2) == "2026-12-02 00:00:01 <bob> good morning\n");
  CHECK(mode_of(day2) == 0600);

  // A second run appends to the day's file.
  nc::chat_log again(logs, "chat.example.org", 9900, [&now] { return now; }, true);
  REQUIRE_FALSE(again.write("<bob> still here"));
  CHECK(read(day2).find("good morning\n2026-12-02 00:00:01 <bob> still here\n") != std::string::npos);
}

TEST_CASE("a planted symlink, a readable file or an open directory is refused") {
  scratch s;
  const std::int64_t now = late_ms;
  const auto server_dir = s.dir / "127.0.0.1_9900";
  std::filesystem::create_directories(server_dir);
  ::chmod(server_dir.c_str(), 0700);
  const auto target = s.dir / "victim";
  std::ofstream(target) << "precious\n";
  ::chmod(target.c_str(), 0600);
  std::filesystem::create_symlink(target, server_dir / "2026-12-01.log");

  nc::chat_log log(s.dir, "127.0.0.1", 9900, [now] { return now; }, true);
  const auto error = log.write("<bob> secret");
  REQUIRE(error);
  CHECK(error->find("2026-12-01.log") != std::string::npos);
  CHECK(read(target) == "precious\n");

  std::filesystem::remove(server_dir / "2026-12-01.log");
  std::ofstream(server_dir / "2026-12-01.log") << "";
  ::chmod((server_dir / "2026-12-01.log").c_str(), 0644);
  CHECK(log.write("<bob> secret"));

  std::filesystem::remove(server_dir / "2026-12-01.log");
  ::chmod(server_dir.c_str(), 0777);
  CHECK(log.write("<bob> secret"));
  CHECK_FALSE(std::filesystem::exists(server_dir / "2026-12-01.log"));
}

TEST_CASE("the conversation logs messages, whispers and presence, never fingerprints") {
  std::vector<std::string> logged;
  nc::conversation_config config;
  config.server = "127.0.0.1:9900";
  config.own_name = "alice";
  config.utc = true;
  config.log = [&logged](std::string_view line) -> std::optional<std::string> {
    logged.emplace_back(line);
    return std::nullopt;
  };
  nc::conversation c(config, {});
  natter::welcome_event welcome;
  welcome.name = "alice";
  c.on_event(natter::server_message{welcome});
  (void)c.take_lines();
  natter::presence_event joined;
  joined.joined = true;
  joined.name = "bob";
  joined.fingerprint = "2:1111-2222-3333-4444-5555-6666-7777-8888-9999-aaaa";
  c.on_event(natter::server_message{joined});
  c.on_event(natter::server_message{natter::chat_event{1, late_ms, "bob", "", "hello\x1b[2J", false}});
  c.on_event(natter::server_message{natter::chat_event{2, late_ms, "bob", "alice", "psst", true}});
  c.on_line("hi bob", late_ms);
  c.on_line("/w bob back", late_ms);
  c.on_line("refused line", late_ms);
  c.on_line("/users", late_ms);
  (void)c.take_actions();  // handed to the session, in order
  // Our own lines are logged when the server acknowledges them; a refused one never is.
  CHECK(logged.size() == 3);
  c.on_event(natter::server_message{natter::ack_event{1, 10, late_ms}});
  c.on_event(natter::server_message{natter::ack_event{2, 11, late_ms}});
  c.on_event(natter::server_message{natter::error_event{"rate_limited", "slow down", 3}});
  natter::presence_event left;
  left.name = "bob";
  left.reason = "quit";
  c.on_event(natter::server_message{left});

  CHECK(logged == std::vector<std::string>{"* bob joined", "<bob> hello\xef\xbf\xbd[2J", "*bob* (whisper) psst", "<alice> hi bob",
                                           "-> *bob* back", "* bob left (quit)"});
  for (const auto& line : logged) CHECK(line.find("1111") == std::string::npos);
}

TEST_CASE("a log that fails is reported once and then left alone") {
  int calls = 0;
  nc::conversation_config config;
  config.own_name = "alice";
  config.log = [&calls](std::string_view) -> std::optional<std::string> {
    ++calls;
    return "chat log /x is a symlink: refused";
  };
  nc::conversation c(config, {});
  c.on_event(natter::server_message{natter::welcome_event{}});
  (void)c.take_lines();
  c.on_event(natter::server_message{natter::chat_event{1, late_ms, "bob", "", "one", false}});
  c.on_event(natter::server_message{natter::chat_event{2, late_ms, "bob", "", "two", false}});
  CHECK(calls == 1);
  std::size_t errors = 0;
  for (const auto& line : c.take_lines()) {
    if (line.kind == nc::shown_kind::error) ++errors;
  }
  CHECK(errors == 1);
}
