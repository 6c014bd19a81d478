#pragma once
// What /proc says about a process: CPU seconds (utime + stime) and resident memory. Used for the
// server's cost per delivered message and its memory per connection.
#include <sys/types.h>

#include <cstdint>

namespace natter::bench {

// utime + stime of all threads, in seconds; -1 if the process is gone.
[[nodiscard]] double process_cpu_seconds(pid_t pid);
// VmRSS in bytes; -1 if unknown.
[[nodiscard]] std::int64_t process_rss_bytes(pid_t pid);
// This process's own CPU time (all threads), in seconds.
[[nodiscard]] double own_cpu_seconds();
// Raises RLIMIT_NOFILE to the hard limit; returns the new soft limit.
std::uint64_t raise_fd_limit();
// Pins the calling thread (and children forked later) to `cpu`. False on failure.
bool pin_to_cpu(pid_t pid, int cpu);

}  // namespace natter::bench
