#pragma once
// What a test can see of another process through /proc (Linux): resident memory and open file
// descriptors. Used to check that hostile input and churn leave no memory or fds behind.
#include <sys/types.h>

#include <cstddef>

namespace natter::test {

// VmRSS of `pid` in KiB (from /proc/PID/status), or 0 if it cannot be read.
[[nodiscard]] std::size_t resident_kib(pid_t pid);

// Number of entries in /proc/PID/fd, or 0 if it cannot be read.
[[nodiscard]] std::size_t open_fds(pid_t pid);

}  // namespace natter::test
