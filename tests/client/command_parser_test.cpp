#include "natter/client/command_parser.hpp"

#include <doctest/doctest.h>

namespace nc = natter::client;

namespace {
nc::command parse(std::string_view line) { return nc::parse_command(line, 4096); }

std::string error_of(const nc::command& c) {
  const auto* e = std::get_if<nc::command_error>(&c);
  return e ? e->message : std::string("<no error>");
}
}  // namespace

TEST_CASE("plain text is a say; // escapes a leading slash") {
  auto c = parse("hello world");
  REQUIRE(std::holds_alternative<nc::say_command>(c));
  CHECK(std::get<nc::say_command>(c).text == "hello world");

  c = parse("//etc/passwd is a path");
  REQUIRE(std::holds_alternative<nc::say_command>(c));
  CHECK(std::get<nc::say_command>(c).text == "/etc/passwd is a path");

  c = parse("with CR\r");
  REQUIRE(std::holds_alternative<nc::say_command>(c));
  CHECK(std::get<nc::say_command>(c).text == "with CR");
}

TEST_CASE("/me ACTION is a say marked as an action") {
  auto c = parse("/me waves at everyone");
  REQUIRE(std::holds_alternative<nc::say_command>(c));
  CHECK(std::get<nc::say_command>(c).text == "waves at everyone");
  CHECK(std::get<nc::say_command>(c).action);
  CHECK_FALSE(std::get<nc::say_command>(parse("hello")).action);
  CHECK(std::holds_alternative<nc::command_error>(parse("/me")));
  CHECK(std::holds_alternative<nc::command_error>(parse("/me   ")));
}

TEST_CASE("/away MESSAGE marks us away, /away alone brings us back") {
  auto c = parse("/away gone to lunch");
  REQUIRE(std::holds_alternative<nc::away_command>(c));
  CHECK(std::get<nc::away_command>(c).message == "gone to lunch");
  c = parse("/away");
  REQUIRE(std::holds_alternative<nc::away_command>(c));
  CHECK(std::get<nc::away_command>(c).message.empty());
  CHECK(std::holds_alternative<nc::command_error>(parse("/away " + std::string(201, 'x'))));
}

TEST_CASE("blank lines do nothing") {
  CHECK(std::holds_alternative<nc::empty_command>(parse("")));
  CHECK(std::holds_alternative<nc::empty_command>(parse("   \t ")));
}

TEST_CASE("whispers: /w and /msg") {
  for (const char* line : {"/w bob psst, over here", "/msg bob psst, over here", "/w   bob   psst, over here"}) {
    CAPTURE(line);
    auto c = parse(line);
    REQUIRE(std::holds_alternative<nc::whisper_command>(c));
    CHECK(std::get<nc::whisper_command>(c).to == "bob");
    CHECK(std::get<nc::whisper_command>(c).text == "psst, over here");
  }
  CHECK(error_of(parse("/w bob")) == "usage: /w NAME TEXT");
  CHECK(error_of(parse("/msg")) == "usage: /msg NAME TEXT");
  CHECK(error_of(parse("/w b@d hi")).find("invalid name") != std::string::npos);
}

TEST_CASE("users, whois, fingerprint, help") {
  CHECK(std::holds_alternative<nc::users_command>(parse("/users")));
  CHECK(std::holds_alternative<nc::fingerprint_command>(parse("/fingerprint")));
  CHECK(std::holds_alternative<nc::help_command>(parse("/help")));
  auto c = parse("/whois alice");
  REQUIRE(std::holds_alternative<nc::whois_command>(c));
  CHECK(std::get<nc::whois_command>(c).name == "alice");
  CHECK(error_of(parse("/whois")) == "usage: /whois NAME");
  CHECK(error_of(parse("/whois a b")) == "usage: /whois NAME");
  CHECK(error_of(parse("/users now")) == "usage: /users");
}

TEST_CASE("quit with and without a reason") {
  auto c = parse("/quit");
  REQUIRE(std::holds_alternative<nc::quit_command>(c));
  CHECK(std::get<nc::quit_command>(c).reason.empty());
  c = parse("/quit see you tomorrow");
  REQUIRE(std::holds_alternative<nc::quit_command>(c));
  CHECK(std::get<nc::quit_command>(c).reason == "see you tomorrow");
  CHECK(error_of(parse("/quit " + std::string(201, 'x'))).find("too long") != std::string::npos);
}

TEST_CASE("unknown commands get a helpful error") {
  const auto message = error_of(parse("/frobnicate now"));
  CHECK(message.find("unknown command /frobnicate") != std::string::npos);
  CHECK(message.find("/help") != std::string::npos);
}

TEST_CASE("bad text is refused before anything is sent") {
  CHECK(error_of(nc::parse_command(std::string(11, 'x'), 10)).find("too long") != std::string::npos);
  CHECK(std::holds_alternative<nc::say_command>(nc::parse_command(std::string(10, 'x'), 10)));
  CHECK(std::holds_alternative<nc::command_error>(parse("bell \x07 here")));
  CHECK(std::holds_alternative<nc::command_error>(parse("escape \x1b[31m red")));
  CHECK(std::holds_alternative<nc::command_error>(parse("bad utf8 \xc3\x28")));
  CHECK(std::holds_alternative<nc::command_error>(parse("/w bob \x1b[2J")));
  CHECK(std::holds_alternative<nc::say_command>(parse("tab\tis fine, and so is \xc3\xa9")));
}
