// Key distribution: in a room of --members joined users, one who has not spoken yet says
// something end to end. Before anyone can read it, its client (the real client::e2e_engine, which
// is pure) runs a Noise KK handshake with every other member through the server, then seals its
// sender key for each in their pairwise session, then the room message. Every member runs its
// own e2e_engine too: it answers the handshake, takes the key, opens the message. The clock runs
// from the send until the last member has opened the text.
//
// All the engines run on the bench's one thread, so the wall time includes the members' work one
// after another (on real machines they work in parallel); the sender's and the members' CPU are
// therefore reported apart (CLOCK_THREAD_CPUTIME_ID around each engine call), with the server's.
// The engines are told the directory by the bench (each member knows the sender's key and the
// sender everyone's), which a client learns from welcome, users and presence.
#include <memory>

#include "crowd.hpp"
#include "natter/client/e2e_engine.hpp"
#include "scenarios.hpp"

namespace natter::bench {

namespace {

class key_distribution_run final : public crowd {
 public:
  key_distribution_run(const sockaddr_in& server, std::vector<std::string> names,
                       std::vector<crypto::identity_v2> identities, const bench_options& options, const target& target)
      : crowd(server, std::move(names), std::move(identities)), options_(options), target_(target),
        sender_(names_.size() - 1), keyed_(names_.size(), false), read_(names_.size(), false) {}

  report run();

  void on_chat(bench_connection&, std::int64_t) override {}
  void on_e2e_event(bench_connection& c, const e2e_event& event) override;

 private:
  // Sends what an engine produced on its connection; warnings and drops are failures here.
  void dispatch(bench_connection& c, client::e2e_output& out);
  void fail_with(const std::string& why) {
    if (failures_++ == 0) problem_ = why;
  }

