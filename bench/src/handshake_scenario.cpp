// Handshakes: new connections per second until joined (welcome received), with `concurrency`
// in flight. The clients are returning users: `identities` distinct keys whose names a warm-up
// registers first (that warm-up is reported too: it includes the name registry's inserts). The
// identities (identity_v2: an Ed25519 seed and its X25519 form) are generated before the clock
// starts; each connection does only what a client must (bench_connection's lean mode: hello,
// Noise messages 1 to 3, join), and the server all of its own (PROTOCOL.md, the handshake).
#include <optional>
#include <stdexcept>

#include "bench_connection.hpp"
#include "latency.hpp"
#include "natter/crypto/identity_v2.hpp"
#include "scenarios.hpp"

namespace natter::bench {

namespace {

struct identity {
  std::optional<crypto::identity_v2> keys;  // generated before the clock starts
  std::string name;
};

class handshake_run final : public connection_events {
 public:
  handshake_run(const bench_options& options, const target& server) : options_(options), server_(server) {}

  report run();

  void on_joined(bench_connection& c) override {
    latency_->add(mono_ns() - c.started_ns());
    ++joined_;
    c.close();  // the server sees the end of stream and lets the user leave
  }
  void on_chat(bench_connection&, std::int64_t) override {}
  void on_failed(bench_connection& c, std::string_view why) override {
    if (failures_++ == 0) problem_ = "connection " + c.name() + ": " + std::string(why);
  }

 private:
  // Runs `count` handshakes, identity (first + i) % identities for the i-th; true if all joined.
  bool wave(std::size_t count, std::size_t first, std::int64_t deadline_ns);

  const bench_options& options_;
  const target& server_;
  std::vector<identity> identities_;
  latency_recorder* latency_ = nullptr;
  std::size_t joined_ = 0;
  std::size_t failures_ = 0;
  std::string problem_;
};

bool handshake_run::wave(std::size_t count, std::size_t first, std::int64_t deadline_ns) {
  event_loop loop;
  std::vector<std::unique_ptr<bench_connection>> conns;
  conns.reserve(count);
  joined_ = 0;
  std::size_t started = 0;
  while (joined_ + failures_ < count) {
    while (started < count && started - joined_ - failures_ < options_.concurrency) {
      const auto& who = identities_[(first + started) % identities_.size()];
      conns.push_back(std::make_unique<bench_connection>(loop, *this, started));
      conns.back()->start_lean(server_.address, *who.keys, who.name);
      ++started;
    }
    if (mono_ns() > deadline_ns) {
      if (problem_.empty()) problem_ = "timed out";
      return false;
    }
    loop.poll(std::chrono::milliseconds(10));
  }
  return failures_ == 0;
}

report handshake_run::run() {
  report r;
  r.scenario = "handshakes";
  const std::string prefix = run_prefix();
  identities_.resize(std::min(options_.identities, options_.handshakes));
  for (std::size_t i = 0; i < identities_.size(); ++i) {
    auto& who = identities_[i];
    who.keys.emplace(crypto::identity_v2::generate());
    who.name = prefix + "h" + std::to_string(i);
  }

  const auto deadline = [&] { return mono_ns() + static_cast<std::int64_t>(options_.timeout_s * 1e9); };
  latency_recorder warm_latency;
  latency_ = &warm_latency;
  interval_meter warm(server_.pid);
  warm.start();
  const bool warm_ok = wave(identities_.size(), 0, deadline());
  warm.stop();
  if (!warm_ok) {
    r.ok = false;
    r.problem = "warm-up: " + problem_;
    return r;
  }
  latency_recorder latency;
  latency_ = &latency;
  interval_meter meter(server_.pid);
  meter.start();
  const bool ok = wave(options_.handshakes, 0, deadline());
  meter.stop();

  r.add("handshakes", static_cast<double>(options_.handshakes));
  r.add("joined", static_cast<double>(joined_));
  r.add("failed", static_cast<double>(failures_));
  r.add("identities", static_cast<double>(identities_.size()));
  r.add("concurrency", static_cast<double>(options_.concurrency));
  meter.add_to(r, "handshakes", static_cast<double>(joined_));
  r.add("latency_p50_ms", latency.quantile_ms(0.50), 3);
  r.add("latency_p99_ms", latency.quantile_ms(0.99), 3);
  r.add("latency_p999_ms", latency.quantile_ms(0.999), 3);
  r.add("warmup_new_names_per_s", static_cast<double>(identities_.size()) / warm.wall_s());
  if (warm.server_cpu_s() > 0) {
    r.add("warmup_new_names_per_server_cpu_s", static_cast<double>(identities_.size()) / warm.server_cpu_s());
  }
  if (!ok || joined_ != options_.handshakes) {
    r.ok = false;
    r.problem = problem_.empty() ? "not every handshake joined" : problem_;
  }
  return r;
}

}  // namespace

report run_handshakes(const bench_options& options, const target& server) {
  handshake_run run(options, server);
  return run.run();
}

}  // namespace natter::bench
