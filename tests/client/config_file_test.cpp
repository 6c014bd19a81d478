// The settings file (config_file.hpp): every key read, the command line winning, and refusals
// that name the file, the line and the key.
#include "natter/client/config_file.hpp"

#include <doctest/doctest.h>
#include <stdlib.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace nc = natter::client;

namespace {

nc::environment home_env() {
  nc::environment env;
  env.home = "/home/u";
  return env;
}

nc::config_outcome parse(const std::string& text) { return nc::parse_config(text, "/c/config.toml", home_env()); }

nc::client_options options_from(std::vector<std::string_view> args) {
  const auto parsed = nc::parse_options(args, home_env());
  REQUIRE(parsed.what == nc::parse_result::action::run);
  return parsed.options;
}

struct scratch {
  std::filesystem::path dir;
  scratch() {
    std::string d = (std::filesystem::temp_directory_path() / "natter-config-XXXXXX").string();
    REQUIRE(::mkdtemp(d.data()));
    dir = d;
  }
  ~scratch() { std::filesystem::remove_all(dir); }
};

}  // namespace

TEST_CASE("an empty file is the defaults") {
  const auto r = parse("");
  REQUIRE(r.config);
  CHECK_FALSE(r.config->name);
  CHECK_FALSE(r.config->server);
  CHECK(r.config->colours.enabled);
  CHECK(r.config->colours.own == 2);
  CHECK(r.config->colours.whisper == 5);
  CHECK(r.config->clock_format == "%H:%M");
  CHECK(r.config->bell_on_mention);
  CHECK(r.config->bell_on_whisper);
  CHECK_FALSE(r.config->logging);
}

TEST_CASE("every key is read") {
  const auto r = parse(R"(
name = "alice"
server = "chat.example.org:9901"
timestamp_format = "%H:%M:%S"

[servers."Chat.Example.org:9900"]
name = "alice_work"

[servers."[::1]"]
name = "local"

[colours]
enabled = false
own = "bright-cyan"
whisper = "default"

[notifications]
bell_on_mention = false
bell_on_whisper = true

[logging]
enabled = true
dir = "~/chatlogs"
)");
  INFO(r.error);
  REQUIRE(r.config);
  const auto& c = *r.config;
  CHECK(*c.name == "alice");
  CHECK(c.server->host == "chat.example.org");
  CHECK(c.server->port == 9901);
  CHECK(c.clock_format == "%H:%M:%S");
  // Keys are spelled as known_hosts spells servers, so "Chat.Example.org:9900" matches.
  REQUIRE(c.servers.contains("chat.example.org:9900"));
  CHECK(*c.servers.at("chat.example.org:9900").name == "alice_work");
  CHECK(*c.servers.at("[::1]:9900").name == "local");
  CHECK_FALSE(c.colours.enabled);
  CHECK(c.colours.own == 14);
  CHECK(c.colours.whisper == -1);
  CHECK_FALSE(c.bell_on_mention);
  CHECK(c.bell_on_whisper);
  CHECK(c.logging);
  CHECK(*c.log_dir == "/home/u/chatlogs");
}

TEST_CASE("errors name the file, the line and the key") {
  struct bad_case {
    std::string text;
    std::string expected;
  };
  for (const auto& [text, expected] : std::vector<bad_case>{
           {"name = \"alice\"\nname = \"bob\"\n", "/c/config.toml:2:"},                          // TOML itself
           {"name = \"bad name\"", "/c/config.toml:1: name: \"bad name\" is not a valid name"},
           {"\n[notifications]\nbell_on_mention = \"yes\"", "/c/config.toml:3: notifications.bell_on_mention: must be true or false"},
           {"[notifications]\nbell_on_mentions = true", "/c/config.toml:2: notifications.bell_on_mentions: unknown key"},
           {"nick = \"alice\"", "/c/config.toml:1: nick: unknown key"},
           {"server = \"host:99999\"", "/c/config.toml:1: server: \"host:99999\" is not HOST"},
           {"[servers.\"a:1\"]\nnick = \"x\"", "/c/config.toml:2: servers.\"a:1\".nick: unknown key"},
           {"[logging]\ndir = \"logs\"", "/c/config.toml:2: logging.dir: must be an absolute path"},
           {"timestamp_format = \"\"", "/c/config.toml:1: timestamp_format: must be 1 to"},
           {"timestamp_format = \"%H\\u0007\"", "timestamp_format: must not hold control characters"},
           {"colours = true", "/c/config.toml:1: colours: must be a table"},
           {"[servers.\"a\"]\nname = \"x\"\n[servers.\"A:9900\"]\nname = \"y\"", "is the same server as another"},
           {"[colours]\nown = \"pink\"", "/c/config.toml:2: colours.own: \"pink\" is not a colour"},
       }) {
    CAPTURE(text);
    const auto r = parse(text);
    INFO(r.error);
    CHECK_FALSE(r.config);
    CHECK(r.error.find(expected) != std::string::npos);
  }
}

