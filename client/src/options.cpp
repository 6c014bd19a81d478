#include "natter/client/options.hpp"

#include <charconv>
#include <cstdlib>

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
  return {getenv_string("XDG_CONFIG_HOME"), getenv_string("HOME"), getenv_string("USER"),
          getenv_string("NATTER_KEYLOGFILE")};
}

std::filesystem::path default_config_dir(const environment& env) {
  // XDG says a relative $XDG_CONFIG_HOME is invalid and must be ignored.
  if (env.xdg_config_home && std::filesystem::path(*env.xdg_config_home).is_absolute()) {
    return std::filesystem::path(*env.xdg_config_home) / "natter";
  }
  return std::filesystem::path(env.home.value_or(".")) / ".config" / "natter";
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

parse_result parse_options(std::span<const std::string_view> args, const environment& env) {
  parse_result result;
  auto& o = result.options;
  auto usage = [&](std::string message) {
    result.what = parse_result::action::usage_error;
    result.error = std::move(message);
    return result;
  };
  bool identity_given = false;
  bool known_hosts_given = false;
  bool address_given = false;

  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    std::optional<std::string_view> inline_value;
    if (arg.starts_with("--")) {
      if (const auto eq = arg.find('='); eq != std::string_view::npos) {
        inline_value = arg.substr(eq + 1);
        arg = arg.substr(0, eq);
      }
    }
    // Fetches the option's argument, from "--opt=value" or the next word.
    auto value = [&]() -> std::optional<std::string_view> {
      if (inline_value) return inline_value;
      if (i + 1 < args.size()) return args[++i];
      return std::nullopt;
    };
    auto needs_value = [&](std::string_view name) { return "option " + std::string(name) + " needs a value"; };
    auto no_value = [&]() { return inline_value.has_value(); };

    if (arg == "--help" || arg == "-h") {
      result.what = parse_result::action::help;
      return result;
    }
    if (arg == "--version") {
      result.what = parse_result::action::version;
      return result;
    }
    if (arg == "--name") {
      const auto v = value();
      if (!v) return usage(needs_value(arg));
      if (!is_valid_name(*v)) {
        return usage("invalid name \"" + printable(v->substr(0, 40)) +
                     "\": use 1-32 characters of A-Z a-z 0-9 _ . -");
      }
      o.name = std::string(*v);
    } else if (arg == "--identity") {
      const auto v = value();
      if (!v || v->empty()) return usage(needs_value(arg));
      o.identity = std::string(*v);
      identity_given = true;
    } else if (arg == "--known-hosts") {
      const auto v = value();
      if (!v || v->empty()) return usage(needs_value(arg));
      o.known_hosts = std::string(*v);
      known_hosts_given = true;
    } else if (arg == "--keylog") {
      const auto v = value();
      if (!v || v->empty()) return usage(needs_value(arg));
      o.keylog = std::string(*v);
    } else if (arg == "--e2e-keylog") {
      const auto v = value();
      if (!v || v->empty()) return usage(needs_value(arg));
      o.e2e_keylog = std::string(*v);
    } else if (arg == "--accept-peer-key-changes") {
      if (no_value()) return usage("option " + std::string(arg) + " takes no value");
      o.accept_peer_key_changes = true;
    } else if (arg == "--expect-fingerprint") {
      const auto v = value();
      if (!v) return usage(needs_value(arg));
      const auto parsed = crypto::parse_any_fingerprint(*v);
      if (!parsed) {
        return usage("--expect-fingerprint: \"" + printable(v->substr(0, 80)) +
                     "\" is not a fingerprint (2: and 40 hex digits, as natter-server --fingerprint prints it)");
      }
      o.expect_fingerprint = parsed->canonical;
    } else if (arg == "--max-frame") {
      const auto v = value();
      if (!v) return usage(needs_value(arg));
      const auto n = parse_number<std::size_t>(*v);
      if (!n || *n < limits::min_max_frame || *n > limits::max_max_frame) {
        return usage("--max-frame must be a number from " + std::to_string(limits::min_max_frame) +
                     " to " + std::to_string(limits::max_max_frame));
      }
      o.max_frame = *n;
    } else if (arg == "--wait-ms") {
      const auto v = value();
      if (!v) return usage(needs_value(arg));
      const auto n = parse_number<long>(*v);
      if (!n || *n < 0) return usage("--wait-ms needs a number of milliseconds (0 or more)");
      o.wait_ms = *n;
    } else if (arg == "--tui" || arg == "--plain") {
      if (no_value()) return usage("option " + std::string(arg) + " takes no value");
      const ui_mode mode = arg == "--tui" ? ui_mode::tui : ui_mode::plain;
      if (o.ui != ui_mode::automatic && o.ui != mode) return usage("--tui and --plain cannot be combined");
      o.ui = mode;
    } else if (arg == "--fingerprint" || arg == "--accept-new" || arg == "--trace" || arg == "--stay") {
      if (no_value()) return usage("option " + std::string(arg) + " takes no value");
      if (arg == "--fingerprint") o.print_fingerprint = true;
      if (arg == "--accept-new") o.accept_new = true;
      if (arg == "--trace") o.trace = true;
      if (arg == "--stay") o.stay = true;
    } else if (arg == "--") {
      // Everything after is positional.
      for (++i; i < args.size(); ++i) {
        if (address_given) return usage("more than one server address given");
        const auto a = parse_address(args[i]);
        if (!a) return usage("invalid server address \"" + printable(args[i]) + "\"");
        o.host = a->host;
        o.port = a->port;
        address_given = true;
      }
    } else if (arg.starts_with("-") && arg.size() > 1) {
      return usage("unknown option " + printable(arg.substr(0, 40)));
    } else {
      if (address_given) return usage("more than one server address given");
      const auto a = parse_address(arg);
      if (!a) return usage("invalid server address \"" + printable(arg.substr(0, 80)) +
                           "\"; use HOST, HOST:PORT or [IPV6]:PORT");
      o.host = a->host;
      o.port = a->port;
      address_given = true;
    }
  }

  const auto config = default_config_dir(env);
  if (!identity_given) o.identity = config / "identity";
  if (!known_hosts_given) o.known_hosts = config / "known_hosts";
  if (!o.keylog && env.keylog_file) o.keylog = std::filesystem::path(*env.keylog_file);
  if (o.max_frame == 0) o.max_frame = limits::default_max_frame;
  if (o.stay && o.wait_ms) return usage("--stay and --wait-ms cannot be combined");
  return result;
}

