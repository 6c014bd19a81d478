// Fan-out (S senders broadcasting to everyone) and whispers (P pairs, one way), open or closed
// loop. Every message text is "nb <send time ns> <padding>"; receivers count what arrives and
// know how much to expect, so nothing can go missing unnoticed.
#include <algorithm>
#include <cmath>

#include <sodium.h>

#include "crowd.hpp"
#include "latency.hpp"
#include "natter/crypto/e2e_pairwise_session.hpp"
#include "natter/crypto/e2e_sender_key.hpp"
#include "scenarios.hpp"

namespace natter::bench {

namespace {

std::string make_text(std::size_t size) {
  std::string text = std::string(text_marker) + std::to_string(mono_ns()) + " ";
  text.resize(std::max(size, text.size()), 'x');
  return text;
}

std::string base64(std::span<const std::uint8_t> bytes) {
  std::string out(sodium_base64_encoded_len(bytes.size(), sodium_base64_VARIANT_ORIGINAL), '\0');
  sodium_bin2base64(out.data(), out.size(), bytes.data(), bytes.size(), sodium_base64_VARIANT_ORIGINAL);
  out.pop_back();  // the terminating NUL
  return out;
}

// What a sender seals with when the run is end-to-end (--e2e): a sender key for the room
// (fan-out), or the sending half of a pairwise session with its receiver (whispers). Made before
// the clock starts: the receivers' halves are not needed, as the bench only counts envelopes.
struct e2e_sealer {
  std::optional<crypto::e2e::sender_key_sender> room;
  std::optional<crypto::e2e::pairwise_session> pairwise;

  [[nodiscard]] std::string seal(std::string_view text) {
    const auto plain = std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size());
    auto body = room ? room->seal(plain) : pairwise->seal(plain);
    if (!body) throw std::runtime_error("e2e seal failed");
    return base64(*body);
  }
};

// A pairwise session run in memory between two fresh identities (the bodies it seals are real
// XChaCha20-Poly1305 under a real KK session; the server relays them without looking).
crypto::e2e::pairwise_session make_pairwise(std::size_t pair) {
  static const crypto::public_key server_key{};  // the prologue's server field: any fixed value
  const auto a = crypto::identity_v2::generate();
  const auto b = crypto::identity_v2::generate();
  const std::string name_a = "a" + std::to_string(pair), name_b = "b" + std::to_string(pair);
  auto setup_a = crypto::e2e::pairwise_setup::create(a, name_a, {name_b, b.public_key()}, server_key);
  auto setup_b = crypto::e2e::pairwise_setup::create(b, name_b, {name_a, a.public_key()}, server_key);
  if (!setup_a || !setup_b) throw std::runtime_error("pairwise setup refused");
  const auto init = setup_a->start();
  const auto reply = setup_b->receive(*init);
  if (!reply.reply || setup_a->receive(*reply.reply).status != crypto::e2e::pairwise_setup::setup_status::established) {
    throw std::runtime_error("pairwise handshake failed");
  }
  return std::move(*setup_a->take_session());
}

// Closed-loop flow control for fan-out: the lowest progress over all connections (messages
// received, plus those sent by the connection itself), maintained in O(1) per message with a
// histogram of progress values.
class progress_floor {
 public:
  progress_floor(std::size_t members, std::size_t max_progress) : histogram_(max_progress + 2, 0), of_(members, 0) {
    histogram_[0] = members;
  }
  void advance(std::size_t member) {
    --histogram_[of_[member]];
    ++histogram_[++of_[member]];
    while (floor_ + 1 < histogram_.size() && histogram_[floor_] == 0) ++floor_;
  }
  [[nodiscard]] std::size_t floor() const { return floor_; }

 private:
  std::vector<std::size_t> histogram_;
  std::vector<std::size_t> of_;
  std::size_t floor_ = 0;
};

class traffic_run final : public crowd {
 public:
  enum class kind { fanout, whispers };

  traffic_run(kind k, const bench_options& options, const target& server, std::vector<std::string> names,
              std::size_t senders)
      : crowd(server.address, std::move(names)),
        kind_(k),
        options_(options),
        server_(server),
        senders_(senders),
        sent_(names_.size(), 0),
        received_(names_.size(), 0),
        floor_(names_.size(), senders * options.messages) {}

  report run();

