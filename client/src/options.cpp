#include "natter/client/options.hpp"

#include <CLI/CLI.hpp>

#include <charconv>
#include <cstdlib>
#include <functional>
#include <vector>

#include "natter/crypto/fingerprint_v2.hpp"
#include "natter/limits.hpp"
#include "natter/text.hpp"

namespace natter::client {

namespace {

std::optional<std::string> getenv_string(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return std::nullopt;
  return std::string(value);
}

template <typename T>
std::optional<T> parse_number(std::string_view text) {
  T value{};
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<std::uint16_t> parse_port(std::string_view text) {
  const auto port = parse_number<unsigned>(text);
  if (!port || *port == 0 || *port > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(*port);
}

}  // namespace

environment read_environment() {
  environment env;
  env.xdg_config_home = getenv_string("XDG_CONFIG_HOME");
  env.xdg_data_home = getenv_string("XDG_DATA_HOME");
  env.home = getenv_string("HOME");
  env.user = getenv_string("USER");
  env.keylog_file = getenv_string("NATTER_KEYLOGFILE");
  return env;
}

std::filesystem::path default_config_dir(const environment& env) {
  // XDG says a relative $XDG_CONFIG_HOME is invalid and must be ignored.
  if (env.xdg_config_home && std::filesystem::path(*env.xdg_config_home).is_absolute()) {
    return std::filesystem::path(*env.xdg_config_home) / "natter";
  }
  return std::filesystem::path(env.home.value_or(".")) / ".config" / "natter";
}

std::filesystem::path default_log_dir(const environment& env) {
  if (env.xdg_data_home && std::filesystem::path(*env.xdg_data_home).is_absolute()) {
    return std::filesystem::path(*env.xdg_data_home) / "natter" / "logs";
  }
  return std::filesystem::path(env.home.value_or(".")) / ".local" / "share" / "natter" / "logs";
}

std::optional<address> parse_address(std::string_view text) {
  address out;
  if (text.empty()) return std::nullopt;
  if (text.front() == '[') {
    const auto close = text.find(']');
    if (close == std::string_view::npos || close == 1) return std::nullopt;
    out.host = std::string(text.substr(1, close - 1));
    const std::string_view rest = text.substr(close + 1);
    if (rest.empty()) return out;
    if (rest.front() != ':') return std::nullopt;
    const auto port = parse_port(rest.substr(1));
    if (!port) return std::nullopt;
    out.port = *port;
    return out;
  }
  const auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    out.host = std::string(text);
    return out;
  }
  if (text.find(':', colon + 1) != std::string_view::npos) {
    out.host = std::string(text);  // a bare IPv6 literal such as ::1: no port possible
    return out;
  }
  if (colon == 0) return std::nullopt;
  out.host = std::string(text.substr(0, colon));
  const auto port = parse_port(text.substr(colon + 1));
  if (!port) return std::nullopt;
  out.port = *port;
  return out;
}

namespace {

// The words as CLI11 hands them over; meanings are checked and filled in by parse_options.
struct raw_words {
  std::string name, identity, known_hosts, keylog, e2e_keylog, expect_fingerprint, config, log_dir;
  std::size_t max_frame = 0;
  long wait_ms = -1;
  bool print_fingerprint = false, accept_new = false, trace = false, stay = false, tui = false, plain = false,
       accept_peer_key_changes = false, require_e2e = false;
  std::size_t e2e_room_limit = 0;
  std::string address;
};

// A validator that returns our own message (CLI11 prefixes the option's name), with no
// description of its own for --help.
CLI::Validator check(std::function<std::string(const std::string&)> fn) {
  return CLI::Validator([fn = std::move(fn)](std::string& value) { return fn(value); }, "");
}

// CLI11's wording, made plainer (the same in both programs' options.cpp): CLI11 says
// "--name: 1 required NAME missing", people read "--name: missing value".
std::string usage_message(const CLI::ParseError& error) {
  std::string text = error.what();
  if (const auto at = text.find(": 1 required "); at != std::string::npos && text.ends_with(" missing")) {
    return text.substr(0, at) + ": missing value";
  }
  // "trace was given a disallowed flag override": said of "--trace=yes".
  if (const auto at = text.find(" was given a disallowed flag override"); at != std::string::npos) {
    return "--" + text.substr(0, at) + " takes no value";
  }
  return text;
}

std::string not_empty(const std::string& v) { return v.empty() ? "needs a value" : ""; }

// Declares every option on `app`, writing into `w`. One definition serves parsing and --help.
// Help lines are broken by hand: CLI11 2.1 does not wrap, and indents after each '\n'.
void declare(CLI::App& app, raw_words& w) {
  // Repeating an option keeps the last value, as the hand-written parser did (and as scripts
  // that append to a base command line expect).
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  // Extra words are reported by parse_options in natter's own terms ("more than one server
  // address", "unknown option").
  app.allow_extras();
  app.set_help_flag("-h,--help", "print this help and exit");
  app.set_version_flag("--version", std::string("natter"), "print the version and exit");
  app.get_formatter()->column_width(28);
  // Flags take no value: "--trace=yes" is a usage error, not a surprise.
  const auto flag = [&app](const char* name, bool& into, const char* help) {
    return app.add_flag(name, into, help)->disable_flag_override();
  };
  const auto file = [&app](const char* name, std::string& into, const char* type, const char* help) {
    app.add_option(name, into, help)->type_name(type)->check(check(not_empty));
  };

  app.add_option("--name", w.name, "your name (1-32 of A-Z a-z 0-9 _ . -); asked for if missing\n"
                                   "in a terminal, else $USER")
      ->type_name("NAME")
      ->check(check([](const std::string& v) {
        return is_valid_name(v) ? std::string() : "invalid name \"" + printable(std::string_view(v).substr(0, 40)) +
                                                      "\": use 1-32 characters of A-Z a-z 0-9 _ . -";
      }));
  file("--identity", w.identity, "FILE", "your key (default $XDG_CONFIG_HOME/natter/identity, or\n"
                                         "~/.config/natter/identity; created on first use)");
  file("--known-hosts", w.known_hosts, "FILE", "pinned server keys (default: known_hosts beside the identity)");
  file("--config", w.config, "FILE", "settings (default $XDG_CONFIG_HOME/natter/config.toml, or\n"
                                     "~/.config/natter/config.toml; see README.md); options given\n"
                                     "here win over it");
  flag("--fingerprint", w.print_fingerprint, "print your own key fingerprint and exit");
  flag("--accept-new", w.accept_new, "pin an unknown server key without asking");
  app.add_option("--expect-fingerprint", w.expect_fingerprint, "accept only a server key with fingerprint FP (and pin it)")
      ->type_name("FP")
      ->check(check([](const std::string& v) {
        return crypto::parse_any_fingerprint(v)
                   ? std::string()
                   : "\"" + printable(std::string_view(v).substr(0, 80)) +
                         "\" is not a fingerprint (2: and 40 hex digits, as natter-server --fingerprint prints it)";
      }));
  file("--keylog", w.keylog, "FILE", "append session keys to FILE for Wireshark (also\n"
                                     "$NATTER_KEYLOGFILE); anyone holding FILE can decrypt the\n"
                                     "logged sessions");
  file("--e2e-keylog", w.e2e_keylog, "FILE", "append end-to-end message keys to FILE for Wireshark; anyone\n"
                                             "holding FILE can read the logged messages (docs/E2E.md)");
  flag("--accept-peer-key-changes", w.accept_peer_key_changes,
       "accept a peer's changed key without asking (for bots; dangerous:\n"
       "a server that substitutes keys is then not stopped)");
  flag("--require-e2e", w.require_e2e,
       "in an open room (more members than end to end allows) refuse to\n"
       "send room texts rather than send them readable by the server");
  app.add_option("--e2e-room-limit", w.e2e_room_limit,
                 "for tests: a room of more than N members is open (default 1000)")
      ->type_name("N")
      ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20).description(""));
  file("--log-dir", w.log_dir, "DIR", "keep chat logs in DIR, one file per server and day (default:\n"
                                      "off; the config file's [logging] can turn them on)");
  flag("--trace", w.trace, "print every frame sent and received to stderr");
  flag("--tui", w.tui, "full-screen interface (the default when stdin and stdout are\n"
                       "terminals of at least 60x12)");
  flag("--plain", w.plain, "line-mode interface even in a terminal");
  app.add_option("--max-frame", w.max_frame, "largest frame accepted from the server (default 65536)")
      ->type_name("N")
      ->check(CLI::Range(limits::min_max_frame, limits::max_max_frame).description(""));
  app.add_option("--wait-ms", w.wait_ms, "non-interactive: stay N ms after end of input, printing messages")
      ->type_name("N")
      ->check(check([](const std::string& v) {
        const auto n = parse_number<long>(v);
        return n && *n >= 0 ? std::string() : "needs a number of milliseconds (0 or more)";
      }));
  flag("--stay", w.stay, "non-interactive: stay (reconnecting) until kicked or SIGINT/SIGTERM");
  app.add_option("address", w.address, "the server (default 127.0.0.1:9900; IPv6 as [::1]:9900)")
      ->type_name("HOST[:PORT]");
  app.description(
      "Connects to a natter chat server.\n"
      "Typed lines are sent to everyone; /help lists commands. When stdin is not a terminal,\n"
      "each input line is sent as if typed, and natter exits after the server acknowledged all.");
  app.footer("exit status: 0 ok, 1 runtime failure, 2 usage error, 3 server key mismatch, 4 kicked,\n"
             "  5 server stopped or connection lost (not retried, or reconnecting gave up)");
}

}  // namespace

