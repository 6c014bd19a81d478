#include "test_peer.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

#include "natter/frame.hpp"
#include "natter/message_build.hpp"

namespace natter::test {

test_peer::test_peer(std::uint16_t port) : test_peer(port, crypto::key_pair::generate()) {}

test_peer::test_peer(std::uint16_t port, crypto::key_pair identity) : test_peer(port, std::move(identity), {}) {}

test_peer::test_peer(std::uint16_t port, const std::string& source_ip)
    : test_peer(port, crypto::key_pair::generate(), source_ip) {}

test_peer::test_peer(std::uint16_t port, crypto::key_pair identity, const std::string& source_ip)
    : identity_(std::move(identity)), handshake_(crypto::role::client, identity_, nullptr, &session_key_) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (!source_ip.empty()) {
    sockaddr_in source{};
    source.sin_family = AF_INET;
    if (::inet_pton(AF_INET, source_ip.c_str(), &source.sin_addr) != 1 ||
        ::bind(fd_, reinterpret_cast<sockaddr*>(&source), sizeof source) != 0) {
      ::close(fd_);
      throw std::runtime_error("test_peer: cannot bind to " + source_ip);
    }
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    ::close(fd_);  // the destructor does not run for a constructor that throws
    throw std::runtime_error("test_peer: cannot connect to 127.0.0.1:" + std::to_string(port));
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

test_peer::~test_peer() { close_now(); }

void test_peer::close_now() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void test_peer::shrink_receive_buffer() {
  int size = 4096;
  ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
}

void test_peer::send_raw(std::span<const std::uint8_t> data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;  // the server may have closed on us; tests check for that
    sent += static_cast<std::size_t>(n);
  }
}

bool test_peer::fill(std::chrono::milliseconds timeout) {
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return false;
  std::uint8_t buffer[65536];
  const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
  if (n <= 0) {  // EOF or reset: either way the server is gone
    closed_ = true;
    return false;
  }
  decoder_.feed(std::span(buffer, static_cast<std::size_t>(n)));
  return true;
}

bool test_peer::read_frame(bytes& body, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto status = decoder_.next(body);
    if (status == decode_status::frame) {
      raw_frames_.push_back(body);
      return true;
    }
    if (status != decode_status::need_more || closed_) return false;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0 || !fill(left)) return false;
  }
}

bool test_peer::handshake() {
  bytes body;
  while (handshake_.current() != crypto::handshake::state::established) {
    if (handshake_.current() == crypto::handshake::state::failed) {
      error_ = handshake_.error();
      return false;
    }
    if (!read_frame(body, 3s)) {
      error_ = closed_ ? "connection closed during handshake" : "handshake timed out";
      return false;
    }
    for (const auto& frame : handshake_.on_frame(body)) send_raw(make_frame(frame));
    if (handshake_.current() == crypto::handshake::state::awaiting_verdict) {
      for (const auto& frame : handshake_.accept_peer_key()) send_raw(make_frame(frame));
    }
  }
  cipher_.emplace(handshake_.take_cipher());
  return true;
}

bool test_peer::join(const std::string& name) {
  if (!cipher_ && !handshake()) return false;
  send(join_request{name, next_ref()});
  auto answer = wait_for([](const server_message& m) {
    return std::holds_alternative<welcome_event>(m) || std::holds_alternative<error_event>(m);
  });
  if (!answer) return false;
  if (const auto* e = std::get_if<error_event>(&*answer)) {
    error_ = e->code + ": " + e->message;
    return false;
  }
  return true;
}

bytes test_peer::send(const client_message& message) { return send_json(build(message)); }

bytes test_peer::send_json(std::string_view plaintext) {
  bytes wire;
  natter::append_sealed_frame(*cipher_, plaintext, wire);
  send_raw(wire);
  return wire;
}

std::optional<server_message> test_peer::next(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (inbox_.empty()) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    bytes body;
    if (left.count() <= 0 || !read_frame(body, left)) return std::nullopt;
    auto opened = cipher_->open(body);
    if (opened.status != crypto::open_status::ok) {
      error_ = std::string(crypto::to_string(opened.status));
      return std::nullopt;
    }
    for (auto& item : parse_server_frame(opened.plaintext)) {
      if (auto* m = std::get_if<server_message>(&item)) inbox_.push_back(std::move(*m));
    }
  }
  auto m = std::move(inbox_.front());
  inbox_.pop_front();
  return m;
}

std::optional<server_message> test_peer::wait_for(const std::function<bool(const server_message&)>& match,
                                                  std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    auto m = next(left);
    if (!m) return std::nullopt;
    if (match(*m)) return m;
  }
}

std::vector<bytes> test_peer::buffered_frames() {
  std::vector<bytes> frames;
  bytes body;
  while (decoder_.next(body) == decode_status::frame) frames.push_back(body);
  return frames;
}

bool test_peer::wait_closed(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!closed_) {
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    if (!fill(left) && !closed_) return false;
  }
  return true;
}

}  // namespace natter::test
