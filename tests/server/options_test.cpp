// natter-server's options: the defaults of --presence-delay and --rate-memory, and clear refusals.
#include <doctest/doctest.h>

#include <string>
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