  const bench_options& options_;
  const target& target_;
  std::size_t sender_;  // the new speaker: the last to join
  std::vector<std::unique_ptr<client::e2e_engine>> engines_;
  std::vector<bool> keyed_, read_;
  std::size_t keyed_count_ = 0, read_count_ = 0, responses_ = 0;
  std::int64_t start_ns_ = 0, last_response_ns_ = 0, last_key_ns_ = 0, last_read_ns_ = 0;
  std::int64_t sender_cpu_ns_ = 0, members_cpu_ns_ = 0;
  std::size_t sender_bodies_ = 0, sender_body_chars_ = 0;
};

void key_distribution_run::dispatch(bench_connection& c, client::e2e_output& out) {
  for (const auto& s : out.send) {
    c.send_e2e(s.request.kind, s.request.to, s.request.body);
    if (c.index() == sender_) {
      ++sender_bodies_;
      sender_body_chars_ += s.request.body.size();
    }
  }
  c.flush();
  if (!out.warnings.empty()) fail_with(c.name() + "'s engine warned: " + out.warnings.front());
  if (!out.dropped.empty()) fail_with(c.name() + "'s engine dropped a text: " + out.dropped.front().reason);
}

void key_distribution_run::on_e2e_event(bench_connection& c, const e2e_event& event) {
  const std::size_t i = c.index();
  client::e2e_output out;
  const std::int64_t cpu_start = thread_cpu_ns();
  engines_[i]->on_event(event, client::e2e_clock::now(), out);
  (i == sender_ ? sender_cpu_ns_ : members_cpu_ns_) += thread_cpu_ns() - cpu_start;
  const std::int64_t now = mono_ns();
  if (i == sender_ && event.kind == e2e_kind::handshake) {
    ++responses_;
    last_response_ns_ = now;
  }
  if (i != sender_ && event.kind == e2e_kind::key && !keyed_[i]) {
    keyed_[i] = true;
    ++keyed_count_;
    last_key_ns_ = now;
  }
  if (i != sender_ && !out.messages.empty() && !read_[i]) {
    read_[i] = true;
    ++read_count_;
    last_read_ns_ = now;
  }
  dispatch(c, out);
}

report key_distribution_run::run() {
  report r;
  r.scenario = "key_distribution";
  const std::size_t members = names_.size();
  const std::int64_t deadline = mono_ns() + static_cast<std::int64_t>(options_.timeout_s * 1e9);
  if (!join(0, members, 128, deadline) || !sync(deadline)) {
    r.ok = false;
    r.problem = "setup: " + problem();
    return r;
  }
  // The prologue binds the server's static key; any value both sides agree on does here.
  const crypto::public_key server_key{};
  for (std::size_t i = 0; i < members; ++i) {
    engines_.push_back(std::make_unique<client::e2e_engine>(identities_[i], names_[i], server_key));
    conns_[i]->parse_e2e(true);
  }
  for (std::size_t i = 0; i < members; ++i) {
    if (i != sender_) {
      engines_[i]->on_directory(names_[sender_], identities_[sender_].public_key());
      engines_[sender_]->on_directory(names_[i], identities_[i].public_key());
    }
  }
  std::uint64_t read_before = 0, written_before = 0;
  for (const auto& c : conns_) {
    read_before += c->bytes_read();
    written_before += c->bytes_written();
  }
  const std::uint64_t sender_written_before = conns_[sender_]->bytes_written();

  interval_meter meter(target_.pid);
  meter.start();
  start_ns_ = mono_ns();
  client::e2e_output out;
  const std::int64_t cpu_start = thread_cpu_ns();
  std::string text(options_.size, 'x');
  engines_[sender_]->send_room(std::move(text), 1, client::e2e_clock::now(), out);
  sender_cpu_ns_ += thread_cpu_ns() - cpu_start;
  dispatch(*conns_[sender_], out);
  const std::int64_t end = start_ns_ + static_cast<std::int64_t>(options_.timeout_s * 1e9);
  while (failures_ == 0 && read_count_ < members - 1 && mono_ns() < end) loop_.poll(std::chrono::milliseconds(10));
  meter.stop();

  std::uint64_t read_after = 0, written_after = 0;
  for (const auto& c : conns_) {
    read_after += c->bytes_read();
    written_after += c->bytes_written();
  }
  const auto seconds_since_start = [&](std::int64_t t) { return t ? static_cast<double>(t - start_ns_) / 1e9 : -1.0; };
  r.add("members", static_cast<double>(members));
  r.add("message_bytes", static_cast<double>(options_.size));
  r.add("handshake_answers", static_cast<double>(responses_));
  r.add("members_keyed", static_cast<double>(keyed_count_));
  r.add("members_read", static_cast<double>(read_count_));
  r.add("unread", static_cast<double>(members - 1 - read_count_));
  r.add("all_sessions_s", seconds_since_start(last_response_ns_), 3);
  r.add("all_keyed_s", seconds_since_start(last_key_ns_), 3);
  r.add("all_can_read_s", seconds_since_start(last_read_ns_), 3);
  r.add("sender_cpu_s", static_cast<double>(sender_cpu_ns_) / 1e9, 4);
  r.add("members_cpu_s", static_cast<double>(members_cpu_ns_) / 1e9, 4);
  r.add("member_cpu_us_each", static_cast<double>(members_cpu_ns_) / 1e3 / static_cast<double>(members - 1), 1);
  meter.add_to(r, "members_read", static_cast<double>(read_count_));
  // What the sender's client wrote (frames of envelopes: handshakes, keys, the message), and all
  // the bytes the members and the sender wrote and read through the server in that time.
  r.add("sender_bodies", static_cast<double>(sender_bodies_));
  r.add("sender_body_base64_bytes", static_cast<double>(sender_body_chars_));
  r.add("sender_wire_bytes", static_cast<double>(conns_[sender_]->bytes_written() - sender_written_before));
  r.add("wire_bytes_written", static_cast<double>(written_after - written_before));
  r.add("wire_bytes_read", static_cast<double>(read_after - read_before));
  r.add("wire_bytes_per_member",
        static_cast<double>(written_after - written_before + read_after - read_before) / static_cast<double>(members - 1));
  // The engine gives up a handshake unanswered for this long (a real client ticks every second;
  // the bench does not, so that a slow run still measures the whole distribution).
  r.add("over_engine_handshake_timeout",
        seconds_since_start(last_response_ns_) > static_cast<double>(client::handshake_timeout.count()) ? 1 : 0);
  if (failures_ > 0) {
    r.ok = false;
    r.problem = problem();
  } else if (read_count_ != members - 1) {
    r.ok = false;
    r.problem = "not every member could read the message (timeout?)";
  }
  close_all();
  return r;
}

}  // namespace

report run_key_distribution(const bench_options& options, const target& server) {
  const std::string prefix = run_prefix();
  std::vector<std::string> names;
  std::vector<crypto::identity_v2> identities;
  for (std::size_t i = 0; i < options.members; ++i) {
    names.push_back(prefix + "k" + std::to_string(i));
    identities.push_back(crypto::identity_v2::generate());
  }
  key_distribution_run run(server.address, std::move(names), std::move(identities), options, server);
  return run.run();
}

}  // namespace natter::bench
