// natter_wire_poke: a real natter protocol 2 client with deliberately awkward TCP writes, for
// the live Wireshark test (live_capture_test.sh). It uses natter's own v2 handshake
// (crypto::handshake_v2) and session cipher (session_cipher_v2) and message builder
// (natter_common), so the server sees a genuine v2 client; only the way the bytes are cut into
// writes is unusual. It pins nothing (it is a test tool: any server key is accepted), and its
// identity is a fresh Ed25519 seed on every run.
//
//   0. server hello; the client hello + Noise message 1 in one write; message 2; message 3
//      split across two writes (the cut inside the encrypted static key);
//   1. join (session C→S #1) split into 1-byte writes for its first 6 bytes, 30 ms apart, so
//      the cuts fall inside the length prefix and the nonce; then the rest in one write;
//   2. say #2 + whisper #3 + the first 10 bytes of say #4 in one write, then 50 ms later the rest
//      of #4 + ping #5 in one write (coalesced frames, and a segment holding the end of one frame
//      and a whole frame after it);
//   3. say #6 with one byte of its MAC flipped. The server must close the connection.
//
//   natter_wire_poke --port N [--host 127.0.0.1] [--name poke] [--to bob] [--keylog FILE]
//                    [--secret TEXT]
//
// stdout: "fingerprint FP" (its v2 fingerprint), "client-static HEX" and "client-ed25519 HEX"
// (its keys, which must appear nowhere in a capture), "server-fingerprint FP", "local-port N",
// "connection-id HEX", "tampered-text TEXT" and one "[trace] ..." line per frame, in the format
// of `natter --trace`. --keylog appends the NATTER_V2_SESSION line (docs/PROTOCOL.md).
// Exit 0 if everything happened as planned (including the server closing after the tampered
// frame), 1 otherwise. Every wait is bounded (5 s).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <set>
#include <span>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "natter/crypto/handshake_v2.hpp"
#include "natter/crypto/keys.hpp"
#include "natter/crypto/session_cipher_v2.hpp"
#include "natter/frame.hpp"
#include "natter/message_build.hpp"
#include "v2_identity.hpp"

namespace {

using namespace std::chrono_literals;
namespace cr = natter::crypto;
using natter::bytes;

struct options {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string name = "poke";
  std::string to = "bob";
  std::string keylog;
  std::string secret = "poke tampered text, never readable";
};

[[noreturn]] void die(const std::string& why) {
  std::cout << "error " << why << std::endl;
  std::cerr << "natter_wire_poke: " << why << "\n";
  std::exit(1);
}

// A fresh identity v2 on every run: a random Ed25519 seed (v2_identity.hpp says why not
// identity_v2::generate()).
cr::client_identity_v2 fresh_identity() {
  cr::secret_key seed;
  cr::random_bytes(std::span(seed.data(), seed.size()));
  return natter::tools::identity_from_seed(seed);
}

// The key log, when asked for: told the keys once, right after split(); appends the v2 line.
class keylog_v2 final : public cr::handshake_v2_observer {
 public:
  explicit keylog_v2(std::string path) : path_(std::move(path)) {}
  void on_session_keys(const cr::public_key& id, const cr::secret_key& c2s,
                       const cr::secret_key& s2c) noexcept override {
    std::ofstream out(path_, std::ios::app);
    out << "NATTER_V2_SESSION " << cr::to_hex(id) << ' ' << cr::to_hex(std::span(c2s.data(), c2s.size())) << ' '
        << cr::to_hex(std::span(s2c.data(), s2c.size())) << '\n';
    if (!out) std::cerr << "natter_wire_poke: cannot append to the key log " << path_ << "\n";
  }

