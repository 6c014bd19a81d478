#include <sodium.h>
#include <time.h>

#include "natter/crypto/keys.hpp"
#include "scenarios.hpp"

namespace natter::bench {

void interval_meter::add_to(report& r, const std::string& what, double count) const {
  r.add("duration_s", wall_s_, 3);
  r.add(what + "_per_s", count / wall_s_);
  r.add("server_cpu_s", server_cpu_, 3);
  r.add("server_sys_s", server_sys_, 3);  // kernel part: mostly TCP send/receive
  r.add("server_cpu_utilisation", server_cpu_ / wall_s_, 2);
  if (server_cpu_ > 0) r.add(what + "_per_server_cpu_s", count / server_cpu_);
  r.add("bench_cpu_s", bench_cpu_, 3);
  // Near 1.0 (of its one thread) means the bench, not the server, limited the rate.
  r.add("bench_cpu_utilisation", bench_cpu_ / wall_s_, 2);
}

std::int64_t thread_cpu_ns() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<std::int64_t>(t.tv_sec) * 1'000'000'000 + t.tv_nsec;
}

std::string run_prefix() {
  std::uint8_t random[3];
  randombytes_buf(random, sizeof random);
  std::string prefix = "b";
  prefix += crypto::to_hex(random);
  return prefix;
}

}  // namespace natter::bench
