// natter-server's options (CLI11): every option, the defaults, clear refusals, and the TOML --config file.
#include <doctest/doctest.h>
#include <stdlib.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "natter/server/options.hpp"

using natter::server::parse_options;
using natter::server::parse_outcome;
using natter::server::server_options;

namespace {
parse_outcome parse(const std::vector<std::string>& args, server_options& out) { return parse_options(args, out); }
}  // namespace

TEST_CASE("presence delay and rate memory: defaults, values and refusals") {
  server_options defaults;
  REQUIRE(parse({}, defaults).what == parse_outcome::action::run);
  CHECK(defaults.presence_delay.count() == 20);
  CHECK(defaults.rate_memory == 65536);

  server_options set;
  REQUIRE(parse({"--presence-delay", "0", "--rate-memory", "1"}, set).what == parse_outcome::action::run);
  CHECK(set.presence_delay.count() == 0);
  CHECK(set.rate_memory == 1);
  REQUIRE(parse({"--presence-delay", "1000", "--rate-memory", "100000"}, set).what == parse_outcome::action::run);
  CHECK(set.presence_delay.count() == 1000);
  CHECK(set.rate_memory == 100000);

  for (const auto& bad : std::vector<std::vector<std::string>>{
           {"--presence-delay", "1001"}, {"--presence-delay", "-1"}, {"--presence-delay", "fast"},
           {"--rate-memory", "-5"}, {"--rate-memory", "lots"}, {"--rate-memory", "0"}, {"--rate-memory"}}) {
    server_options out;
    const auto outcome = parse(bad, out);
    INFO(bad[0], " ", bad.size() > 1 ? bad[1] : "(no value)");
    CHECK(outcome.what == parse_outcome::action::exit_usage);
    CHECK(outcome.message.find(bad.size() > 1 ? bad[0] : "missing value") != std::string::npos);
  }
}

TEST_CASE("CLI11 keeps every option, its default and its refusal") {
  server_options o;
  REQUIRE(parse({"--listen", "::", "--port=0", "--port-file", "/p", "--state-dir", "/s", "--threads", "3",
                 "--max-frame", "8192", "--queue-bytes", "8192", "--queue-messages", "16", "--idle-timeout", "1.5",
                 "--handshake-timeout", "2", "--max-connections", "5", "--max-per-address", "0", "--rate", "0.5",
                 "--burst", "3", "--keylog", "/k", "--no-console", "--log-level", "debug"},
                o).what == parse_outcome::action::run);
  CHECK(o.host == "::");
  CHECK(o.port == 0);
  CHECK(*o.port_file == "/p");
  CHECK(o.state_dir == "/s");
  CHECK(o.threads == 3);
  CHECK(o.max_frame == 8192);
  CHECK(o.queue_bytes == 8192);
  CHECK(o.queue_messages == 16);
  CHECK(o.idle_timeout.count() == 1500);
  CHECK(o.handshake_timeout.count() == 2000);
  CHECK(o.max_connections == 5);
  CHECK(o.max_per_address == 0);
  CHECK(o.rate == 0.5);
  CHECK(o.burst == 3);
  CHECK(*o.keylog == "/k");
  CHECK_FALSE(o.console);
  CHECK(o.level == natter::server::log_level::debug);

  server_options d;
  REQUIRE(parse({}, d).what == parse_outcome::action::run);
  CHECK(d.port == 9900);
  CHECK(d.max_frame == 65536);
  CHECK(d.console);

  for (const auto& bad : std::vector<std::vector<std::string>>{
           {"--port", "70000"}, {"--max-frame", "10"}, {"--queue-bytes", "100"}, {"--idle-timeout", "0"},
           {"--rate", "-1"}, {"--burst", "0"}, {"--log-level", "loud"}, {"--bogus"}, {"--no-console=yes"},
           {"--port"}}) {
    server_options out;
    const auto outcome = parse(bad, out);
    INFO(bad[0], " -> ", outcome.message);
    CHECK(outcome.what == parse_outcome::action::exit_usage);
    CHECK(outcome.message.find(bad[0].substr(0, bad[0].find('='))) != std::string::npos);
  }
  server_options h;
  const auto help = parse({"--bogus", "--help"}, h);
  CHECK(help.what == parse_outcome::action::exit_ok);
  CHECK(help.message.find("--presence-delay") != std::string::npos);
  CHECK(help.message.find("--config") != std::string::npos);
  CHECK(parse({"--version"}, h).message.find("protocol 2") != std::string::npos);
}

namespace {
struct config_file {
  std::string path;
  explicit config_file(const std::string& text) {
    char name[] = "/tmp/natter-server-config-XXXXXX";
    const int fd = ::mkstemp(name);
    REQUIRE(fd >= 0);
    REQUIRE(::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    ::close(fd);
    path = name;
  }
  ~config_file() { ::unlink(path.c_str()); }
};
}  // namespace

TEST_CASE("--config FILE: long option names as keys, the command line wins, errors name line and key") {
  const config_file file("port = 9901\nlisten = \"::\"\nno-console = true\nrate = 2.5\npresence-delay = 0\n");
  server_options o;
  REQUIRE(parse({"--config", file.path}, o).what == parse_outcome::action::run);
  CHECK(o.port == 9901);
  CHECK(o.host == "::");
  CHECK_FALSE(o.console);
  CHECK(o.rate == 2.5);
  CHECK(o.presence_delay.count() == 0);

  server_options wins;
  REQUIRE(parse({"--port", "1234", "--config", file.path}, wins).what == parse_outcome::action::run);
  CHECK(wins.port == 1234);
  CHECK(wins.host == "::");

  for (const auto& [text, expected] : std::vector<std::pair<std::string, std::string>>{
           {"port = 9901\nrate-memory = 0\n", ":2: rate-memory: --rate-memory: needs a positive number"},
           {"\nbogus = 1\n", ":2: bogus:"},
           {"port = [1, 2]\n", ":1: port: must be a string"},
           {"port = \n", ":1:"},
           {"config = \"/x\"\n", ":1: config: not a setting"}}) {
    const config_file bad(text);
    server_options out;
    const auto outcome = parse({"--config", bad.path}, out);
    INFO(text, " -> ", outcome.message);
    CHECK(outcome.what == parse_outcome::action::exit_usage);
    CHECK(outcome.message.find(bad.path + expected) != std::string::npos);
  }
  server_options missing;
  CHECK(parse({"--config", "/nonexistent/natter.toml"}, missing).what == parse_outcome::action::exit_usage);
}