TEST_CASE("the file: missing is the defaults unless --config named it; unsafe is refused") {
  scratch s;
  const auto file = s.dir / "config.toml";
  CHECK(nc::load_config(file, false, home_env()).config);
  const auto named = nc::load_config(file, true, home_env());
  CHECK_FALSE(named.config);
  CHECK(named.error.find(file.string()) != std::string::npos);

  std::ofstream(file) << "name = \"carol\"\n";
  ::chmod(file.c_str(), 0600);
  const auto read = nc::load_config(file, true, home_env());
  REQUIRE(read.config);
  CHECK(*read.config->name == "carol");
  // Others may not write it (it says where logs go); a symlink is not followed.
  ::chmod(file.c_str(), 0666);
  CHECK_FALSE(nc::load_config(file, false, home_env()).config);
  ::chmod(file.c_str(), 0600);
  std::filesystem::create_symlink(file, s.dir / "link.toml");
  const auto linked = nc::load_config(s.dir / "link.toml", true, home_env());
  CHECK_FALSE(linked.config);
  CHECK(linked.error.find("link.toml") != std::string::npos);
}

TEST_CASE("the command line wins; the file fills in the rest") {
  const auto c = parse(R"(
name = "alice"
server = "chat.example.org"
[servers."chat.example.org:9900"]
name = "alice_work"
[servers."other.org:9900"]
name = "alice_other"
[logging]
enabled = true
)");
  REQUIRE(c.config);
  SUBCASE("nothing given: the file's server, and that server's name") {
    auto o = options_from({});
    const auto settings = nc::apply_config(o, *c.config, home_env());
    CHECK(o.host == "chat.example.org");
    CHECK(o.port == 9900);
    CHECK(*o.name == "alice_work");
    CHECK(*settings.log_dir == "/home/u/.local/share/natter/logs");
  }
  SUBCASE("another server on the command line: its own table's name") {
    auto o = options_from({"other.org"});
    (void)nc::apply_config(o, *c.config, home_env());
    CHECK(o.host == "other.org");
    CHECK(*o.name == "alice_other");
  }
  SUBCASE("a server without a table: the top-level name") {
    auto o = options_from({"third.org:1234"});
    (void)nc::apply_config(o, *c.config, home_env());
    CHECK(*o.name == "alice");
  }
  SUBCASE("--name and --log-dir beat the file") {
    auto o = options_from({"--name", "bob", "--log-dir", "/l"});
    const auto settings = nc::apply_config(o, *c.config, home_env());
    CHECK(*o.name == "bob");
    CHECK(*settings.log_dir == "/l");
  }
  SUBCASE("logging is off unless asked for") {
    auto o = options_from({});
    CHECK_FALSE(nc::apply_config(o, *parse("").config, home_env()).log_dir);
  }
}

TEST_CASE("--config chooses the file; the default follows XDG") {
  CHECK(options_from({}).config == "/home/u/.config/natter/config.toml");
  CHECK_FALSE(options_from({}).config_given);
  const auto o = options_from({"--config", "/etc/n.toml"});
  CHECK(o.config == "/etc/n.toml");
  CHECK(o.config_given);
}

TEST_CASE("require_e2e = true is --require-e2e; it must be a boolean") {
  auto out = parse("");
  REQUIRE(out.config);
  CHECK_FALSE(out.config->require_e2e);
  out = parse("require_e2e = true\n");
  REQUIRE(out.config);
  CHECK(out.config->require_e2e);
  out = parse("require_e2e = \"yes\"\n");
  CHECK_FALSE(out.config);
  CHECK(out.error.find("require_e2e") != std::string::npos);
}
