#include "keyed_relay.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "loopback_socket.hpp"
#include "natter/crypto/e2e_base64.hpp"
#include "natter/crypto/e2e_chain.hpp"
#include "natter/crypto/keys.hpp"
#include "natter/crypto/session_cipher_v2.hpp"
#include "natter/frame.hpp"
#include "natter/limits.hpp"

namespace natter::test {

namespace {

// How long a connection waits for the server's key log line (written as the server splits).
constexpr auto keylog_wait = std::chrono::seconds(5);
// The connection id (the client's ephemeral key) inside frame 1, PROTOCOL.md §2.7.
constexpr std::size_t connection_id_offset = 8;
constexpr std::size_t connection_id_size = 32;


bool send_all(int fd, const std::uint8_t* data, std::size_t size) {
  for (std::size_t sent = 0; sent < size;) {
    const ssize_t w = ::send(fd, data + sent, size - sent, MSG_NOSIGNAL);
    if (w <= 0) return false;
    sent += static_cast<std::size_t>(w);
  }
  return true;
}

struct hop_keys {
  crypto::secret_key c2s, s2c;
};

// The server's key log line for connection `id_hex`, polled until it appears or keylog_wait.
std::optional<hop_keys> wait_for_keys(const std::filesystem::path& keylog, const std::string& id_hex) {
  const auto deadline = std::chrono::steady_clock::now() + keylog_wait;
  while (std::chrono::steady_clock::now() < deadline) {
    std::ifstream in(keylog);
    std::string tag, id, c2s, s2c;
    while (in >> tag >> id >> c2s >> s2c) {
      if (tag != "NATTER_V2_SESSION" || id != id_hex) continue;
      hop_keys k;
      if (!crypto::from_hex(c2s, {k.c2s.data(), crypto::key_size}) ||
          !crypto::from_hex(s2c, {k.s2c.data(), crypto::key_size})) {
        return std::nullopt;
      }
      return k;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return std::nullopt;
}

}  // namespace

struct keyed_relay::connection {
  int client = -1;
  int server = -1;
  frame_decoder up{limits::max_max_frame};
  frame_decoder down{limits::max_max_frame};
  std::size_t up_frames = 0;
  std::size_t down_frames = 0;
  std::string id_hex;
  std::string name;  // from the join, then the welcome
  // The server's side (opens what the client sends, seals what the relay sends it) and the
  // client's side (opens what the server sends).
  std::optional<crypto::session_cipher_v2> as_server;
  std::optional<crypto::session_cipher_v2> as_client;
};

keyed_relay::keyed_relay(std::uint16_t server_port, std::filesystem::path server_keylog)
    : server_port_(server_port), keylog_(std::move(server_keylog)) {
  attack_ = [](const std::string&, messages frame) { return std::vector<messages>{std::move(frame)}; };
  const auto listener = listen_loopback(16, "keyed_relay");
  listener_ = listener.fd;
  port_ = listener.port;
  if (::pipe(wake_) != 0) throw std::runtime_error("keyed_relay: pipe failed");
  acceptor_ = std::thread([this] { accept_loop(); });
}

keyed_relay::~keyed_relay() {
  // The wake pipe is never drained: once written, every poll below returns at once.
  const char byte = 0;
  (void)!::write(wake_[1], &byte, 1);
  acceptor_.join();
  for (auto& t : connections_) t.join();
  ::close(listener_);
  ::close(wake_[0]);
  ::close(wake_[1]);
}

void keyed_relay::set_attack(attack a) {
  std::lock_guard serial(attack_mutex_);  // the old attack is not running once this returns
  std::lock_guard lock(mutex_);
  attack_ = std::move(a);
}

keyed_relay::messages keyed_relay::sent_by(const std::string& name) const {
  std::lock_guard lock(mutex_);
  const auto it = sent_.find(name);
  return it == sent_.end() ? messages{} : it->second;
}

std::size_t keyed_relay::frames_resealed() const {
  std::lock_guard lock(mutex_);
  return resealed_;
}

std::vector<std::string> keyed_relay::problems() const {
  std::lock_guard lock(mutex_);
  return problems_;
}

void keyed_relay::record_problem(std::string what) {
  std::lock_guard lock(mutex_);
  problems_.push_back(std::move(what));
}

void keyed_relay::accept_loop() {
  while (true) {
    pollfd fds[2] = {{listener_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(fds, 2, 1000) < 0 || (fds[1].revents & POLLIN)) return;
    if (!(fds[0].revents & POLLIN)) continue;
    const int client = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (client < 0) continue;
    const int server = connect_loopback(server_port_);
    if (server < 0) {
      ::close(client);
      record_problem("cannot reach the server");
      continue;
    }
    std::lock_guard lock(mutex_);
    connections_.emplace_back([this, client, server] {
      serve(client, server);
      ::close(client);
      ::close(server);
    });
  }
}

void keyed_relay::serve(int client, int server) {
  connection c;
  c.client = client;
  c.server = server;
  // Keys are looked up once the connection id is known and the first session frame needs them.
  const auto have_keys = [&]() -> bool {
    if (c.as_server) return true;
    auto keys = wait_for_keys(keylog_, c.id_hex);
    if (!keys) {
      record_problem("no key log line for connection " + c.id_hex);
      return false;
    }
    c.as_server.emplace(crypto::e2e::copy_of(keys->s2c), crypto::e2e::copy_of(keys->c2s),
                        crypto::direction::server_to_client);
    c.as_client.emplace(std::move(keys->c2s), std::move(keys->s2c), crypto::direction::client_to_server);
    return true;
  };
  const auto parse = [&](const std::string& plaintext, bool& was_batch) -> std::optional<messages> {
    auto j = nlohmann::json::parse(plaintext, nullptr, false);
    if (j.is_discarded()) {
      record_problem("a plaintext that is not JSON on connection " + c.id_hex);
      return std::nullopt;
    }
    was_batch = j.is_array();
    if (!was_batch) return messages{std::move(j)};
    messages out;
    for (auto& m : j) out.push_back(std::move(m));
    return out;
  };

  // Client -> server: forwarded as it came; session frames opened on the side.
  const auto on_up = [&](const bytes& body) -> bool {
    const std::size_t index = c.up_frames++;
    if (index == 0) {
      if (body.size() < connection_id_offset + connection_id_size) return false;
      c.id_hex = crypto::to_hex({body.data() + connection_id_offset, connection_id_size});
      return true;
    }
    if (index == 1) return true;  // Noise message 3
    if (!have_keys()) return false;
    auto opened = c.as_server->open(body);
    if (opened.status != crypto::session_cipher_v2::open_status::ok) {
      record_problem("a client frame did not open: " + std::string(crypto::to_string(opened.status)));
      return false;
    }
    bool batch = false;
    auto ms = parse(opened.plaintext, batch);
    if (!ms) return false;
    std::lock_guard lock(mutex_);
    for (auto& m : *ms) {
      if (m.is_object() && m.value("type", "") == "join" && c.name.empty()) c.name = m.value("name", "");
      sent_[c.name].push_back(std::move(m));
    }
    return true;
  };

  // Server -> client: handshake frames as they came; session frames opened, attacked, sealed again.
  const auto on_down = [&](const bytes& body, bytes& out) -> bool {
    const std::size_t index = c.down_frames++;
    if (index < 2) {  // the server hello; Noise message 2 or a refusal
      append_frame_header(out, body.size());
      out.insert(out.end(), body.begin(), body.end());
      return true;
    }
    if (!have_keys()) return false;
    auto opened = c.as_client->open(body);
    if (opened.status != crypto::session_cipher_v2::open_status::ok) {
      record_problem("a server frame did not open: " + std::string(crypto::to_string(opened.status)));
      return false;
    }
    bool batch = false;
    auto ms = parse(opened.plaintext, batch);
    if (!ms) return false;
    for (const auto& m : *ms) {
      if (m.is_object() && m.value("type", "") == "welcome") c.name = m.value("name", c.name);
    }
    std::vector<messages> frames;
    {
      std::lock_guard serial(attack_mutex_);
      attack a;
      {
        std::lock_guard lock(mutex_);
        a = attack_;
      }
      frames = a(c.name, std::move(*ms));
    }
    for (auto& frame : frames) {
      if (frame.empty()) continue;
      const std::string plaintext =
          frame.size() == 1 && !batch ? frame.front().dump() : nlohmann::json(std::move(frame)).dump();
      if (c.as_server->exhausted()) return false;
      append_sealed_frame(*c.as_server, plaintext, out);
    }
    std::lock_guard lock(mutex_);
    ++resealed_;
    return true;
  };

  std::uint8_t buffer[65536];
  while (true) {
    pollfd fds[3] = {{client, POLLIN, 0}, {server, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (::poll(fds, 3, 1000) < 0 || (fds[2].revents & POLLIN)) return;
    if (fds[0].revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t n = ::recv(client, buffer, sizeof buffer, 0);
      if (n <= 0) return;
      if (!send_all(server, buffer, static_cast<std::size_t>(n))) return;
      c.up.feed({buffer, static_cast<std::size_t>(n)});
      bytes body;
      while (c.up.next(body) == decode_status::frame) {
        if (!on_up(body)) return;
      }
    }
    if (fds[1].revents & (POLLIN | POLLHUP | POLLERR)) {
      const ssize_t n = ::recv(server, buffer, sizeof buffer, 0);
      if (n <= 0) return;
      c.down.feed({buffer, static_cast<std::size_t>(n)});
      bytes body, out;
      while (c.down.next(body) == decode_status::frame) {
        if (!on_down(body, out)) return;
      }
      if (!out.empty() && !send_all(client, out.data(), out.size())) return;
    }
  }
}

bool is_e2e(const nlohmann::json& m, const std::string& kind, const std::string& from) {
  return m.is_object() && m.value("type", "") == "e2e" && m.value("kind", "") == kind &&
         (from.empty() || m.value("from", "") == from);
}

std::string flip_middle_byte(const std::string& base64_body) {
  auto raw = crypto::e2e::from_base64(base64_body);
  if (!raw || raw->empty()) throw std::runtime_error("flip_middle_byte: not a base64 body");
  (*raw)[raw->size() / 2] ^= 0x01;
  return crypto::e2e::to_base64(*raw);
}

}  // namespace natter::test
