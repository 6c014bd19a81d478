#include "natter/server/options.hpp"

#include <charconv>
#include <cstdlib>

#include "natter/limits.hpp"

namespace natter::server {

namespace {

constexpr const char* usage_text =
    "usage: natter-server [options]\n"
    "\n"
    "Runs a natter chat server. Every frame is sealed with crypto_box; see docs/PROTOCOL.md.\n"
    "\n"
    "options:\n"
    "  --listen HOST          address to listen on (default 127.0.0.1; use :: or 0.0.0.0 for all)\n"
    "  --port N               TCP port (default 9900; 0 picks a free port)\n"
    "  --port-file FILE       write the port actually listened on to FILE\n"
    "  --state-dir DIR        server key and name registry (default $XDG_STATE_HOME/natter-server,\n"
    "                         or ~/.local/state/natter-server)\n"
    "  --fingerprint          print the server key's fingerprint and exit\n"
    "  --threads N            I/O threads (default: one per core)\n"
    "  --max-frame BYTES      largest frame accepted (default 65536)\n"
    "  --queue-bytes BYTES    outgoing backlog per client before it is cut off (default 1048576)\n"
    "  --queue-messages N     same, counted in messages (default 4096)\n"
    "  --idle-timeout SECONDS close connections silent this long (default 90)\n"
    "  --handshake-timeout SECONDS  time to finish handshake and join (default 10)\n"
    "  --max-connections N    connections in all (default 10000; 0 = no limit)\n"
    "  --max-per-address N    connections per client address (default 64; 0 = no limit)\n"
    "  --presence-delay MS    hold join/leave notices up to MS milliseconds so that many leave as\n"
    "                         one batch frame (default 20; 0 = send each at once)\n"
    "  --rate-memory N        remember the message rate of the last N identities to join\n"
    "                         (default 65536), so reconnecting does not refill the limit\n"    "  --rate N               messages per second per user (default 20; 0 = no limit)\n"
    "  --burst N              messages a user may send at once before --rate applies (default 40)\n"
    "  --keylog FILE          append session keys to FILE for Wireshark (also NATTER_KEYLOGFILE);\n"
    "                         anyone with FILE can read the logged traffic\n"
    "  --no-console           do not read operator commands from a terminal on stdin\n"
    "  --log-level LEVEL      debug, info, warn, error or off (default info)\n"
    "  --help, --version\n"
    "\n"
    "console commands (when stdin is a terminal): users, kick NAME [reason], stop, help\n";

template <typename T>
bool parse_number(const std::string& text, T& out) {
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
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

parse_outcome parse_options(const std::vector<std::string>& args, server_options& out) {
  const auto usage = [](std::string message) {
    return parse_outcome{parse_outcome::action::exit_usage, std::move(message) + "\n(try --help)"};
  };
  for (std::size_t i = 0; i < args.size(); ++i) {
    const std::string& arg = args[i];
    const auto value = [&](std::string& into) {
      if (i + 1 >= args.size()) return false;
      into = args[++i];
      return true;
    };
    std::string v;
    if (arg == "--help" || arg == "-h") return {parse_outcome::action::exit_ok, usage_text};
    if (arg == "--version") return {parse_outcome::action::exit_ok, "natter-server 0.1.0 (protocol 2)"};
    if (arg == "--fingerprint") { out.print_fingerprint = true; continue; }
    if (arg == "--no-console") { out.console = false; continue; }
    if (!value(v)) return usage("unknown option or missing value: " + arg);
    double seconds = 0;
    if (arg == "--listen") out.host = v;
    else if (arg == "--port") { if (!parse_number(v, out.port)) return usage("--port needs a number 0-65535"); }
    else if (arg == "--port-file") out.port_file = v;
    else if (arg == "--state-dir") out.state_dir = v;
    else if (arg == "--threads") { if (!parse_number(v, out.threads)) return usage("--threads needs a number"); }
    else if (arg == "--max-frame") {
      if (!parse_number(v, out.max_frame) || out.max_frame < limits::min_max_frame || out.max_frame > limits::max_max_frame) {
        return usage("--max-frame must be between " + std::to_string(limits::min_max_frame) + " and " +
                     std::to_string(limits::max_max_frame));
      }
    }
    else if (arg == "--queue-bytes") { if (!parse_number(v, out.queue_bytes) || out.queue_bytes < 8192) return usage("--queue-bytes needs a number >= 8192"); }
    else if (arg == "--queue-messages") { if (!parse_number(v, out.queue_messages) || out.queue_messages < 16) return usage("--queue-messages needs a number >= 16"); }
    else if (arg == "--idle-timeout" || arg == "--handshake-timeout") {
      if (!parse_number(v, seconds) || seconds <= 0) return usage(arg + " needs a positive number of seconds");
      (arg == "--idle-timeout" ? out.idle_timeout : out.handshake_timeout) =
          std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
    }
    else if (arg == "--max-connections") { if (!parse_number(v, out.max_connections)) return usage("--max-connections needs a number"); }
    else if (arg == "--presence-delay") {
      unsigned milliseconds = 0;
      if (!parse_number(v, milliseconds) || milliseconds > 1000) return usage("--presence-delay needs 0 to 1000 milliseconds");
      out.presence_delay = std::chrono::milliseconds(milliseconds);
    }
    else if (arg == "--rate-memory") {
      if (!parse_number(v, out.rate_memory) || out.rate_memory == 0) return usage("--rate-memory needs a positive number");
    }
    else if (arg == "--max-per-address") { if (!parse_number(v, out.max_per_address)) return usage("--max-per-address needs a number"); }
    else if (arg == "--rate") { if (!parse_number(v, out.rate) || out.rate < 0) return usage("--rate needs a number >= 0"); }
    else if (arg == "--burst") { if (!parse_number(v, out.burst) || out.burst < 1) return usage("--burst needs a number >= 1"); }
    else if (arg == "--keylog") out.keylog = v;
    else if (arg == "--log-level") { if (!parse_log_level(v, out.level)) return usage("--log-level: debug, info, warn, error or off"); }
    else return usage("unknown option: " + arg);
  }
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
