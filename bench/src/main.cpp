// natter-bench: parse options, measure the raw limit, run each scenario against a fresh server
// (or a given one), print a table and one JSON line per scenario. See docs/PERFORMANCE.md.
#include <arpa/inet.h>
#include <signal.h>

#include <filesystem>
#include <iostream>

#include "bench_options.hpp"
#include "natter/crypto/keys.hpp"
#include "proc_stats.hpp"
#include "scenarios.hpp"
#include "server_launcher.hpp"

using namespace natter::bench;

namespace {

std::string default_server_binary(const char* argv0) {
  // Built next to the bench: <build>/bench/natter-bench and <build>/server/natter-server.
  const auto beside = std::filesystem::path(argv0).parent_path() / ".." / "server" / "natter-server";
  if (std::filesystem::exists(beside)) return beside.lexically_normal().string();
  return NATTER_SERVER_BIN;
}

report run_scenario(const std::string& name, const bench_options& options, const target& server) {
  if (name == "fanout") return run_fanout(options, server);
  if (name == "whispers") return run_whispers(options, server);
  if (name == "handshakes") return run_handshakes(options, server);
  if (name == "idle") return run_idle(options, server);
  if (name == "key-distribution") return run_key_distribution(options, server);
  if (name == "join-storm") return run_join_storm(options, server);
  report r;
  r.scenario = name;
  r.ok = false;
  r.problem = "unknown scenario";
  return r;
}

}  // namespace

int main(int argc, char** argv) {
  bench_options options;
  const auto parsed = parse_bench_options(argc, argv, options);
  if (parsed.exit_now) {
    (parsed.ok ? std::cout : std::cerr) << parsed.message;
    return parsed.ok ? 0 : 2;
  }
  ::signal(SIGPIPE, SIG_IGN);
  natter::crypto::init_sodium();
  if (options.server_bin.empty()) options.server_bin = default_server_binary(argv[0]);
  const auto fd_limit = raise_fd_limit();  // the server inherits it
  if (options.bench_cpu && !pin_to_cpu(0, *options.bench_cpu)) std::cerr << "natter-bench: cannot pin to a core\n";
  std::cout << "command: " << options.command_line << "\nfile descriptor limit: " << fd_limit << "\n";

  bool all_ok = true;
  raw_limits raw;
  if (options.raw || options.raw_quick) {
    const report r = run_raw(options, raw);
    print_report(r, options.command_line);
    all_ok = all_ok && r.ok;
  }
  for (const auto& name : options.scenarios) {
    if (name == "none") continue;
    if (name == "e2e-client") {  // the client's own work: no server
      const report r = run_e2e_client(options);
      print_report(r, options.command_line);
      all_ok = all_ok && r.ok;
      continue;
    }
    try {
      std::optional<server_launcher> launched;
      target server;
      server.raw = raw;
      server.address.sin_family = AF_INET;
      server.address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (options.connect_port) {
        server.address.sin_port = htons(*options.connect_port);
        server.pid = options.server_pid.value_or(-1);
      } else {
        launch_settings settings;
        settings.binary = options.server_bin;
        settings.threads = options.server_threads ? options.server_threads : (options.server_cpu ? 1 : 0);
        settings.cpu = options.server_cpu;
        settings.extra = options.server_args;
        if (name == "idle") {
          // Joining 10 000 users takes longer than the default 90 s idle timeout (every join is
          // announced to everyone online); the first ones must still be there at the end.
          settings.extra.insert(settings.extra.begin(), {"--idle-timeout", "900"});
        }
        if (name == "key-distribution") {
          // Its room is joined before the clock starts, 128 at a time; the first must still be
          // there when the last has joined. (join-storm keeps the server's own 10 s handshake
          // timeout: whether a storm finishes within it is part of what it measures.)
          settings.extra.insert(settings.extra.begin(), {"--idle-timeout", "900"});
        }
        launched.emplace(settings);
        server.address.sin_port = htons(launched->port());
        server.pid = launched->pid();
      }
      report r = run_scenario(name, options, server);
      if (!r.ok && launched) r.problem += "; server log tail: " + launched->log_tail(600);
      print_report(r, options.command_line);
      all_ok = all_ok && r.ok;
    } catch (const std::exception& error) {
      std::cerr << "natter-bench: " << name << ": " << error.what() << "\n";
      all_ok = false;
    }
  }
  return options.check && !all_ok ? 1 : 0;
}