parse_result parse_options(std::span<const std::string_view> args, const environment& env) {
  parse_result result;
  auto& o = result.options;
  auto usage = [&](std::string message) {
    result.what = parse_result::action::usage_error;
    result.error = std::move(message);
    return result;
  };

  raw_words w;
  CLI::App app("", "natter");
  declare(app, w);
  // CLI11 takes the words last first.
  std::vector<std::string> words(args.rbegin(), args.rend());
  try {
    app.parse(words);
  } catch (const CLI::CallForHelp&) {
    result.what = parse_result::action::help;
    return result;
  } catch (const CLI::CallForVersion&) {
    result.what = parse_result::action::version;
    return result;
  } catch (const CLI::ParseError& e) {
    return usage(printable(usage_message(e)));
  }

  // Words CLI11 did not take: an unknown option, or a second address.
  bool after_separator = false;  // CLI11 hands "--" back with what follows it: all positional
  for (const auto& extra : app.remaining()) {
    if (extra == "--" && !after_separator) {
      after_separator = true;
      continue;
    }
    if (!after_separator && extra.starts_with("-") && extra.size() > 1) return usage("unknown option " + printable(std::string_view(extra).substr(0, 40)));
    return usage("more than one server address given");
  }
  if (w.tui && w.plain) return usage("--tui and --plain cannot be combined");
  if (w.stay && app.count("--wait-ms") > 0) return usage("--stay and --wait-ms cannot be combined");
  if (app.count("address") > 0) {
    const auto a = parse_address(w.address);
    if (!a) {
      return usage("invalid server address \"" + printable(std::string_view(w.address).substr(0, 80)) +
                   "\"; use HOST, HOST:PORT or [IPV6]:PORT");
    }
    o.host = a->host;
    o.port = a->port;
    o.address_given = true;
  }
  const auto given = [&app](const char* name) { return app.count(name) > 0; };
  if (given("--name")) o.name = w.name;
  if (given("--expect-fingerprint")) o.expect_fingerprint = crypto::parse_any_fingerprint(w.expect_fingerprint)->canonical;
  if (given("--keylog")) o.keylog = std::filesystem::path(w.keylog);
  if (given("--log-dir")) o.log_dir = std::filesystem::path(w.log_dir);
  if (given("--e2e-keylog")) o.e2e_keylog = std::filesystem::path(w.e2e_keylog);
  o.accept_peer_key_changes = w.accept_peer_key_changes;
  o.require_e2e = w.require_e2e;
  if (given("--e2e-room-limit")) o.e2e_room_limit = w.e2e_room_limit;
  if (given("--wait-ms")) o.wait_ms = w.wait_ms;
  o.print_fingerprint = w.print_fingerprint;
  o.accept_new = w.accept_new;
  o.trace = w.trace;
  o.stay = w.stay;
  o.ui = w.tui ? ui_mode::tui : w.plain ? ui_mode::plain : ui_mode::automatic;
  o.max_frame = given("--max-frame") ? w.max_frame : limits::default_max_frame;

  const auto config = default_config_dir(env);
  o.identity = given("--identity") ? std::filesystem::path(w.identity) : config / "identity";
  o.known_hosts = given("--known-hosts") ? std::filesystem::path(w.known_hosts) : config / "known_hosts";
  o.config_given = given("--config");
  o.config = o.config_given ? std::filesystem::path(w.config) : config / "config.toml";
  if (!o.keylog && env.keylog_file) o.keylog = std::filesystem::path(*env.keylog_file);
  return result;
}

std::string usage_text() {
  raw_words w;
  CLI::App app("", "natter");
  declare(app, w);
  return app.help();
}

}  // namespace natter::client