  void on_chat(bench_connection& c, std::int64_t sent_ns) override {
    latency_.add(mono_ns() - sent_ns);
    ++delivered_;
    ++received_[c.index()];
    if (kind_ == kind::fanout) floor_.advance(c.index());
  }
  void on_ack(bench_connection&) override { ++acks_; }
  // End-to-end runs: the send time is sealed in the body, so an envelope counts without a latency.
  void on_e2e(bench_connection& c) override {
    ++delivered_;
    ++received_[c.index()];
    if (kind_ == kind::fanout) floor_.advance(c.index());
  }

 private:
  [[nodiscard]] std::size_t total_to_send() const { return senders_ * options_.messages; }
  [[nodiscard]] std::size_t expected() const {
    return kind_ == kind::fanout ? total_to_send() * (names_.size() - 1) : total_to_send();
  }
  // Whether sender `s` may send its next message under closed-loop flow control.
  [[nodiscard]] bool window_open(std::size_t s) const {
    if (kind_ == kind::fanout) return total_sent_ - floor_.floor() < options_.window;
    return sent_[s] - received_[senders_ + s] < options_.window;
  }
  void send_one(std::size_t s);
  void pump(std::int64_t start_ns);

  kind kind_;
  const bench_options& options_;
  const target& server_;
  std::size_t senders_;
  std::vector<std::size_t> sent_;
  std::vector<std::size_t> received_;
  progress_floor floor_;
  std::size_t total_sent_ = 0;
  std::size_t next_sender_ = 0;
  std::size_t delivered_ = 0;
  std::size_t acks_ = 0;
  latency_recorder latency_;
  std::vector<std::size_t> dirty_;
  std::vector<e2e_sealer> sealers_;  // per sender, with --e2e
};

void traffic_run::send_one(std::size_t s) {
  auto& c = *conns_[s];
  const std::string text = make_text(options_.size);
  if (kind_ == kind::fanout) {
    if (options_.e2e) c.send_e2e(e2e_kind::room, "", sealers_[s].seal(text));
    else c.say(text);
    floor_.advance(s);  // a sender's own message counts as seen by it
  } else if (options_.e2e) {
    c.send_e2e(e2e_kind::whisper, names_[senders_ + s], sealers_[s].seal(text));
  } else {
    c.whisper(names_[senders_ + s], text);
  }
  ++sent_[s];
  ++total_sent_;
  dirty_.push_back(s);
}

void traffic_run::pump(std::int64_t start_ns) {
  const std::size_t total = total_to_send();
  if (options_.rate > 0) {
    // Open loop: message k is due at start + k / rate, whatever the server does.
    const std::int64_t now = mono_ns();
    while (total_sent_ < total &&
           start_ns + static_cast<std::int64_t>(static_cast<double>(total_sent_) * 1e9 / options_.rate) <= now) {
      send_one(total_sent_ % senders_);
    }
  } else {
    // Closed loop: round-robin over the senders whose window is open.
    std::size_t blocked = 0;
    while (total_sent_ < total && blocked < senders_) {
      const std::size_t s = next_sender_;
      next_sender_ = (next_sender_ + 1) % senders_;
      if (sent_[s] < options_.messages && window_open(s)) {
        send_one(s);
        blocked = 0;
      } else {
        ++blocked;
      }
    }
  }
  for (const std::size_t s : dirty_) conns_[s]->flush();
  dirty_.clear();
}

report traffic_run::run() {
  report r;
  r.scenario = kind_ == kind::fanout ? "fanout" : "whispers";
  const std::int64_t setup_deadline = mono_ns() + static_cast<std::int64_t>(options_.timeout_s * 1e9);
  if (!join(0, names_.size(), 128, setup_deadline) || !sync(setup_deadline)) {
    r.ok = false;
    r.problem = "setup: " + problem();
    return r;
  }
  latency_.reserve(expected());
  if (options_.e2e) {
    for (std::size_t i = 0; i < senders_; ++i) {
      e2e_sealer sealer;
      if (kind_ == kind::fanout) sealer.room = crypto::e2e::sender_key_sender::create("lobby");
      else sealer.pairwise.emplace(make_pairwise(i));
      sealers_.push_back(std::move(sealer));
    }
  }
  std::uint64_t bytes_before = 0;
  for (const auto& c : conns_) bytes_before += c->bytes_read();
  interval_meter meter(server_.pid);
  meter.start();
  const std::int64_t start = mono_ns();
  const std::int64_t deadline = start + static_cast<std::int64_t>(options_.timeout_s * 1e9);
  while (failures_ == 0 && (delivered_ < expected() || acks_ < total_sent_ || total_sent_ < total_to_send()) &&
         mono_ns() < deadline) {
    pump(start);
    std::int64_t wait_ms = 10;
    if (options_.rate > 0 && total_sent_ < total_to_send()) {
      const std::int64_t due = start + static_cast<std::int64_t>(static_cast<double>(total_sent_) * 1e9 / options_.rate);
      wait_ms = std::clamp<std::int64_t>((due - mono_ns()) / 1'000'000, 0, 10);
    }
    loop_.poll(std::chrono::milliseconds(wait_ms));
  }
  meter.stop();
  std::uint64_t bytes_after = 0;
  for (const auto& c : conns_) bytes_after += c->bytes_read();

  r.add("e2e", options_.e2e ? 1 : 0);
  if (kind_ == kind::fanout) {
    r.add("receivers", static_cast<double>(names_.size() - senders_));
    r.add("senders", static_cast<double>(senders_));
    r.add("fanout", static_cast<double>(names_.size() - 1));
  } else {
    r.add("pairs", static_cast<double>(senders_));
  }
  r.add("message_bytes", static_cast<double>(options_.size));
  r.add("offered_rate", options_.rate);
  r.add("sent", static_cast<double>(total_sent_));
  r.add("delivered", static_cast<double>(delivered_));
  r.add("expected", static_cast<double>(expected()));
  r.add("undelivered", static_cast<double>(expected() - std::min(expected(), delivered_)));
  r.add("acks", static_cast<double>(acks_));
  meter.add_to(r, "delivered", static_cast<double>(delivered_));
  // What the server sealed and wrote for the receivers, wire bytes (frames, prefixes, padding).
  const double delivered_bytes = static_cast<double>(bytes_after - bytes_before);
  r.add("delivered_wire_bytes", delivered_bytes);
  if (meter.server_cpu_s() > 0) r.add("delivered_bytes_per_server_cpu_s", delivered_bytes / meter.server_cpu_s());
  r.add("latency_p50_ms", latency_.quantile_ms(0.50), 3);
  r.add("latency_p99_ms", latency_.quantile_ms(0.99), 3);
  r.add("latency_p999_ms", latency_.quantile_ms(0.999), 3);
  r.add("latency_max_ms", latency_.quantile_ms(1.0), 3);
  if (server_.raw.seal_batch_writev_per_cpu_s > 0 && meter.server_cpu_s() > 0) {
    const double efficiency = static_cast<double>(delivered_) / meter.server_cpu_s();
    r.add("vs_raw_frame_per_message", efficiency / server_.raw.seal_batch_writev_per_cpu_s, 3);
    r.add("vs_raw_batched_frames", efficiency / server_.raw.batch_frame_per_cpu_s, 3);
  }
  if (failures_ > 0) {
    r.ok = false;
    r.problem = problem();
  } else if (delivered_ != expected() || acks_ != total_sent_) {
    r.ok = false;
    r.problem = "undelivered messages or missing acks (timeout?)";
  }
  close_all();
  return r;
}

std::vector<std::string> numbered(const std::string& prefix, const std::string& tag, std::size_t n) {
  std::vector<std::string> out;
  for (std::size_t i = 0; i < n; ++i) out.push_back(prefix + tag + std::to_string(i));
  return out;
}

}  // namespace

report run_fanout(const bench_options& options, const target& server) {
  const std::string prefix = run_prefix();
  auto names = numbered(prefix, "s", options.senders);
  const auto receivers = numbered(prefix, "r", options.receivers);
  names.insert(names.end(), receivers.begin(), receivers.end());
  traffic_run run(traffic_run::kind::fanout, options, server, std::move(names), options.senders);
  return run.run();
}

report run_whispers(const bench_options& options, const target& server) {
  const std::string prefix = run_prefix();
  auto names = numbered(prefix, "a", options.pairs);
  const auto targets = numbered(prefix, "b", options.pairs);
  names.insert(names.end(), targets.begin(), targets.end());
  traffic_run run(traffic_run::kind::whispers, options, server, std::move(names), options.pairs);
  return run.run();
}

}  // namespace natter::bench
