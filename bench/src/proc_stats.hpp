#pragma once
// What /proc says about a process: CPU seconds (utime + stime) and resident memory. Used for the
// server's cost per delivered message and its memory per connection.
#include <sys/types.h>

#include <cstdint>

namespace natter::bench {

struct cpu_times {
  double user = -1;    // utime of all threads, seconds; -1 if the process is gone
  double system = -1;  // stime
  [[nodiscard]] double total() const { return user + system; }
};
[[nodiscard]] cpu_times process_cpu_times(pid_t pid);
// utime + stime of all threads, in seconds; -1 if the process is gone.
[[nodiscard]] inline double process_cpu_seconds(pid_t pid) {
  const cpu_times t = process_cpu_times(pid);
  return t.user < 0 ? -1 : t.total();
}
// VmRSS in bytes; -1 if unknown.
[[nodiscard]] std::int64_t process_rss_bytes(pid_t pid);
// This process's own CPU time (all threads), in seconds.
[[nodiscard]] double own_cpu_seconds();
// Raises RLIMIT_NOFILE to the hard limit; returns the new soft limit.
std::uint64_t raise_fd_limit();
// Pins the calling thread (and children forked later) to `cpu`. False on failure.
bool pin_to_cpu(pid_t pid, int cpu);

}  // namespace natter::bench
