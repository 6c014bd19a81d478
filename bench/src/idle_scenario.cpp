// Idle scale: K connections joined and idle; the server's resident memory per connection
// (VmRSS delta / connections). A first group of connections warms the server's allocator and
// per-thread buffers; the delta is taken from there to all K, after every connection has been
// synchronised (no deliveries in flight) and has stayed idle for a moment.
#include <iostream>
#include <thread>

#include "crowd.hpp"
#include "scenarios.hpp"

namespace natter::bench {

namespace {

class idle_run final : public crowd {
 public:
  using crowd::crowd;
  void on_chat(bench_connection&, std::int64_t) override {}
};

}  // namespace

report run_idle(const bench_options& options, const target& server) {
  report r;
  r.scenario = "idle";
  const std::string prefix = run_prefix();
  std::vector<std::string> names;
  for (std::size_t i = 0; i < options.idle; ++i) names.push_back(prefix + "i" + std::to_string(i));
  idle_run run(server.address, std::move(names));
  const std::size_t warm = std::max<std::size_t>(1, std::min<std::size_t>(100, options.idle / 10));
  const std::int64_t deadline = mono_ns() + static_cast<std::int64_t>(options.timeout_s * 1e9);
  // The server returns freed heap to the system every 5 s (malloc_trim); at scale, wait for it
  // so that RSS shows what the connections hold, not the high-water mark of the joins.
  const auto settle = [&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(options.idle >= 1000 ? 6000 : 300));
  };

  const std::int64_t rss_start = server.pid > 0 ? process_rss_bytes(server.pid) : -1;
  bool ok = run.join(0, warm, 256, deadline) && run.sync(deadline);
  settle();
  const std::int64_t rss_warm = server.pid > 0 ? process_rss_bytes(server.pid) : -1;
  interval_meter meter(server.pid);  // the joins after the warm group
  meter.start();
  ok = ok && run.join(warm, options.idle, 256, deadline) && run.sync(deadline);
  meter.stop();
  settle();
  const std::int64_t rss_all = server.pid > 0 ? process_rss_bytes(server.pid) : -1;

  r.add("connections", static_cast<double>(options.idle));
  r.add("warm_connections", static_cast<double>(warm));
  meter.add_to(r, "joins", static_cast<double>(options.idle - warm));
  if (server.pid > 0 && options.idle > warm) {
    r.add("server_rss_start_kib", static_cast<double>(rss_start) / 1024);
    r.add("server_rss_warm_kib", static_cast<double>(rss_warm) / 1024);
    r.add("server_rss_all_kib", static_cast<double>(rss_all) / 1024);
    r.add("server_rss_per_connection_bytes",
          static_cast<double>(rss_all - rss_warm) / static_cast<double>(options.idle - warm));
  }
  if (!ok) {
    r.ok = false;
    r.problem = run.problem();
  }
  if (options.hold_s > 0) {
    std::cout << "holding " << options.idle << " connections for " << options.hold_s << " s (server pid "
              << server.pid << ")" << std::endl;
    std::this_thread::sleep_for(std::chrono::duration<double>(options.hold_s));
  }
  run.close_all();
  return r;
}

}  // namespace natter::bench
