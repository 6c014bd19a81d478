#pragma once
// Command-line options of natter-bench. Every scenario is bounded: by a message or connection
// count and by --timeout, so a run always ends by itself.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace natter::bench {

struct bench_options {
  // fanout, whispers, handshakes, idle, e2e-client, key-distribution, join-storm, none
  std::vector<std::string> scenarios{"fanout"};
  // Server: started by the bench unless --connect is given.
  std::string server_bin;                  // default: the natter-server built next to the bench
  std::optional<std::uint16_t> connect_port;  // use a running server on 127.0.0.1:PORT
  std::optional<int> server_pid;           // its pid, for CPU and memory figures (--connect only)
  int server_threads = 0;                  // 0: 1 when --server-cpu is given, else the server default
  std::optional<int> server_cpu;
  std::optional<int> bench_cpu;
  std::vector<std::string> server_args;    // extra arguments (--server-arg X, repeatable)
  // Traffic scenarios.
  std::size_t receivers = 100;
  std::size_t senders = 4;
  std::size_t pairs = 100;
  std::size_t messages = 2000;             // per sender
  std::size_t size = 200;                  // text bytes per message
  bool e2e = false;                        // fan-out and whispers send end-to-end bodies
  double rate = 0;                         // messages sent per second in all; 0 = closed loop
  std::size_t window = 128;                // closed loop: messages a receiver may lag behind
  // Handshakes.
  std::size_t handshakes = 5000;
  std::size_t identities = 1000;           // returning users: names registered in a warm-up
  std::size_t concurrency = 32;
  // Idle scale.
  std::size_t idle = 10000;
  double hold_s = 0;                       // keep the idle connections open this long (inspection)
  // End-to-end client side.
  std::size_t iterations = 20000;          // e2e-client: operations timed per figure (KK: 1/20 of it)
  std::size_t members = 1000;              // key-distribution: room members, the new sender included
  // Join storm.
  std::size_t users = 1000;                // connections started at once
  // Raw limit.
  bool raw = true;
  bool raw_quick = false;                  // a short raw run (tests)
  double timeout_s = 120;                  // per scenario
  bool check = false;                      // exit 1 unless counts are right (tests)
  std::string command_line;
};

struct parse_result {
  bool ok = true;
  bool exit_now = false;
  std::string message;
};

[[nodiscard]] parse_result parse_bench_options(int argc, char** argv, bench_options& out);

}  // namespace natter::bench
