// The raw limit of this machine for what the server does per delivered message: seal it with
// crypto_box_easy_afternm under a precomputed key and write it to a loopback TCP socket. The
// writer runs on one thread (on --server-cpu if given) and its thread CPU time is what counts;
// a reader thread (on --bench-cpu) drains the socket without decrypting.
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sodium.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <stdexcept>
#include <thread>

#include "natter/message_build.hpp"
#include "scenarios.hpp"

namespace natter::bench {

namespace {

constexpr std::size_t frames_per_batch = 64;

double thread_cpu_s() {
  timespec t{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

// Calls `op` until `seconds` of wall time pass; returns calls per second.
template <typename Op>
double per_second(double seconds, Op op) {
  const std::int64_t start = mono_ns();
  const std::int64_t end = start + static_cast<std::int64_t>(seconds * 1e9);
  std::size_t calls = 0;
  do {
    for (int i = 0; i < 16; ++i) op();
    calls += 16;
  } while (mono_ns() < end);
  return static_cast<double>(calls) * 1e9 / static_cast<double>(mono_ns() - start);
}

// A connected loopback TCP pair (writer, reader).
std::pair<int, int> loopback_pair() {
  const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof address;
  if (::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0 || ::listen(listener, 1) != 0 ||
      ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &len) != 0) {
    throw std::runtime_error("raw limit: cannot listen on 127.0.0.1");
  }
  const int writer = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (::connect(writer, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0) {
    throw std::runtime_error("raw limit: cannot connect on 127.0.0.1");
  }
  const int reader = ::accept(listener, nullptr, nullptr);
  ::close(listener);
  const int one = 1;
  ::setsockopt(writer, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return {writer, reader};
}

enum class write_mode { writev_frames, write_per_frame, batch_frame };

// Messages per writer CPU-second (and per wall second) for one way of sealing and writing.
std::pair<double, double> seal_and_send(write_mode mode, const std::string& message, double seconds,
                                        const bench_options& options) {
  auto [writer, reader] = loopback_pair();
  std::thread drain([fd = reader, &options] {
    if (options.bench_cpu) pin_to_cpu(0, *options.bench_cpu);
    std::vector<std::uint8_t> buffer(256 * 1024);
    while (::read(fd, buffer.data(), buffer.size()) > 0) {
    }
    ::close(fd);
  });
  std::uint8_t key[crypto_box_BEFORENMBYTES];
  randombytes_buf(key, sizeof key);
  std::uint8_t nonce[crypto_box_NONCEBYTES] = {2};
  std::uint64_t counter = 0;
  const std::size_t frame_size = 4 + crypto_box_NONCEBYTES + crypto_box_MACBYTES + message.size();
  std::vector<std::uint8_t> out(frames_per_batch * frame_size + 64);
  std::vector<iovec> iov(frames_per_batch);
  std::string batch_plaintext = "[";
  for (std::size_t i = 0; i < frames_per_batch; ++i) {
    if (i) batch_plaintext += ',';
    batch_plaintext += message;
  }
  batch_plaintext += "]";

  const auto seal_into = [&](std::uint8_t* p, const std::string& plaintext) {
    const std::size_t body = crypto_box_NONCEBYTES + crypto_box_MACBYTES + plaintext.size();
    p[0] = static_cast<std::uint8_t>(body >> 24);
    p[1] = static_cast<std::uint8_t>(body >> 16);
    p[2] = static_cast<std::uint8_t>(body >> 8);
    p[3] = static_cast<std::uint8_t>(body);
    ++counter;
    for (int i = 0; i < 8; ++i) nonce[16 + i] = static_cast<std::uint8_t>(counter >> (56 - 8 * i));
    std::copy(nonce, nonce + sizeof nonce, p + 4);
    crypto_box_easy_afternm(p + 4 + sizeof nonce, reinterpret_cast<const unsigned char*>(plaintext.data()),
                            plaintext.size(), nonce, key);
    return 4 + body;
  };
  const auto write_all = [&](const std::uint8_t* p, std::size_t n) {
    while (n > 0) {
      const ssize_t w = ::write(writer, p, n);
      if (w <= 0) throw std::runtime_error("raw limit: write failed");
      p += w;
      n -= static_cast<std::size_t>(w);
    }
  };

  if (options.server_cpu) pin_to_cpu(0, *options.server_cpu);
  const double cpu_start = thread_cpu_s();
  const std::int64_t start = mono_ns();
  const std::int64_t end = start + static_cast<std::int64_t>(seconds * 1e9);
  std::size_t messages = 0;
  while (mono_ns() < end) {
    if (mode == write_mode::batch_frame) {
      write_all(out.data(), seal_into(out.data(), batch_plaintext));
    } else {
      std::size_t offset = 0;
      for (std::size_t i = 0; i < frames_per_batch; ++i) {
        const std::size_t n = seal_into(out.data() + offset, message);
        if (mode == write_mode::write_per_frame) {
          write_all(out.data() + offset, n);
        } else {
          iov[i] = {out.data() + offset, n};
          offset += n;
        }
      }
      if (mode == write_mode::writev_frames) {
        // One writev per batch; short writes (rare with a draining reader) finish with write().
        const ssize_t w = ::writev(writer, iov.data(), static_cast<int>(iov.size()));
        if (w < 0) throw std::runtime_error("raw limit: writev failed");
        if (static_cast<std::size_t>(w) < offset) write_all(out.data() + w, offset - static_cast<std::size_t>(w));
      }
    }
    messages += frames_per_batch;
  }
  const double cpu = thread_cpu_s() - cpu_start;
  const double wall = static_cast<double>(mono_ns() - start) / 1e9;
  ::shutdown(writer, SHUT_WR);
  ::close(writer);
  drain.join();
  return {static_cast<double>(messages) / cpu, static_cast<double>(messages) / wall};
}

}  // namespace

report run_raw(const bench_options& options, raw_limits& out) {
  report r;
  r.scenario = "raw_limit";
  const double t = options.raw_quick ? 0.05 : 1.0;
  std::uint8_t pk[32], sk[32], key[32];
  crypto_box_keypair(pk, sk);
  r.add("box_beforenm_per_s", per_second(t, [&] { if (crypto_box_beforenm(key, pk, sk) != 0) throw std::runtime_error("beforenm failed"); }));
  std::vector<std::uint8_t> in(16384), sealed(16384 + crypto_box_MACBYTES);
  std::uint8_t nonce[crypto_box_NONCEBYTES] = {};
  r.add("seal_256B_per_s", per_second(t, [&] { crypto_box_easy_afternm(sealed.data(), in.data(), 256, nonce, key); }));
  r.add("seal_16KiB_per_s", per_second(t, [&] { crypto_box_easy_afternm(sealed.data(), in.data(), 16384, nonce, key); }));
  // A chat message as the server sends it: the JSON of a `message` event with a text of --size.
  chat_event event;
  event.id = 123456;
  event.ts_ms = 1764000000000;
  event.from = "b0a1b2s0";
  event.text = "nb 1 ";
  event.text.resize(options.size, 'x');
  const std::string message = build(server_message{event});
  r.add("message_plaintext_bytes", static_cast<double>(message.size()));
  // Each measurement on a thread of its own, so that pinning it leaves the main thread alone.
  const auto measure = [&](write_mode mode) {
    std::pair<double, double> result;
    std::thread([&] { result = seal_and_send(mode, message, t, options); }).join();
    return result;
  };
  const auto [writev_cpu, writev_wall] = measure(write_mode::writev_frames);
  const auto [write_cpu, write_wall] = measure(write_mode::write_per_frame);
  const auto [batch_cpu, batch_wall] = measure(write_mode::batch_frame);
  r.add("frame_per_message_writev64_per_cpu_s", writev_cpu);
  r.add("frame_per_message_writev64_per_s", writev_wall);
  r.add("frame_per_message_write_each_per_cpu_s", write_cpu);
  r.add("frame_per_message_write_each_per_s", write_wall);
  r.add("batch64_frame_write_per_cpu_s", batch_cpu);
  r.add("batch64_frame_write_per_s", batch_wall);
  out.seal_batch_writev_per_cpu_s = writev_cpu;
  out.batch_frame_per_cpu_s = batch_cpu;
  return r;
}

}  // namespace natter::bench
