#include "natter/client/options.hpp"

#include <doctest/doctest.h>

#include <vector>

namespace nc = natter::client;

namespace {
nc::parse_result parse(std::vector<std::string_view> args, nc::environment env = {}) {
  if (!env.home) env.home = "/home/u";
  return nc::parse_options(args, env);
}
}  // namespace

TEST_CASE("addresses") {
  auto a = nc::parse_address("example.org");
  REQUIRE(a);
  CHECK(a->host == "example.org");
  CHECK(a->port == 9900);
  a = nc::parse_address("example.org:1234");
  REQUIRE(a);
  CHECK(a->port == 1234);
  a = nc::parse_address("[::1]:9901");
  REQUIRE(a);
  CHECK(a->host == "::1");
  CHECK(a->port == 9901);
  a = nc::parse_address("[::1]");
  REQUIRE(a);
  CHECK(a->port == 9900);
  a = nc::parse_address("::1");
  REQUIRE(a);
  CHECK(a->host == "::1");
  CHECK_FALSE(nc::parse_address("host:0"));
  CHECK_FALSE(nc::parse_address("host:70000"));
  CHECK_FALSE(nc::parse_address("host:x"));
  CHECK_FALSE(nc::parse_address("[::1"));
  CHECK_FALSE(nc::parse_address("[::1]x"));
  CHECK_FALSE(nc::parse_address(":9900"));
}

TEST_CASE("defaults follow XDG") {
  auto r = parse({});
  REQUIRE(r.what == nc::parse_result::action::run);
  CHECK(r.options.host == "127.0.0.1");
  CHECK(r.options.port == 9900);
  CHECK(r.options.identity == "/home/u/.config/natter/identity");
  CHECK(r.options.known_hosts == "/home/u/.config/natter/known_hosts");
  CHECK(r.options.max_frame == 65536);
  CHECK_FALSE(r.options.keylog);

  r = parse({}, {"/xdg", "/home/u", {}, "/tmp/keys", {}});
  CHECK(r.options.identity == "/xdg/natter/identity");
  CHECK(r.options.known_hosts == "/xdg/natter/known_hosts");
  REQUIRE(r.options.keylog);
  CHECK(*r.options.keylog == "/tmp/keys");
}

TEST_CASE("all options") {
  auto r = parse({"--name", "alice", "--identity", "/k/id", "--known-hosts=/k/kh", "--accept-new", "--trace",
                  "--expect-fingerprint", "3B6A27BCCEB6A42D62A3A8D02A6F0D73", "--keylog", "/k/log",
                  "--max-frame", "8192", "--wait-ms", "500", "[::1]:9901"});
  REQUIRE(r.what == nc::parse_result::action::run);
  const auto& o = r.options;
  CHECK(*o.name == "alice");
  CHECK(o.identity == "/k/id");
  CHECK(o.known_hosts == "/k/kh");
  CHECK(o.accept_new);
  CHECK(o.trace);
  CHECK(*o.expect_fingerprint == "3b6a-27bc-ceb6-a42d-62a3-a8d0-2a6f-0d73");
  CHECK(*o.keylog == "/k/log");
  CHECK(o.max_frame == 8192);
  CHECK(*o.wait_ms == 500);
  CHECK(o.host == "::1");
  CHECK(o.port == 9901);
}

TEST_CASE("help, version and usage errors") {
  CHECK(parse({"--help"}).what == nc::parse_result::action::help);
  CHECK(parse({"--version"}).what == nc::parse_result::action::version);
  for (std::vector<std::string_view> args : std::vector<std::vector<std::string_view>>{
           {"--bogus"}, {"--name"}, {"--name", "bad name"}, {"--max-frame", "10"},
           {"--expect-fingerprint", "abc"}, {"a", "b"}, {"--wait-ms", "-1"}, {"--trace=yes"},
           {"--stay", "--wait-ms", "10"}, {"host:99999"}}) {
    CAPTURE(args.front());
    CHECK(parse(args).what == nc::parse_result::action::usage_error);
  }
}

TEST_CASE("--tui and --plain choose the interface") {
  CHECK(parse({}).options.ui == nc::ui_mode::automatic);
  CHECK(parse({"--tui"}).options.ui == nc::ui_mode::tui);
  CHECK(parse({"--plain"}).options.ui == nc::ui_mode::plain);
  CHECK(parse({"--tui", "--plain"}).what == nc::parse_result::action::usage_error);
  CHECK(parse({"--tui=1"}).what == nc::parse_result::action::usage_error);
}

TEST_CASE("CLI11 keeps the old parser's habits") {
  // The last of a repeated option wins; "--" ends the options.
  auto r = parse({"--name", "alice", "--name=bob", "--", "example.org:1"});
  REQUIRE(r.what == nc::parse_result::action::run);
  CHECK(*r.options.name == "bob");
  CHECK(r.options.host == "example.org");
  CHECK(r.options.address_given);
  CHECK_FALSE(parse({}).options.address_given);
  // Help comes before errors elsewhere on the line, and errors name the option.
  CHECK(parse({"--bogus", "--help"}).what == nc::parse_result::action::help);
  r = parse({"--max-frame", "10"});
  CHECK(r.error.find("--max-frame") != std::string::npos);
  r = parse({"--name", "bad name"});
  CHECK(r.error.find("invalid name") != std::string::npos);
  r = parse({"--bogus"});
  CHECK(r.error.find("--bogus") != std::string::npos);
  r = parse({"--identity", ""});
  CHECK(r.what == nc::parse_result::action::usage_error);
  // The help lists every option.
  const std::string help = nc::usage_text();
  for (const char* option : {"--name", "--identity", "--known-hosts", "--config", "--fingerprint", "--accept-new",
                             "--expect-fingerprint", "--keylog", "--log-dir", "--trace", "--tui", "--plain",
                             "--max-frame", "--wait-ms", "--stay", "--help", "--version"}) {
    CAPTURE(option);
    CHECK(help.find(option) != std::string::npos);
  }
}

TEST_CASE("--log-dir and --config") {
  auto r = parse({"--log-dir", "/logs", "--config=/c.toml"});
  REQUIRE(r.what == nc::parse_result::action::run);
  CHECK(*r.options.log_dir == "/logs");
  CHECK(r.options.config == "/c.toml");
  CHECK(r.options.config_given);
  nc::environment env;
  env.home = "/home/u";
  CHECK(nc::default_log_dir(env) == "/home/u/.local/share/natter/logs");
  env.xdg_data_home = "/data";
  CHECK(nc::default_log_dir(env) == "/data/natter/logs");
}

TEST_CASE("--require-e2e and --e2e-room-limit") {
  auto r = parse({});
  REQUIRE(r.what == nc::parse_result::action::run);
  CHECK_FALSE(r.options.require_e2e);
  CHECK_FALSE(r.options.e2e_room_limit.has_value());
  r = parse({"--require-e2e", "--e2e-room-limit", "3"});
  REQUIRE(r.what == nc::parse_result::action::run);
  CHECK(r.options.require_e2e);
  CHECK(r.options.e2e_room_limit == std::size_t{3});
  CHECK(parse({"--e2e-room-limit", "0"}).what == nc::parse_result::action::usage_error);
  CHECK(parse({"--require-e2e=yes"}).what == nc::parse_result::action::usage_error);
  CHECK(nc::usage_text().find("--require-e2e") != std::string::npos);
}
