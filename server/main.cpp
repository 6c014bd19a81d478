// natter-server: parse options, run. Everything else lives in natter_server_io (I/O, lifecycle) and
// natter_server_core (what the server decides, no Asio).
#include <sys/prctl.h>

#include <iostream>
#include <vector>

#include "natter/crypto/keys.hpp"
#include "natter/server/options.hpp"
#include "natter/server/server.hpp"

int main(int argc, char** argv) {
  // Not dumpable: no core file and no ptrace or /proc/PID/mem by other same-user processes, so
  // the server key and session keys in memory do not leak that way (docs/SECURITY.md "Files").
  (void)::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  using namespace natter::server;
  server_options options;
  const auto outcome = parse_options(std::vector<std::string>(argv + 1, argv + argc), options);
  if (outcome.what == parse_outcome::action::exit_ok) {
    std::cout << outcome.message << "\n";
    return 0;
  }
  if (outcome.what == parse_outcome::action::exit_usage) {
    std::cerr << "natter-server: " << outcome.message << "\n";
    return 2;
  }
  logger::set_level(options.level);
  try {
    natter::crypto::init_sodium();
    server instance(options);
    if (options.print_fingerprint) {
      std::cout << instance.fingerprint() << "\n";
      return 0;
    }
    instance.run();
    return 0;
  } catch (const std::exception& error) {
    std::cerr << "natter-server: " << error.what() << "\n";
    return 1;
  }
}
