#include "bench_options.hpp"

#include <charconv>
#include <sstream>

namespace natter::bench {

namespace {

constexpr const char* usage_text =
    "usage: natter-bench [options]\n"
    "  --scenario LIST       fanout,whispers,handshakes,idle,e2e-client,key-distribution,\n"
    "                        join-storm,none (default fanout)\n"
    "  --server PATH         natter-server binary (default: the one built with the bench)\n"
    "  --connect PORT        use a running server on 127.0.0.1:PORT instead of starting one\n"
    "  --server-pid PID      with --connect: its pid, for CPU and memory figures\n"
    "  --server-threads N    server --threads (default 1 with --server-cpu)\n"
    "  --server-cpu N        pin the server to core N\n"
    "  --bench-cpu N         pin the bench to core N\n"
    "  --server-arg ARG      pass ARG to the server (repeatable)\n"
    "  --receivers R         fan-out receivers (default 100)\n"
    "  --senders S           fan-out senders (default 4); each message reaches R+S-1 users\n"
    "  --pairs P             whisper pairs (default 100)\n"
    "  --messages M          messages per sender (default 2000)\n"
    "  --size B              text bytes per message (default 200)\n"
    "  --e2e                 fan-out and whispers send end-to-end bodies, sealed for real by the\n"
    "                        senders (a sender key per fan-out sender, a pairwise session per\n"
    "                        whisper pair); receivers count envelopes (no latency: the send time\n"
    "                        is inside the sealed body)\n"
    "  --rate N              messages sent per second in all (open loop); 0 = closed loop (default)\n"
    "  --window W            closed loop: messages a receiver may lag behind (default 128)\n"
    "  --handshakes N        measured handshakes (default 5000)\n"
    "  --identities N        distinct client keys and names, registered in a warm-up (default 1000)\n"
    "  --concurrency C       handshakes in flight (default 32)\n"
    "  --idle K              idle joined connections (default 10000)\n"
    "  --hold S              idle: keep the connections open S more seconds (to inspect the server)\n"
    "  --iterations N        e2e-client: operations timed per figure (default 20000; KK setups\n"
    "                        N/20); no server is started for it\n"
    "  --members N           key-distribution: room size, the new sender included (default 1000)\n"
    "  --users N             join-storm: connections that handshake and join at once (default 1000)\n"
    "  --no-raw              skip the raw crypto + loopback limit\n"
    "  --raw-quick           a short raw measurement\n"
    "  --timeout S           per scenario (default 120)\n"
    "  --check               exit 1 unless every count is right\n";

template <typename T>
bool number(const std::string& text, T& out) {
  if constexpr (std::is_floating_point_v<T>) {
    try {
      std::size_t used = 0;
      out = static_cast<T>(std::stod(text, &used));
      return used == text.size();
    } catch (...) {
      return false;
    }
  } else {
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
    return ec == std::errc() && end == text.data() + text.size();
  }
}

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out;
  std::stringstream in(list);
  for (std::string item; std::getline(in, item, ',');) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace

parse_result parse_bench_options(int argc, char** argv, bench_options& out) {
  for (int i = 0; i < argc; ++i) {
    if (i) out.command_line += ' ';
    out.command_line += argv[i];
  }
  const auto bad = [](std::string why) { return parse_result{false, true, why + "\n" + usage_text}; };
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") return {true, true, usage_text};
    if (arg == "--no-raw") { out.raw = false; continue; }
    if (arg == "--raw-quick") { out.raw_quick = true; continue; }
    if (arg == "--check") { out.check = true; continue; }
    if (arg == "--e2e") { out.e2e = true; continue; }
    if (i + 1 >= argc) return bad("missing value for " + arg);
    const std::string v = argv[++i];
    bool ok = true;
    if (arg == "--scenario") out.scenarios = split(v);
    else if (arg == "--server") out.server_bin = v;
    else if (arg == "--connect") { std::uint16_t p = 0; ok = number(v, p); out.connect_port = p; }
    else if (arg == "--server-pid") { int p = 0; ok = number(v, p); out.server_pid = p; }
    else if (arg == "--server-threads") ok = number(v, out.server_threads);
    else if (arg == "--server-cpu") { int c = 0; ok = number(v, c); out.server_cpu = c; }
    else if (arg == "--bench-cpu") { int c = 0; ok = number(v, c); out.bench_cpu = c; }
    else if (arg == "--server-arg") out.server_args.push_back(v);
    else if (arg == "--receivers") ok = number(v, out.receivers);
    else if (arg == "--senders") ok = number(v, out.senders) && out.senders > 0;
    else if (arg == "--pairs") ok = number(v, out.pairs) && out.pairs > 0;
    else if (arg == "--messages") ok = number(v, out.messages) && out.messages > 0;
    else if (arg == "--size") ok = number(v, out.size) && out.size >= 48 && out.size <= 4096;
    else if (arg == "--rate") ok = number(v, out.rate) && out.rate >= 0;
    else if (arg == "--window") ok = number(v, out.window) && out.window > 0;
    else if (arg == "--handshakes") ok = number(v, out.handshakes) && out.handshakes > 0;
    else if (arg == "--identities") ok = number(v, out.identities) && out.identities > 0;
    else if (arg == "--concurrency") ok = number(v, out.concurrency) && out.concurrency > 0;
    else if (arg == "--idle") ok = number(v, out.idle) && out.idle > 0;
    else if (arg == "--iterations") ok = number(v, out.iterations) && out.iterations >= 20;
    else if (arg == "--members") ok = number(v, out.members) && out.members >= 2;
    else if (arg == "--users") ok = number(v, out.users) && out.users >= 2;
    else if (arg == "--hold") ok = number(v, out.hold_s) && out.hold_s >= 0 && out.hold_s <= 3600;
    else if (arg == "--timeout") ok = number(v, out.timeout_s) && out.timeout_s > 0;
    else return bad("unknown option " + arg);
    if (!ok) return bad("bad value for " + arg + ": " + v);
  }
  if (out.concurrency >= out.identities && out.identities < out.handshakes) {
    return bad("--concurrency must be below --identities (a name is reused only after its connection ended)");
  }
  return {};
}

}  // namespace natter::bench
