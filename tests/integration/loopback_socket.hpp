#pragma once
// Plain loopback sockets for the test relays (recording_proxy, keyed_relay), which sit between
// real clients and a real server and need nothing of Asio: a listener on 127.0.0.1 with a port
// the system picks, and a blocking connect to a loopback port.
#include <cstdint>

namespace natter::test {

struct loopback_listener {
  int fd = -1;
  std::uint16_t port = 0;
};

// Listens on 127.0.0.1, port 0. Throws std::runtime_error("WHO: cannot listen") on failure.
[[nodiscard]] loopback_listener listen_loopback(int backlog, const char* who);

// A connected socket to 127.0.0.1:port, or -1.
[[nodiscard]] int connect_loopback(std::uint16_t port);

}  // namespace natter::test
