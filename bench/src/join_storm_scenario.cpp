// A join storm: --users clients, each with its own identity (generated before the clock starts),
// connect at once, do the protocol 2 handshake and join. The clock runs until the last welcome;
// a ping to each then tells when every presence notice has been delivered (each user hears of
// everyone who joined after it: N(N-1)/2 notices in all). The server keeps its own 10 s
// handshake timeout, so a storm it cannot take in time fails here as it would for real clients.
//
// With end to end on, every client that is online pins each joiner's key on first sight
// (client::e2e_layer, peer_pins): the first to join pins N-1 keys one presence notice at a time,
// and saves the peers file once a tick (or before it first uses a new key). That part is measured
// after the storm, in this process, with the real e2e_layer and a real peers file in a temporary
// directory.
#include <filesystem>

#include "crowd.hpp"
#include "natter/client/e2e_layer.hpp"
#include "natter/crypto/keys.hpp"
#include "scenarios.hpp"

namespace natter::bench {

namespace {

class join_storm_run final : public crowd {
 public:
  using crowd::crowd;

  void on_chat(bench_connection&, std::int64_t) override {}
  void on_joined(bench_connection& c) override {
    crowd::on_joined(c);
    last_welcome_ns_ = mono_ns();
    const double ms = static_cast<double>(last_welcome_ns_ - c.started_ns()) / 1e6;
    slowest_ms_ = std::max(slowest_ms_, ms);
  }
  void on_presence(bench_connection&) override { ++presence_; }

  std::int64_t last_welcome_ns_ = 0;
  double slowest_ms_ = 0;
  std::size_t presence_ = 0;
};

// The first joiner's pinning: a welcome listing only itself, then one presence notice per
// joiner, each a new key pinned, then the layer's tick, which saves the peers file (as
// client/src/app.cpp saves it) once for the pins it has not saved yet. All in one tick, as if
// the storm arrived within a second: the real client saves at most once a second.
void measure_pinning(const std::vector<std::string>& names, const std::vector<crypto::identity_v2>& identities,
                     report& r) {
  const auto dir = std::filesystem::temp_directory_path() / ("natter-bench-pins-" + run_prefix());
  const auto path = dir / "peers";
  std::size_t saves = 0;
  std::uintmax_t bytes_saved = 0;
  client::peer_pins pins;
  client::e2e_settings settings;
  settings.enabled = true;
  settings.server = "127.0.0.1:1";
  settings.pins = &pins;
  settings.save_pins = [&](const client::peer_pins& p) {
    p.save(path);
    ++saves;
    bytes_saved += std::filesystem::file_size(path);
  };
  client::e2e_layer layer(identities.front(), settings);
  client::e2e_layer::output out;
  welcome_event welcome;
  welcome.name = names.front();
  welcome.users.push_back({names.front(), "", 0, crypto::to_hex(identities.front().public_key().bytes), ""});
  const std::int64_t wall_start = mono_ns();
  const std::int64_t cpu_start = thread_cpu_ns();
  layer.on_welcome(welcome, crypto::public_key{}, out);
  for (std::size_t i = 1; i < names.size(); ++i) {
    presence_event joined;
    joined.joined = true;
    joined.name = names[i];
    joined.key = crypto::to_hex(identities[i].public_key().bytes);
    (void)layer.on_message(server_message{joined}, out);
  }
  layer.tick(out);  // the client's 1 s tick: the pins not yet saved are saved (e2e_layer batches them)
  const double cpu_s = static_cast<double>(thread_cpu_ns() - cpu_start) / 1e9;
  const double wall_s = static_cast<double>(mono_ns() - wall_start) / 1e9;
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  std::size_t pinned = 0;
  for (std::size_t i = 1; i < names.size(); ++i) pinned += pins.pinned(settings.server, names[i]) ? 1 : 0;
  r.add("pins_first_joiner", static_cast<double>(pinned));
  if (pinned != names.size() - 1) {
    r.ok = false;
    r.problem = "pinning: " + std::to_string(pinned) + " of " + std::to_string(names.size() - 1) + " keys pinned";
  }
  r.add("pin_saves", static_cast<double>(saves));
  r.add("pin_bytes_written", static_cast<double>(bytes_saved));
  r.add("pinning_wall_s", wall_s, 3);
  r.add("pinning_cpu_s", cpu_s, 3);
}

}  // namespace

report run_join_storm(const bench_options& options, const target& server) {
  report r;
  r.scenario = "join_storm";
  const std::string prefix = run_prefix();
  std::vector<std::string> names;
  std::vector<crypto::identity_v2> identities;
  for (std::size_t i = 0; i < options.users; ++i) {
    names.push_back(prefix + "j" + std::to_string(i));
    identities.push_back(crypto::identity_v2::generate());
  }
  join_storm_run run(server.address, names, std::move(identities));

  interval_meter meter(server.pid);
  meter.start();
  const std::int64_t start = mono_ns();
  const std::int64_t deadline = start + static_cast<std::int64_t>(options.timeout_s * 1e9);
  bool ok = run.join(0, options.users, options.users, deadline);
  const std::int64_t joined_ns = run.last_welcome_ns_;
  ok = ok && run.sync(deadline);
  const std::int64_t synced_ns = mono_ns();
  meter.stop();

  const std::size_t n = options.users;
  const std::size_t expected_presence = n * (n - 1) / 2;
  r.add("users", static_cast<double>(n));
  r.add("until_last_welcome_s", joined_ns ? static_cast<double>(joined_ns - start) / 1e9 : -1, 3);
  r.add("slowest_join_ms", run.slowest_ms_, 1);
  r.add("until_presence_delivered_s", static_cast<double>(synced_ns - start) / 1e9, 3);
  r.add("presence_delivered", static_cast<double>(run.presence_));
  r.add("presence_expected", static_cast<double>(expected_presence));
  meter.add_to(r, "joins", static_cast<double>(n));
  if (!ok) {
    r.ok = false;
    r.problem = run.problem();
  } else if (run.presence_ != expected_presence) {
    r.ok = false;
    r.problem = "presence notices: " + std::to_string(run.presence_) + " of " + std::to_string(expected_presence);
  }
  run.close_all();
  if (r.ok) {
    // Fresh keys for the same names: what is pinned is only bytes, so any keys cost the same.
    std::vector<crypto::identity_v2> keys;
    for (std::size_t i = 0; i < n; ++i) keys.push_back(crypto::identity_v2::generate());
    measure_pinning(names, keys, r);
  }
  return r;
}

}  // namespace natter::bench
