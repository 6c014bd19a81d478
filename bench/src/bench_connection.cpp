#include "bench_connection.hpp"

#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <stdexcept>
#include <system_error>

#include "natter/frame.hpp"
#include "natter/message_build.hpp"
#include "natter/message_parse.hpp"

namespace natter::bench {

namespace {

// Reads land here; only an incomplete frame is copied into the connection.
constexpr std::size_t read_chunk = 256 * 1024;
// Larger than any frame the server sends (64 KiB by default, PROTOCOL.md §1).
constexpr std::size_t max_frame = 16 * 1024 * 1024;

std::uint8_t* read_scratch() {
  static std::vector<std::uint8_t> buffer(read_chunk);
  return buffer.data();
}

std::string& plaintext_scratch() {
  static std::string buffer;
  return buffer;
}

bool contains(std::string_view text, std::string_view what) { return text.find(what) != std::string_view::npos; }

}  // namespace

bench_connection::bench_connection(event_loop& loop, connection_events& events, std::size_t index)
    : loop_(loop), events_(events), index_(index) {}

bench_connection::~bench_connection() {
  if (fd_ >= 0) ::close(fd_);
}

void bench_connection::open_socket(const sockaddr_in& server) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw std::system_error(errno, std::generic_category(), "socket");
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  started_ns_ = mono_ns();
  state_ = state::connecting;
  if (::connect(fd_, reinterpret_cast<const sockaddr*>(&server), sizeof server) != 0 && errno != EINPROGRESS) {
    const int error = errno;
    ::close(fd_);
    fd_ = -1;
    throw std::system_error(error, std::generic_category(), "connect");
  }
  loop_.add(fd_, this);
}

void bench_connection::start_session(const sockaddr_in& server, const crypto::identity_v2& identity, std::string name) {
  name_ = std::move(name);
  session_ = std::make_unique<client::client_session>(identity, client::session_settings{name_, false});
  open_socket(server);
}

void bench_connection::start_lean(const sockaddr_in& server, const crypto::identity_v2& identity, std::string name) {
  name_ = std::move(name);
  lean_.emplace(crypto::handshake_v2::client(identity));
  open_socket(server);
}

void bench_connection::on_io(std::uint32_t events) {
  if (state_ == state::closed) return;
  if (state_ == state::connecting && (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
    int error = 0;
    socklen_t len = sizeof error;
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &len);
    if (error) return fail(std::string("connect: ") + std::strerror(error));
    state_ = state::handshaking;
  }
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) on_readable();
  if (state_ != state::closed && (events & EPOLLOUT)) flush();
}

