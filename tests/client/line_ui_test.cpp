#include "natter/client/line_ui.hpp"

#include <doctest/doctest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace nc = natter::client;

namespace {

constexpr const char* server = "127.0.0.1:9900";
constexpr const char* server_fp = "1503-4d48-517a-f22f-20be-1cca-c826-e9a9";
const std::string server_key_hex(64, '5');  // the key that fingerprint stands for here
constexpr std::int64_t noon_ms = 1764000000000;

// Records what the UI asks of the session instead of sending it.
struct fake_link : nc::session_link {
  std::vector<natter::client_message> sent;
  std::vector<natter::client::room_route> routes;
  std::vector<bool> trust_answers;
  std::vector<std::string> quits;
  std::size_t unacked = 0;
  std::size_t refusals = 0;

  void submit(natter::client_message message, natter::client::room_route route) override {
    sent.push_back(std::move(message));
    routes.push_back(route);
  }
  void answer_trust(bool trusted) override { trust_answers.push_back(trusted); }
  void quit_when_acknowledged(std::string reason) override { quits.push_back(std::move(reason)); }
  [[nodiscard]] std::size_t unacknowledged() const override { return unacked; }
  [[nodiscard]] std::size_t refused() const override { return refusals; }

  [[nodiscard]] std::vector<std::string> said() const {
    std::vector<std::string> out;
    for (const auto& m : sent) {
      if (const auto* say = std::get_if<natter::say_request>(&m)) out.push_back(say->text);
      if (const auto* w = std::get_if<natter::whisper_request>(&m)) out.push_back(w->to + ":" + w->text);
    }
    return out;
  }
};

// One line UI with string streams for stdout and stderr, a fake link and a fake clock.
struct harness {
  explicit harness(bool interactive, std::filesystem::path verified = {}) {
    settings.interactive = interactive;
    settings.own_fingerprint = "aaaa-bbbb";
    settings.verified_path = std::move(verified);
    ui.emplace(settings, server, "alice", link, out, err, [this] { return now_ms; });
  }

  // Feeds a whole input, as stdin_reader would hand it over line by line.
  void type(const std::string& input) {
    std::istringstream lines(input);
    for (std::string line; std::getline(lines, line);) ui->on_line(line);
  }
  void join() {
    ui->on_event(nc::established_event{"00", server_fp, server_key_hex, nc::pin_state::pinned});
    natter::welcome_event w;
    w.name = "alice";
    w.users = {{"alice", "aaaa", 0}};
    w.user_count = 1;
    w.max_text = 4096;
    ui->on_event(natter::server_message{w});
  }

  nc::line_ui_settings settings;
  fake_link link;
  std::ostringstream out;
  std::ostringstream err;
  std::int64_t now_ms = 1000;
  std::optional<nc::line_ui> ui;
};

std::filesystem::path fresh_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("natter-line-ui-" + name + "-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  return dir;
}

}  // namespace

TEST_CASE("line ui: a script's lines are sent after the join, and it quits at the end of input") {
  harness h(false);
  h.type("hello\n/w bob psst\n");
  CHECK(h.link.sent.empty());  // not joined yet
  h.join();
  CHECK(h.out.str() == "* joined as alice; online (1): alice\n");
  CHECK(h.link.said() == std::vector<std::string>{"hello", "bob:psst"});
  CHECK(h.ui->take_finished_lines() == 2);
  h.ui->on_input_end();
  h.ui->on_tick();
  CHECK(h.link.quits == std::vector<std::string>{""});
  CHECK_FALSE(h.ui->wants_input());
  CHECK_FALSE(h.ui->finished());
  h.ui->on_event(nc::closed_event{"bye", true, true});
  CHECK(h.ui->finished());
  CHECK(h.ui->exit_code() == 0);
  CHECK(h.err.str().empty());  // a script's stderr stays quiet when all is well
}

TEST_CASE("line ui: conversation goes to stdout; errors, notices and hints to stderr") {
  harness h(true);
  h.join();
  CHECK(h.err.str() == "* type /help for commands, /quit to leave\n");
  h.err.str("");
  h.out.str("");
  h.ui->on_event(natter::server_message{natter::chat_event{1, noon_ms, "bob", "", "hi", false}});
  h.ui->on_event(natter::server_message{natter::chat_event{2, noon_ms, "bob", "alice", "psst", true}});
  CHECK(h.out.str().find("<bob> hi\n") != std::string::npos);
  CHECK(h.out.str().find("*bob* (whisper) psst\n") != std::string::npos);
  h.ui->on_event(natter::server_message{natter::error_event{"unknown_user", "there is no user called x", {}}});
  h.ui->on_event(nc::notice_event{"pinned the key"});
  // The whisper to us rang the bell (on stderr, the terminal).
  CHECK(h.err.str() == "\a! error unknown_user: there is no user called x\n* pinned the key\n");
  h.type("/fingerprint\n");
  CHECK(h.out.str().find("* your fingerprint: aaaa-bbbb\n") != std::string::npos);
  // As on the full screen: the server's key and its pin state too.
  CHECK(h.out.str().find(std::string("* server 127.0.0.1:9900: ") + server_fp + " (pinned)\n") != std::string::npos);
}

