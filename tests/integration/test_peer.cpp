#include "test_peer.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>

#include "natter/frame.hpp"
#include "natter/message_build.hpp"

namespace natter::test {

crypto::identity_v2 copy_identity(const crypto::identity_v2& identity) {
  crypto::secret_bytes seed;
  std::copy_n(identity.seed().data(), crypto::secret_bytes::size(), seed.data());
  return crypto::identity_v2::from_seed(std::move(seed));
}

crypto::client_identity_v2 client_identity_of(const crypto::identity_v2& identity) {
  crypto::client_identity_v2 out;
  out.ed25519_public = identity.public_key();
  out.x25519.public_key_bytes = identity.x25519().public_key_bytes;
  std::copy_n(identity.x25519().secret.data(), crypto::secret_key::size(), out.x25519.secret.data());
  return out;
}

void session_key_recorder::on_session_keys(const crypto::public_key& connection_id,
                                           const crypto::secret_key& client_to_server,
                                           const crypto::secret_key& server_to_client) noexcept {
  ++calls;
  connection_id_hex = crypto::to_hex(connection_id);
  client_to_server_hex = crypto::to_hex(std::span(client_to_server.data(), crypto::key_size));
  server_to_client_hex = crypto::to_hex(std::span(server_to_client.data(), crypto::key_size));
}

test_peer::test_peer(std::uint16_t port) : test_peer(port, crypto::identity_v2::generate()) {}

test_peer::test_peer(std::uint16_t port, crypto::identity_v2 identity)
    : test_peer(port, std::move(identity), std::string()) {}

test_peer::test_peer(std::uint16_t port, const std::string& source_ip)
    : test_peer(port, crypto::identity_v2::generate(), source_ip) {}

test_peer::test_peer(std::uint16_t port, crypto::identity_v2 identity, const std::string& source_ip)
    : test_peer(port, std::optional<crypto::identity_v2>(std::move(identity)), std::nullopt, source_ip) {}

test_peer::test_peer(std::uint16_t port, raw_identity identity)
    : test_peer(port, std::nullopt, std::optional<crypto::client_identity_v2>(std::move(identity.keys)), std::string()) {}

test_peer::test_peer(std::uint16_t port, std::optional<crypto::identity_v2> identity,
                     std::optional<crypto::client_identity_v2> raw, const std::string& source_ip)
    : identity_(std::move(identity)),
      keys_(raw ? std::move(*raw) : client_identity_of(*identity_)),
      handshake_(crypto::handshake_v2::client(keys_, &recorder_)) {
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

const crypto::identity_v2& test_peer::identity() const {
  if (!identity_) throw std::logic_error("test_peer: a raw identity has no identity_v2");
  return *identity_;
}

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

bool test_peer::drive_handshake(bool stop_at_verdict) {
  using state = crypto::handshake_v2::state;
  bytes body;
  for (;;) {
    switch (handshake_.current()) {
      case state::established:
        return true;
      case state::failed:
        error_ = handshake_.error();
        return false;
      case state::awaiting_verdict:
        if (stop_at_verdict) return true;
        for (const auto& frame : handshake_.accept_peer_key()) send_raw(make_frame(frame));
        continue;
      default:
        break;
    }
    if (!read_frame(body, 3s)) {
      error_ = closed_ ? "connection closed during handshake" : "handshake timed out";
      return false;
    }
    for (const auto& frame : handshake_.on_frame(body)) send_raw(make_frame(frame));
  }
}

bool test_peer::read_server_hello() { return drive_handshake(true); }

bool test_peer::handshake() {
  if (cipher_) return true;
  if (!drive_handshake(false)) return false;
  auto keys = handshake_.take_keys();
  if (!keys) {
    error_ = "established without session keys";
    return false;
  }
  cipher_.emplace(std::move(keys->client_to_server), std::move(keys->server_to_client),
                  crypto::direction::client_to_server);
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
    if (!cipher_) {
      error_ = "a frame before the handshake was complete";
      return std::nullopt;
    }
    auto opened = cipher_->open(body);
    if (opened.status != crypto::session_cipher_v2::open_status::ok) {
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
