#include "natter/server/heap_policy.hpp"

#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace natter::server {

void heap_policy::start() {
#ifdef __GLIBC__
  ::mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
  ::mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
#endif
  schedule_trim();
}

void heap_policy::stop() { timer_.cancel(); }

void heap_policy::schedule_trim() {
  timer_.expires_after(trim_interval);
  timer_.async_wait([this](std::error_code ec) {
    if (ec) return;  // cancelled by stop()
#ifdef __GLIBC__
    ::malloc_trim(0);
#endif
    schedule_trim();
  });
}

}  // namespace natter::server