 private:
  std::string path_;
};

class poke {
 public:
  explicit poke(const options& o) : identity_(fresh_identity()), decoder_(65536) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) die("socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(o.port));
    if (::inet_pton(AF_INET, o.host.c_str(), &addr.sin_addr) != 1) die("bad host " + o.host);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      die("cannot connect: " + std::string(std::strerror(errno)));
    }
    int one = 1;  // every write leaves as its own segment
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    sockaddr_in local{};
    socklen_t len = sizeof local;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&local), &len);
    std::cout << "fingerprint " << natter::tools::user_fingerprint(natter::tools::ed25519_bytes(identity_.ed25519_public)) << "\n"
              << "client-static " << cr::to_hex(identity_.x25519.public_key_bytes) << "\n"
              << "client-ed25519 " << cr::to_hex(natter::tools::ed25519_bytes(identity_.ed25519_public)) << "\n"
              << "local-port " << ntohs(local.sin_port) << std::endl;
  }
  ~poke() { ::close(fd_); }
  poke(const poke&) = delete;
  poke& operator=(const poke&) = delete;

  void handshake(const options& o) {
    std::unique_ptr<keylog_v2> keylog;
    if (!o.keylog.empty()) keylog = std::make_unique<keylog_v2>(o.keylog);
    auto hs = cr::handshake_v2::client(identity_, keylog.get());
    using st = cr::handshake_v2::state;
    bytes body;
    if (!read_frame(body)) die("no server hello");
    trace_in(body, "server hello");
    if (!hs.on_frame(body).empty() || hs.current() != st::awaiting_verdict) die("handshake: " + hs.error());
    // No pin check: a test tool talks to whatever server it is pointed at.
    std::cout << "server-fingerprint " << natter::tools::server_fingerprint(hs.peer_key()) << "\n";
    auto frames = hs.accept_peer_key();
    if (frames.size() != 1) die("handshake: no client hello to send: " + hs.error());
    bytes out;
    trace_out(frames[0].size(), "client hello + message 1");
    append_frame(out, frames[0]);
    write_all(out);

    if (!read_frame(body)) die("no handshake message 2 (a refusal ends the stream)");
    trace_in(body, "message 2");
    frames = hs.on_frame(body);
    if (frames.size() != 1 || hs.current() != st::established) die("handshake: " + hs.error());
    trace_out(frames[0].size(), "message 3");
    out.clear();
    append_frame(out, frames[0]);
    // Cut inside the encrypted static key: the server must reassemble message 3.
    const auto cut = static_cast<long>(natter::frame_header_size + 20);
    write_all(bytes(out.begin(), out.begin() + cut));
    std::this_thread::sleep_for(30ms);
    write_all(bytes(out.begin() + cut, out.end()));

    auto keys = hs.take_keys();
    if (!keys) die("handshake: no session keys");
    cipher_.emplace(std::move(keys->client_to_server), std::move(keys->server_to_client),
                    cr::direction::client_to_server);
    std::cout << "connection-id " << cr::to_hex(hs.connection_id()) << std::endl;
  }

  void run(const options& o) {
    // 1. join, cut into 1-byte writes inside the length prefix and the nonce.
    bytes join = seal(natter::build(natter::client_message{natter::join_request{o.name, 1}}));
    for (std::size_t i = 0; i < 6; ++i) {
      write_all(bytes(join.begin() + static_cast<long>(i), join.begin() + static_cast<long>(i) + 1));
      std::this_thread::sleep_for(30ms);
    }
    write_all(bytes(join.begin() + 6, join.end()));
    pump([&] { return welcomed_; });

    // 2. coalesced frames, and a frame cut across two writes.
    bytes first = seal(natter::build(natter::client_message{
        natter::say_request{"poke: two frames and a bit in one segment", 2}}));
    append(first, seal(natter::build(natter::client_message{
                      natter::whisper_request{o.to, "poke: a whisper for " + o.to, 3}})));
    bytes cut = seal(natter::build(natter::client_message{
        natter::say_request{"poke: a frame cut across two segments, h\u00e9llo \u2603", 4}}));
    append(first, bytes(cut.begin(), cut.begin() + 10));
    bytes second(cut.begin() + 10, cut.end());
    append(second, seal(natter::build(natter::client_message{natter::ping_request{5}})));
    write_all(first);
    std::this_thread::sleep_for(50ms);
    write_all(second);
    pump([&] { return answered_.count(2) && answered_.count(3) && answered_.count(4) && answered_.count(5); });

    // 3. a tampered frame: one MAC byte flipped. The server must close the connection.
    const std::string secret = natter::build(natter::client_message{natter::say_request{o.secret, 6}});
    bytes bad = seal(secret, "MAC byte flipped, the server must close:");
    bad[natter::frame_header_size + cr::nonce_size] ^= 0x01;
    std::cout << "tampered-text " << o.secret << std::endl;
    write_all(bad);
    pump([] { return false; });
    if (!eof_) die("the server did not close the connection after the tampered frame");
    std::cout << "closed-by-server (expected after the tampered frame)" << std::endl;
  }

 private:
  static void append(bytes& out, const bytes& more) { out.insert(out.end(), more.begin(), more.end()); }
  static void append_frame(bytes& out, const bytes& body) {
    natter::append_frame_header(out, body.size());
    append(out, body);
  }

  void write_all(const bytes& data) {
    std::size_t done = 0;
    while (done < data.size()) {
      const ssize_t n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n <= 0) die("write failed: " + std::string(std::strerror(errno)));
      done += static_cast<std::size_t>(n);
    }
  }

  // Reads until one frame is complete; false at end of stream or after 5 s.
  bool read_frame(bytes& body) {
    const auto deadline = std::chrono::steady_clock::now() + 5s;
    for (;;) {
      switch (decoder_.next(body)) {
        case natter::decode_status::frame: return true;
        case natter::decode_status::need_more: break;
        default: die("bad frame from the server");
      }
      if (eof_) return false;
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left <= 0ms) return false;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
      std::uint8_t buffer[4096];
      const ssize_t n = ::recv(fd_, buffer, sizeof buffer, 0);
      if (n <= 0) {
        eof_ = true;
      } else {
        decoder_.feed(std::span(buffer, static_cast<std::size_t>(n)));
      }
    }
  }

  // Reads and opens session frames until `done` or end of stream (at most 5 s per frame).
  void pump(const std::function<bool()>& done) {
    bytes body;
    while (!done()) {
      if (!read_frame(body)) {
        if (eof_) return;
        die("timed out waiting for the server");
      }
      ++frames_received_;
      auto opened = cipher_->open(body);
      if (opened.status != cr::session_cipher_v2::open_status::ok) {
        die("a server frame did not open: " + std::string(cr::to_string(opened.status)));
      }
      std::cout << "[trace] <- recv frame " << frames_received_ << " len=" << body.size()
                << " Session S→C #" << opened.counter
                << " ciphertext=" << body.size() - cr::session_cipher_v2::header_size << " " << opened.plaintext
                << std::endl;
      auto json = nlohmann::json::parse(opened.plaintext, nullptr, false);
      if (!json.is_array()) json = nlohmann::json::array({json});
      for (const auto& m : json) {
        if (!m.is_object()) continue;
        const auto type = m.value("type", std::string());
        if (type == "welcome") welcomed_ = true;
        if ((type == "ack" || type == "pong") && m.contains("ref") && m["ref"].is_number_unsigned()) {
          answered_.insert(m["ref"].get<std::uint64_t>());
        }
        if (type == "error") die("the server answered with an error: " + m.dump());
      }
    }
  }

  bytes seal(const std::string& plaintext, const std::string& note = "") {
    bytes out;
    natter::append_sealed_frame(*cipher_, plaintext, out);
    ++frames_sent_;
    const std::size_t length = out.size() - natter::frame_header_size;
    std::cout << "[trace] -> sent frame " << frames_sent_ << " len=" << length << " Session C→S #"
              << cipher_->frames_sent() << " ciphertext=" << length - cr::session_cipher_v2::header_size << " "
              << (note.empty() ? "" : note + " ") << plaintext << std::endl;
    return out;
  }

  void trace_out(std::size_t length, const char* label) {
    ++frames_sent_;
    std::cout << "[trace] -> sent frame " << frames_sent_ << " len=" << length << " " << label << "\n";
  }
  void trace_in(const bytes& body, const char* label) {
    ++frames_received_;
    std::cout << "[trace] <- recv frame " << frames_received_ << " len=" << body.size() << " " << label
              << "\n";
  }

  cr::client_identity_v2 identity_;
  natter::frame_decoder decoder_;
  int fd_ = -1;
  bool eof_ = false;
  bool welcomed_ = false;
  std::set<std::uint64_t> answered_;
  std::optional<cr::session_cipher_v2> cipher_;
  std::uint64_t frames_sent_ = 0;
  std::uint64_t frames_received_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value for " + arg);
      return argv[++i];
    };
    if (arg == "--host") o.host = value();
    else if (arg == "--port") o.port = std::stoi(value());
    else if (arg == "--name") o.name = value();
    else if (arg == "--to") o.to = value();
    else if (arg == "--keylog") o.keylog = value();
    else if (arg == "--secret") o.secret = value();
    else die("unknown argument " + arg + " (see the header of wire_poke.cpp)");
  }
  if (o.port <= 0) die("--port is required");
  try {
    cr::init_sodium();
    poke p(o);
    p.handshake(o);
    p.run(o);
  } catch (const std::exception& e) {
    die(e.what());
  }
  return 0;
}
