#pragma once
// The scenarios natter-bench runs against a server, and the raw limit it compares them with.
#include <netinet/in.h>
#include <sys/types.h>

#include <cstdint>
#include <string>

#include "bench_options.hpp"
#include "event_loop.hpp"
#include "proc_stats.hpp"
#include "report.hpp"

namespace natter::bench {

struct raw_limits {
  double seal_batch_writev_per_cpu_s = 0;  // one frame per message, frames written with writev
  double batch_frame_per_cpu_s = 0;        // 64 messages per frame (like a server batch)
};

struct target {
  sockaddr_in address{};
  pid_t pid = -1;  // -1: unknown (no CPU or memory figures)
  raw_limits raw;
};

// Wall time, server CPU and bench CPU over a measured interval.
class interval_meter {
 public:
  explicit interval_meter(pid_t server) : server_(server) {}
  void start() {
    wall_ns_ = mono_ns();
    server_start_ = server_ > 0 ? process_cpu_times(server_) : cpu_times{};
    bench_cpu_ = own_cpu_seconds();
  }
  void stop() {
    wall_s_ = static_cast<double>(mono_ns() - wall_ns_) / 1e9;
    const cpu_times end = server_ > 0 ? process_cpu_times(server_) : cpu_times{};
    server_cpu_ = server_ > 0 ? end.total() - server_start_.total() : -1;
    server_sys_ = server_ > 0 ? end.system - server_start_.system : -1;
    bench_cpu_ = own_cpu_seconds() - bench_cpu_;
  }
  [[nodiscard]] double wall_s() const { return wall_s_; }
  [[nodiscard]] double server_cpu_s() const { return server_cpu_; }
  [[nodiscard]] double bench_cpu_s() const { return bench_cpu_; }
  // Adds wall time, both CPU figures and `count` per second / per server CPU-second.
  void add_to(report& r, const std::string& what, double count) const;

 private:
  pid_t server_;
  std::int64_t wall_ns_ = 0;
  cpu_times server_start_;
  double wall_s_ = 0, server_cpu_ = 0, server_sys_ = 0, bench_cpu_ = 0;
};

[[nodiscard]] report run_fanout(const bench_options& options, const target& server);
[[nodiscard]] report run_whispers(const bench_options& options, const target& server);
[[nodiscard]] report run_handshakes(const bench_options& options, const target& server);
[[nodiscard]] report run_idle(const bench_options& options, const target& server);
// Client-side end-to-end costs (no server): seal/open per message, KK setup, body overhead.
[[nodiscard]] report run_e2e_client(const bench_options& options);
// A new sender in a room of --members: until every member can read it.
[[nodiscard]] report run_key_distribution(const bench_options& options, const target& server);
// --users connections handshaking and joining at once.
[[nodiscard]] report run_join_storm(const bench_options& options, const target& server);
[[nodiscard]] report run_raw(const bench_options& options, raw_limits& out);

// CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID), nanoseconds.
[[nodiscard]] std::int64_t thread_cpu_ns();

// A short random prefix for names, so that runs against one server do not collide.
[[nodiscard]] std::string run_prefix();

}  // namespace natter::bench