void bench_connection::on_readable() {
  std::uint8_t* buffer = read_scratch();
  while (state_ != state::closed) {
    const ssize_t n = ::read(fd_, buffer, read_chunk);
    if (n > 0) {
      bytes_read_ += static_cast<std::uint64_t>(n);
      consume(buffer, static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;
    if (n < 0 && errno == EINTR) continue;
    return fail(n == 0 ? "server closed the connection" : std::strerror(errno));
  }
}

void bench_connection::consume(const std::uint8_t* data, std::size_t size) {
  if (partial_.empty()) {
    const std::size_t used = process(data, size);
    if (state_ != state::closed) partial_.assign(data + used, data + size);
    return;
  }
  partial_.insert(partial_.end(), data, data + size);
  const std::size_t used = process(partial_.data(), partial_.size());
  if (state_ != state::closed) partial_.erase(partial_.begin(), partial_.begin() + static_cast<std::ptrdiff_t>(used));
  if (partial_.empty() && partial_.capacity() > 64 * 1024) partial_ = std::vector<std::uint8_t>{};
}

std::size_t bench_connection::process(const std::uint8_t* data, std::size_t size) {
  std::size_t pos = 0;
  while (state_ != state::closed && size - pos >= frame_header_size) {
    const std::size_t body = (std::size_t{data[pos]} << 24) | (std::size_t{data[pos + 1]} << 16) |
                             (std::size_t{data[pos + 2]} << 8) | data[pos + 3];
    if (body == 0 || body > max_frame) {
      fail("bad frame length from the server");
      break;
    }
    if (size - pos - frame_header_size < body) break;
    on_frame(std::span(data + pos + frame_header_size, body));
    pos += frame_header_size + body;
  }
  return pos;
}

void bench_connection::on_frame(std::span<const std::uint8_t> body) {
  if (cipher_) {
    std::string& text = plaintext_scratch();
    if (const auto opened = cipher_->open_into(body, text); opened.status != crypto::session_cipher_v2::open_status::ok) {
      return fail("a session frame did not open: " + std::string(crypto::to_string(opened.status)));
    }
    on_plaintext(text);
  } else if (session_) {
    on_session_handshake_frame(body);
  } else if (lean_) {
    on_lean_handshake_frame(body);
  }
}

void bench_connection::on_session_handshake_frame(std::span<const std::uint8_t> body) {
  session_->on_frame(body);
  if (session_->current() == client::client_session::phase::awaiting_verdict) session_->accept_server_key();
  take_session_output();
  for (auto& event : session_->take_events()) {
    if (const auto* failure = std::get_if<client::failure_event>(&event)) return fail(failure->message);
    if (const auto* message = std::get_if<server_message>(&event)) {
      if (const auto* error = std::get_if<error_event>(message)) return fail(error->code + ": " + error->message);
      if (std::holds_alternative<presence_event>(*message)) events_.on_presence(*this);
    }
  }
  if (session_->current() != client::client_session::phase::joined) return;
  // Joined: continue the session's counters in the fast cipher from here on.
  cipher_.emplace(session_->release_cipher());
  session_.reset();
  state_ = state::joined;
  events_.on_joined(*this);
}

void bench_connection::take_session_output() {
  const bytes output = session_->take_output();
  if (output.empty()) return;
  out_.insert(out_.end(), output.begin(), output.end());
  flush();
}

void bench_connection::on_lean_handshake_frame(std::span<const std::uint8_t> body) {
  // The server hello (the key is taken as offered: the bench trusts its own server), then
  // Noise message 2; handshake_v2 answers with the client hello + message 1, then message 3.
  auto replies = lean_->on_frame(body);
  if (lean_->current() == crypto::handshake_v2::state::awaiting_verdict) replies = lean_->accept_peer_key();
  if (lean_->current() == crypto::handshake_v2::state::failed) {
    return fail(lean_->refused_unauthenticated() ? "refused: " + lean_->refusal_text() : lean_->error());
  }
  for (const auto& frame : replies) {
    append_frame_header(out_, frame.size());
    out_.insert(out_.end(), frame.begin(), frame.end());
  }
  if (lean_->current() == crypto::handshake_v2::state::established) {
    auto keys = lean_->take_keys();
    if (!keys) return fail("handshake established without session keys");
    cipher_.emplace(std::move(keys->client_to_server), std::move(keys->server_to_client),
                    crypto::direction::client_to_server);
    lean_.reset();
    natter::append_sealed_frame(*cipher_, build(client_message{join_request{name_, 1}}), out_);
  }
  flush();
}

void bench_connection::on_plaintext(std::string_view text) {
  if (state_ != state::joined) {
    // Lean mode, waiting for the answer to our join.
    if (contains(text, "\"type\":\"welcome\"")) {
      state_ = state::joined;
      events_.on_joined(*this);
    } else if (contains(text, "\"type\":\"error\"")) {
      fail(std::string(text.substr(0, 200)));
    }
    return;
  }
  // One pass for the bench's chat messages, one for the other types of interest.
  constexpr std::string_view chat_key = "\"text\":\"nb ";
  for (std::size_t at = text.find(chat_key); at != std::string_view::npos; at = text.find(chat_key, at)) {
    at += chat_key.size();
    std::int64_t sent_ns = 0;
    std::from_chars(text.data() + at, text.data() + text.size(), sent_ns);
    events_.on_chat(*this, sent_ns);
  }
  constexpr std::string_view type_key = "\"type\":\"";
  for (std::size_t at = text.find(type_key); at != std::string_view::npos; at = text.find(type_key, at)) {
    at += type_key.size();
    const std::string_view type = text.substr(at, 8);
    if (type.starts_with("ack\"")) events_.on_ack(*this);
    else if (type.starts_with("e2e\"")) events_.on_e2e(*this);
    else if (type.starts_with("presence")) events_.on_presence(*this);
    else if (type.starts_with("pong\"")) events_.on_pong(*this);
    else if (type.starts_with("error\"") || type.starts_with("bye\"")) {
      const std::size_t from = at > 200 ? at - 200 : 0;
      return fail(std::string(text.substr(from, 400)));
    }
  }
  if (parse_e2e_ && state_ == state::joined && contains(text, "\"type\":\"e2e\"")) {
    for (const auto& item : parse_server_frame(text)) {
      const auto* message = std::get_if<server_message>(&item);
      const auto* event = message ? std::get_if<e2e_event>(message) : nullptr;
      if (event) events_.on_e2e_event(*this, *event);
      if (state_ != state::joined) return;
    }
  }
}

void bench_connection::say(std::string_view text) {
  natter::append_sealed_frame(*cipher_, build(client_message{say_request{std::string(text), std::nullopt}}), out_);
}

void bench_connection::whisper(std::string_view to, std::string_view text) {
  natter::append_sealed_frame(*cipher_, build(client_message{whisper_request{std::string(to), std::string(text), std::nullopt}}), out_);
}

void bench_connection::send_e2e(std::string_view kind, std::string_view to, std::string_view body_base64) {
  natter::append_sealed_frame(
      *cipher_, build(client_message{e2e_request{std::string(kind), std::string(to), std::string(body_base64), std::nullopt}}),
      out_);
}

void bench_connection::ping() { natter::append_sealed_frame(*cipher_, build(client_message{ping_request{1}}), out_); }

void bench_connection::flush() {
  if (state_ == state::closed || state_ == state::connecting) return;
  while (out_pos_ < out_.size()) {
    const ssize_t n = ::write(fd_, out_.data() + out_pos_, out_.size() - out_pos_);
    if (n > 0) {
      out_pos_ += static_cast<std::size_t>(n);
      bytes_written_ += static_cast<std::uint64_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return;  // EPOLLOUT resumes
    return fail(std::string("write: ") + std::strerror(errno));
  }
  out_.clear();
  out_pos_ = 0;
  if (out_.capacity() > 64 * 1024) out_ = std::vector<std::uint8_t>{};
}

void bench_connection::close() {
  if (state_ == state::closed) return;
  state_ = state::closed;
  if (fd_ >= 0) ::close(fd_);  // also leaves the epoll set
  fd_ = -1;
  // partial_ may be the buffer being parsed right now (close() from a callback): freed later.
  out_ = std::vector<std::uint8_t>{};
  session_.reset();
  lean_.reset();
}

void bench_connection::fail(std::string_view why) {
  if (state_ == state::closed) return;
  close();
  events_.on_failed(*this, why);
}

}  // namespace natter::bench
