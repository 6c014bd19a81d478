#include "loopback_socket.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>
#include <string>

namespace natter::test {

loopback_listener listen_loopback(int backlog, const char* who) {
  loopback_listener out;
  out.fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (out.fd < 0 || ::bind(out.fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 ||
      ::listen(out.fd, backlog) != 0) {
    if (out.fd >= 0) ::close(out.fd);
    throw std::runtime_error(std::string(who) + ": cannot listen");
  }
  socklen_t length = sizeof address;
  ::getsockname(out.fd, reinterpret_cast<sockaddr*>(&address), &length);
  out.port = ntohs(address.sin_port);
  return out;
}

int connect_loopback(std::uint16_t port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

}  // namespace natter::test