std::string usage_text() {
  return R"(usage: natter [options] [HOST[:PORT]]

Connects to a natter chat server (default 127.0.0.1:9900; IPv6 as [::1]:9900).
Typed lines are sent to everyone; /help lists commands. When stdin is not a terminal,
each input line is sent as if typed, and natter exits after the server acknowledged all.

options:
  --name NAME               your name (1-32 of A-Z a-z 0-9 _ . -); asked for if missing in
                            a terminal, else $USER
  --identity FILE           your key (default $XDG_CONFIG_HOME/natter/identity, or
                            ~/.config/natter/identity; created on first use)
  --known-hosts FILE        pinned server keys (default: known_hosts beside the identity)
  --fingerprint             print your own key fingerprint and exit
  --accept-new              pin an unknown server key without asking
  --expect-fingerprint FP   accept only a server key with fingerprint FP (and pin it)
  --keylog FILE             append session keys to FILE for Wireshark (also $NATTER_KEYLOGFILE);
                            anyone holding FILE can decrypt the logged sessions
  --e2e-keylog FILE         append end-to-end message keys to FILE (docs/E2E.md "On the wire");
                            anyone holding FILE can read the logged messages
  --accept-peer-key-changes accept a peer's changed end-to-end key without asking (unattended
                            bots only: a server could then swap keys and read their messages)
  --trace                   print every frame sent and received to stderr
  --tui                     full-screen interface (the default when stdin and stdout are
                            terminals of at least 60x12)
  --plain                   line-mode interface even in a terminal
  --max-frame N             largest frame accepted from the server (default 65536)
  --wait-ms N               non-interactive: stay N ms after end of input, printing messages
  --stay                    non-interactive: stay until the server closes or SIGINT/SIGTERM
  --help, --version

exit status: 0 ok, 1 runtime failure, 2 usage error, 3 server key mismatch
)";
}

}  // namespace natter::client