TEST_CASE("line ui: the trust question is asked on stderr and answered by the next line") {
  harness h(true);
  h.ui->on_event(nc::trust_request_event{server, server_fp});
  CHECK(h.err.str().ends_with("Trust this server? [y/N] "));
  CHECK(h.err.str().find(server_fp) != std::string::npos);
  CHECK(h.out.str().empty());
  h.type("yes\n");
  CHECK(h.link.trust_answers == std::vector<bool>{true});
  CHECK(h.ui->take_finished_lines() == 1);
}

TEST_CASE("line ui: /verify marks the server key in the verified file after y") {
  const auto dir = fresh_dir("verify");
  const auto path = dir / "verified";
  harness h(true, path);
  h.join();
  h.type("/verify\n");
  CHECK(h.out.str().find(std::string("* server 127.0.0.1:9900 key fingerprint: ") + server_fp) != std::string::npos);
  CHECK(h.err.str().ends_with("Mark the server's key as verified? [y/N] "));
  SUBCASE("y") {
    h.type("y\n");
    CHECK(h.out.str().ends_with("* the key of 127.0.0.1:9900 is now marked verified ✓\n"));
    std::ifstream file(path);
    std::stringstream content;
    content << file.rdbuf();
    CHECK(content.str().find("server 127.0.0.1:9900 " + server_key_hex + "\n") != std::string::npos);  // the key, not its fingerprint
    // A second session reads it back: already verified, nothing to ask.
    harness again(true, path);
    again.join();
    again.type("/verify\n");
    CHECK(again.out.str().ends_with("* already marked verified ✓\n"));
  }
  SUBCASE("n") {
    h.type("n\n");
    CHECK(h.out.str().ends_with("* not marked verified\n"));
    CHECK_FALSE(std::filesystem::exists(path));
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("line ui: a bad line fails a script but not a person") {
  harness script(false);
  script.join();
  script.type("/nope\n");
  CHECK(script.err.str().find("! unknown command /nope") != std::string::npos);
  CHECK(script.link.sent.empty());
  CHECK(script.ui->exit_code() == 1);

  harness person(true);
  person.join();
  person.type("/nope\n");
  CHECK(person.ui->exit_code() == 0);
}

TEST_CASE("line ui: exit codes for a lost connection, a changed key and refused lines") {
  SUBCASE("lost") {
    harness h(true);
    h.join();
    h.ui->on_event(nc::failure_event{nc::failure_kind::runtime, "connection lost: eof"});
    h.ui->on_event(nc::closed_event{"eof", false, false});
    CHECK(h.err.str().ends_with("natter: connection lost: eof\n"));
    CHECK(h.ui->finished());
    CHECK(h.ui->exit_code() == 1);
  }
  SUBCASE("changed key") {
    harness h(false);
    h.ui->on_event(nc::failure_event{nc::failure_kind::key_mismatch, "the key changed"});
    h.ui->on_event(nc::closed_event{"refused", false, false});
    CHECK(h.ui->exit_code() == 3);
  }
  SUBCASE("refused by the session") {
    harness h(false);
    h.join();
    h.link.refusals = 1;
    CHECK(h.ui->exit_code() == 1);
  }
}

TEST_CASE("line ui: Ctrl-D ends a person's session with a quit") {
  harness h(true);
  h.join();
  h.err.str("");
  h.ui->on_input_end();
  CHECK(h.err.str() == "\n");  // the cursor leaves the prompt line
  CHECK(h.link.quits == std::vector<std::string>{""});
  CHECK_FALSE(h.ui->wants_input());
}

TEST_CASE("line ui: a piped file is paced by the injected clock") {
  harness h(false);
  h.join();
  natter::welcome_event w;  // a second welcome is not sent by servers; here it only sets the rate
  w.name = "alice";
  w.rate = 10;
  w.burst = 2;  // burst 1 at 9/s
  h.ui->on_event(natter::server_message{w});
  h.type("a\nb\nc\n");
  CHECK(h.link.said() == std::vector<std::string>{"a"});
  h.now_ms += 112;
  h.ui->on_tick();
  CHECK(h.link.said() == std::vector<std::string>{"a", "b"});
  h.now_ms += 112;
  h.ui->on_tick();
  CHECK(h.link.said() == std::vector<std::string>{"a", "b", "c"});
}

TEST_CASE("line ui: a whisper to a person rings the bell on stderr, never in a script's stdout") {
  for (const bool interactive : {true, false}) {
    harness h(interactive);
    h.join();
    h.err.str("");
    h.ui->on_event(natter::server_message{natter::chat_event{1, noon_ms, "bob", "alice", "psst", true}});
    CHECK(h.out.str().find('\a') == std::string::npos);
    CHECK((h.err.str() == "\a") == interactive);
  }
}
