#include "natter/server/options.hpp"

#include <CLI/CLI.hpp>

#include <charconv>
#include <cstdlib>
#include <functional>
#include <memory>

#include "natter/limits.hpp"
#include "natter/server/config_words.hpp"

namespace natter::server {

namespace {

constexpr const char* description =
    "Runs a natter chat server. Every frame after the handshake is encrypted; see docs/PROTOCOL.md.";
constexpr const char* footer =
    "Every option may also be set in a TOML file given with --config FILE, keyed by its long\n"
    "name (port = 9901, no-console = true); the command line wins over the file.\n"
    "\n"
    "console commands (when stdin is a terminal): users, kick NAME [reason], free NAME,\n"
    "  ban TARGET [reason], unban TARGET, bans, stop, help";

template <typename T>
bool parse_number(const std::string& text, T& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

// CLI11's wording, made plainer (the same in both programs' options.cpp): CLI11 says
// "--port: 1 required TEXT missing", people read "--port: missing value".
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

// An option whose value is checked and stored by `store`, which returns false to refuse it
// with `why` ("--port: needs a number 0-65535").
CLI::Option* add_checked(CLI::App& app, const char* name, const char* type, const std::string& help,
                         std::function<bool(const std::string&)> store, std::string why) {
  return app
      .add_option_function<std::string>(
          name,
          [name, store = std::move(store), why = std::move(why)](const std::string& value) {
            if (!store(value)) throw CLI::ValidationError(name, why);
          },
          help)
      ->type_name(type);
}

template <typename T>
CLI::Option* add_number(CLI::App& app, const char* name, const char* type, const std::string& help, T& into,
                        std::function<bool(T)> accept, std::string why) {
  return add_checked(
      app, name, type, help,
      [&into, accept = std::move(accept)](const std::string& v) {
        T n{};
        if (!parse_number(v, n) || !accept(n)) return false;
        into = n;
        return true;
      },
      std::move(why));
}

// Declares every option on `app`, storing into `out`. One definition serves parsing, the
// config file (its keys are these long names) and --help.
void declare(CLI::App& app, server_options& out) {
  app.option_defaults()->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
  app.set_help_flag("-h,--help", "print this help and exit");
  app.set_version_flag("--version", std::string("natter-server 0.1.0 (protocol 2)"), "print the version and exit");
  // Help lines are broken by hand: CLI11 2.1 does not wrap, and indents after each '\n'.
  app.get_formatter()->column_width(30);
  app.description(description);
  app.footer(footer);
  const auto any = [](auto) { return true; };
  const auto path = [](auto& into) {
    return [&into](const std::string& v) {
      if (v.empty()) return false;
      into = v;
      return true;
    };
  };

  app.add_option("--listen", out.host, "address to listen on (default 127.0.0.1; use :: or 0.0.0.0\n"
                 "for all)")
      ->type_name("HOST");
  add_number<std::uint16_t>(app, "--port", "N", "TCP port (default 9900; 0 picks a free port)", out.port, any,
                            "needs a number 0-65535");
  add_checked(app, "--port-file", "FILE", "write the port actually listened on to FILE", path(out.port_file),
              "needs a file name");
  add_checked(app, "--state-dir", "DIR",
              "server key and name registry (default\n"
              "$XDG_STATE_HOME/natter-server, or ~/.local/state/natter-server)",
              path(out.state_dir), "needs a directory");
  app.add_flag("--fingerprint", out.print_fingerprint, "print the server key's fingerprint and exit")
      ->disable_flag_override();
  add_number<unsigned>(app, "--threads", "N", "I/O threads (default: one per core)", out.threads, any, "needs a number");
  add_number<std::size_t>(
      app, "--max-frame", "BYTES", "largest frame accepted (default 65536)", out.max_frame,
      [](std::size_t n) { return n >= limits::min_max_frame && n <= limits::max_max_frame; },
      "must be between " + std::to_string(limits::min_max_frame) + " and " + std::to_string(limits::max_max_frame));
  add_number<std::size_t>(app, "--queue-bytes", "BYTES", "outgoing backlog per client before it is cut off\n"
                          "(default 1048576)",
                          out.queue_bytes, [](std::size_t n) { return n >= 8192; }, "needs a number >= 8192");
  add_number<std::size_t>(app, "--queue-messages", "N", "same, counted in messages (default 4096)", out.queue_messages,
                          [](std::size_t n) { return n >= 16; }, "needs a number >= 16");
  const auto seconds = [](std::chrono::milliseconds& into) {
    return [&into](const std::string& v) {
      double s = 0;
      if (!parse_number(v, s) || !(s > 0) || s > 1e9) return false;
      into = std::chrono::milliseconds(static_cast<long long>(s * 1000));
      return true;
    };
  };
  add_checked(app, "--idle-timeout", "SECONDS", "close connections silent this long (default 90)",
              seconds(out.idle_timeout), "needs a positive number of seconds");
  add_checked(app, "--handshake-timeout", "SECONDS", "time to finish handshake and join (default 10)",
              seconds(out.handshake_timeout), "needs a positive number of seconds");
  add_number<std::size_t>(app, "--max-connections", "N", "connections in all (default 10000; 0 = no limit)",
                          out.max_connections, any, "needs a number");
  add_number<std::size_t>(app, "--max-per-address", "N", "connections per client address (default 64; 0 = no limit)",
                          out.max_per_address, any, "needs a number");
  add_checked(
      app, "--presence-delay", "MS",
      "hold join/leave notices up to MS milliseconds so that many\n"
      "leave as one batch frame (default 20; 0 = send each at once)",
      [&out](const std::string& v) {
        unsigned ms = 0;
        if (!parse_number(v, ms) || ms > 1000) return false;
        out.presence_delay = std::chrono::milliseconds(ms);
        return true;
      },
      "needs 0 to 1000 milliseconds");
  add_number<std::size_t>(app, "--rate-memory", "N",
                          "remember the message rate of the last N identities to join\n"
                          "(default 65536), so reconnecting does not refill the limit",
                          out.rate_memory, [](std::size_t n) { return n > 0; }, "needs a positive number");
  add_number<double>(app, "--rate", "N", "messages per second per user (default 20; 0 = no limit)", out.rate,
                     [](double r) { return r >= 0; }, "needs a number >= 0");
  add_number<double>(app, "--burst", "N", "messages a user may send at once before --rate applies\n"
                     "(default 40)",
                     out.burst, [](double b) { return b >= 1; }, "needs a number >= 1");
  add_checked(app, "--keylog", "FILE",
              "append session keys to FILE for Wireshark (also\n"
              "NATTER_KEYLOGFILE); anyone with FILE can read the logged traffic",
              path(out.keylog), "needs a file name");
  app.add_flag_callback("--no-console", [&out] { out.console = false; },
                        "do not read operator commands from a terminal on stdin")
      ->disable_flag_override();
  add_checked(app, "--log-level", "LEVEL", "debug, info, warn, error or off (default info)",
              [&out](const std::string& v) { return parse_log_level(v, out.level); }, "debug, info, warn, error or off");
}

}  // namespace

std::filesystem::path default_state_dir() {
  if (const char* xdg = std::getenv("XDG_STATE_HOME"); xdg && *xdg) {
    return std::filesystem::path(xdg) / "natter-server";
  }
  if (const char* home = std::getenv("HOME"); home && *home) {
    return std::filesystem::path(home) / ".local" / "state" / "natter-server";
  }
  return "natter-state";
}

namespace {

enum class parsed { ok, help, version, error };

// Parses `words` (in order) into `out`; `message` gets the help, version or error text.
parsed parse_words(const std::vector<std::string>& words, server_options& out, std::string& message,
                   std::string* config_file = nullptr) {
  CLI::App app("", "natter-server");
  declare(app, out);
  std::string config;
  app.add_option("--config", config, "read options from a TOML file, keyed by their long names")->type_name("FILE");
  // CLI11 takes the words last first.
  std::vector<std::string> reversed(words.rbegin(), words.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    message = app.help();
    return parsed::help;
  } catch (const CLI::CallForVersion& version) {
    message = version.what();
    return parsed::version;
  } catch (const CLI::ParseError& error) {
    message = usage_message(error);
    return parsed::error;
  }
  if (config_file != nullptr) *config_file = config;
  return parsed::ok;
}

}  // namespace

parse_outcome parse_options(const std::vector<std::string>& args, server_options& out) {
  const auto usage = [](std::string message) {
    return parse_outcome{parse_outcome::action::exit_usage, std::move(message) + "\n(try --help)"};
  };
  std::string message;
  std::string config_path;
  server_options scratch = out;
  switch (parse_words(args, scratch, message, &config_path)) {
    case parsed::help:
    case parsed::version: return {parse_outcome::action::exit_ok, message};
    case parsed::error: return usage(message);
    case parsed::ok: break;
  }
  std::vector<std::string> words;
  if (!config_path.empty()) {
    const config_words file = read_config_words(config_path);
    if (!file.error.empty()) return usage(file.error);
    for (const auto& entry : file.entries) {
      // Each setting on its own first, so a refusal names the file's line and key.
      const std::string where = config_path + ":" + std::to_string(entry.line) + ": " + entry.key + ": ";
      if (entry.key == "config" || entry.key == "help" || entry.key == "version") {
        return usage(where + "not a setting (only on the command line)");
      }
      server_options trial;
      if (parse_words({entry.word}, trial, message) != parsed::ok) return usage(where + message);
      words.push_back(entry.word);
    }
  }
  // The file's words first: the last of a repeated option wins, so the command line does.
  words.insert(words.end(), args.begin(), args.end());
  if (parse_words(words, out, message) != parsed::ok) return usage(message);
  if (!out.keylog) {
    if (const char* env = std::getenv("NATTER_KEYLOGFILE"); env && *env) out.keylog = env;
  }
  if (out.state_dir.empty()) out.state_dir = default_state_dir();
  if (out.max_frame == 0) out.max_frame = limits::default_max_frame;
  if (out.queue_bytes == 0) out.queue_bytes = limits::default_queue_bytes;
  if (out.queue_messages == 0) out.queue_messages = limits::default_queue_messages;
  if (out.idle_timeout.count() == 0) out.idle_timeout = limits::default_idle_timeout;
  if (out.handshake_timeout.count() == 0) out.handshake_timeout = limits::handshake_timeout;
  return {};
}

}  // namespace natter::server
