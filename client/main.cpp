// natter: the command-line chat client. Everything lives in natter_client; see app.hpp.
#include <sys/prctl.h>

#include "natter/client/app.hpp"

int main(int argc, char** argv) {
  // Not dumpable: no core file and no ptrace or /proc/PID/mem by other same-user processes, so
  // the identity and session keys in memory do not leak that way (docs/SECURITY.md "Files").
  (void)::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  return natter::client::run_app(argc, argv);
}
