#include "recording_proxy.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

#include "loopback_socket.hpp"

namespace natter::test {

recording_proxy::recording_proxy(std::uint16_t target_port) : target_port_(target_port) {
  const auto listener = listen_loopback(4, "recording_proxy");
  listener_ = listener.fd;
  port_ = listener.port;
  if (::pipe(wake_) != 0) throw std::runtime_error("recording_proxy: pipe failed");
  thread_ = std::thread([this] { run(); });
}

recording_proxy::~recording_proxy() {
  stopping_ = true;
  const char byte = 0;
  (void)!::write(wake_[1], &byte, 1);
  thread_.join();
  ::close(listener_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

std::string recording_proxy::to_server() const {
  std::lock_guard lock(mutex_);
  return to_server_;
}

std::string recording_proxy::to_client() const {
  std::lock_guard lock(mutex_);
  return to_client_;
}

void recording_proxy::run() {
  while (!stopping_) {
    pollfd fds[2] = {{listener_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(fds, 2, 1000) <= 0 || (fds[1].revents & POLLIN)) continue;
    const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    const int server = connect_loopback(target_port_);
    if (server >= 0) relay(client, server);
    ::close(client);
    if (server >= 0) ::close(server);
  }
}

void recording_proxy::relay(int client, int server) {
  char buffer[65536];
  while (!stopping_) {
    pollfd fds[3] = {{client, POLLIN, 0}, {server, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(fds, 3, 1000) < 0) return;
    if (fds[2].revents & POLLIN) return;
    for (int i = 0; i < 2; ++i) {
      if (!(fds[i].revents & (POLLIN | POLLHUP | POLLERR))) continue;
      const ssize_t n = ::recv(fds[i].fd, buffer, sizeof buffer, 0);
      if (n <= 0) return;
      {
        std::lock_guard lock(mutex_);
        (i == 0 ? to_server_ : to_client_).append(buffer, static_cast<std::size_t>(n));
      }
      const int out = i == 0 ? server : client;
      for (ssize_t sent = 0; sent < n;) {
        const ssize_t w = ::send(out, buffer + sent, static_cast<std::size_t>(n - sent), MSG_NOSIGNAL);
        if (w <= 0) return;
        sent += w;
      }
    }
  }
}

}  // namespace natter::test
