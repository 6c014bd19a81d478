// make_capture: writes a pcap of natter connections over loopback TCP, built by hand (no
// sockets, no capture privileges) but sealed with real libsodium crypto exactly as
// docs/PROTOCOL.md specifies. It lets the dissector be tested without a running server.
//
//   make_capture PREFIX [--mutate N]
//     writes PREFIX.pcap, PREFIX.keylog, PREFIX.expect; with --mutate also N copies of the same
//     exchange, PREFIX-mutated-I.pcap + .keylog, where random payload bytes (length prefixes,
//     magics, nonces, MACs...) were flipped: the dissector must survive them without a Lua error.
//
// The capture exercises what a dissector gets wrong most easily:
//   1. port 9900, full exchange: the client's hello and key exchange coalesced in one segment,
//      a frame split into three segments (one cut inside the length prefix), a frame longer
//      than one segment, several frames in one segment, a segment holding the end of one frame
//      and whole frames after it, UTF-8 text, a batch, and a frame whose MAC was tampered with.
//   2. port 40000: a connection found only by the heuristic dissector, with a 4000-byte text.
//   3. port 9900: a connection whose key is NOT in the key log (its text must never show).
//   4. port 9900: a refusal (NATE) of a client hello with an all-zero key.
//   5. port 9900: malformed frames (empty, over-long), then a frame cut by the capture's end.
// PREFIX.expect lists what check_capture.sh must find (see that script).
#include <sodium.h>

#include <array>
#include <cstdio>
#include <cstdint>
#include <fstream>
#include <iostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using bytes = std::vector<unsigned char>;

void append(bytes& out, const bytes& b) { out.insert(out.end(), b.begin(), b.end()); }
void put_u16(bytes& out, std::uint32_t v) {
  out.push_back(static_cast<unsigned char>(v >> 8));
  out.push_back(static_cast<unsigned char>(v));
}
void put_u32(bytes& out, std::uint32_t v) {
  put_u16(out, v >> 16);
  put_u16(out, v & 0xffff);
}
void put_u32_le(bytes& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<unsigned char>(v >> (8 * i)));
}
bytes str_bytes(const std::string& s) { return bytes(s.begin(), s.end()); }
bytes slice(const bytes& b, std::size_t from, std::size_t n) {
  return bytes(b.begin() + static_cast<std::ptrdiff_t>(from),
               b.begin() + static_cast<std::ptrdiff_t>(from + n));
}
std::string hex(const bytes& b) {
  std::string out(b.size() * 2 + 1, '\0');
  sodium_bin2hex(out.data(), out.size(), b.data(), b.size());
  out.pop_back();
  return out;
}

// ------------------------------------------------------------------------------ pcap writer
// Classic pcap, Ethernet link type with zero MAC addresses (what Linux gives for `lo`),
// IPv4 + TCP headers with correct checksums.
class pcap_writer {
 public:
  explicit pcap_writer(const std::string& path) : out_(path, std::ios::binary) {
    if (!out_) throw std::runtime_error("cannot write " + path);
    bytes h;
    put_u32_le(h, 0xa1b2c3d4);
    h.insert(h.end(), {2, 0, 4, 0});  // version 2.4, little-endian like the magic
    put_u32_le(h, 0);                  // thiszone
    put_u32_le(h, 0);                  // sigfigs
    put_u32_le(h, 262144);             // snaplen
    put_u32_le(h, 1);                  // LINKTYPE_ETHERNET
    write(h);
  }

  void packet(const bytes& frame) {
    usec_ += 1000;  // 1 ms apart, starting 2025-11-24
    bytes rec;
    put_u32_le(rec, static_cast<std::uint32_t>(1763942400 + usec_ / 1000000));
    put_u32_le(rec, static_cast<std::uint32_t>(usec_ % 1000000));
    put_u32_le(rec, static_cast<std::uint32_t>(frame.size()));
    put_u32_le(rec, static_cast<std::uint32_t>(frame.size()));
    write(rec);
    write(frame);
  }

 private:
  void write(const bytes& b) {
    out_.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  }
  std::ofstream out_;
  std::uint64_t usec_ = 0;
};

std::uint16_t checksum(const bytes& data, std::uint32_t sum = 0) {
  for (std::size_t i = 0; i + 1 < data.size(); i += 2) sum += (data[i] << 8) | data[i + 1];
  if (data.size() % 2) sum += data.back() << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

constexpr unsigned char FIN = 0x01, SYN = 0x02, PSH = 0x08, ACK = 0x10;

// Percentage of payload segments that get 1-3 random bytes flipped (--mutate); 0 = none.
unsigned mutation_percent = 0;

void maybe_mutate(bytes& payload) {
  if (mutation_percent == 0 || payload.empty() || randombytes_uniform(100) >= mutation_percent) {
    return;
  }
  for (std::uint32_t i = 0, n = 1 + randombytes_uniform(3); i < n; ++i) {
    const auto at = randombytes_uniform(static_cast<std::uint32_t>(payload.size()));
    payload[at] = static_cast<unsigned char>(payload[at] ^ (1 + randombytes_uniform(255)));
  }
}

// One TCP connection; keeps both sides' sequence numbers so every segment is consistent.
class tcp_connection {
 public:
  tcp_connection(pcap_writer& pcap, std::array<unsigned char, 4> client_ip,
                 std::uint16_t client_port, std::array<unsigned char, 4> server_ip,
                 std::uint16_t server_port)
      : pcap_(pcap), ip_{client_ip, server_ip}, port_{client_port, server_port} {
    send(0, {}, SYN);
    send(1, {}, SYN | ACK);
    send(0, {}, ACK);
  }

  // side 0 = client, 1 = server.
  void send(int side, bytes payload, unsigned char flags = PSH | ACK) {
    maybe_mutate(payload);
    const int peer = 1 - side;
    bytes tcp;
    put_u16(tcp, port_[side]);
    put_u16(tcp, port_[peer]);
    put_u32(tcp, seq_[side]);
    put_u32(tcp, (flags & ACK) ? seq_[peer] : 0);
    tcp.push_back(5 << 4);  // 20-byte header
    tcp.push_back(flags);
    put_u16(tcp, 65535);    // window
    put_u16(tcp, 0);        // checksum, filled below
    put_u16(tcp, 0);        // urgent pointer
    append(tcp, payload);
    bytes pseudo;
    pseudo.insert(pseudo.end(), ip_[side].begin(), ip_[side].end());
    pseudo.insert(pseudo.end(), ip_[peer].begin(), ip_[peer].end());
    put_u16(pseudo, 6);
    put_u16(pseudo, static_cast<std::uint32_t>(tcp.size()));
    append(pseudo, tcp);
    const std::uint16_t tcp_sum = checksum(pseudo);
    tcp[16] = static_cast<unsigned char>(tcp_sum >> 8);
    tcp[17] = static_cast<unsigned char>(tcp_sum);

    bytes ip;
    ip.insert(ip.end(), {0x45, 0});
    put_u16(ip, static_cast<std::uint32_t>(20 + tcp.size()));
    put_u16(ip, ip_id_++);
    put_u16(ip, 0x4000);  // don't fragment
    ip.insert(ip.end(), {64, 6, 0, 0});
    ip.insert(ip.end(), ip_[side].begin(), ip_[side].end());
    ip.insert(ip.end(), ip_[peer].begin(), ip_[peer].end());
    const std::uint16_t ip_sum = checksum(ip);
    ip[10] = static_cast<unsigned char>(ip_sum >> 8);
    ip[11] = static_cast<unsigned char>(ip_sum);

    bytes frame(12, 0);  // zero destination and source MAC
    put_u16(frame, 0x0800);
    append(frame, ip);
    append(frame, tcp);
    pcap_.packet(frame);
    seq_[side] += static_cast<std::uint32_t>(payload.size()) + ((flags & (SYN | FIN)) ? 1 : 0);
  }

  // Sends `data` in segments of at most `mss` bytes, as a TCP stack would.
  void send_segmented(int side, const bytes& data, std::size_t mss = 1400) {
    for (std::size_t at = 0; at < data.size(); at += mss) {
      send(side, slice(data, at, std::min(mss, data.size() - at)));
    }
  }

  void close() {
    send(1, {}, FIN | ACK);
    send(0, {}, FIN | ACK);
    send(1, {}, ACK);
  }

 private:
  pcap_writer& pcap_;
  std::array<std::array<unsigned char, 4>, 2> ip_;
  std::array<std::uint16_t, 2> port_;
  std::array<std::uint32_t, 2> seq_{0x10000000, 0x20000000};
  std::uint16_t ip_id_ = 1;
};

// ---------------------------------------------------------------------- natter, with libsodium
struct keypair {
  bytes pk = bytes(crypto_box_PUBLICKEYBYTES), sk = bytes(crypto_box_SECRETKEYBYTES);
  keypair() { crypto_box_keypair(pk.data(), sk.data()); }
};

std::string fingerprint(const bytes& pk) {
  bytes d(crypto_hash_sha256_BYTES);
  crypto_hash_sha256(d.data(), pk.data(), pk.size());
  const std::string h = hex(slice(d, 0, 16));
  std::string fp;
  for (std::size_t g = 0; g < 8; ++g) fp += (g ? "-" : "") + h.substr(g * 4, 4);
  return fp;
}

bytes frame(const bytes& body) {
  bytes out;
  put_u32(out, static_cast<std::uint32_t>(body.size()));
  append(out, body);
  return out;
}

bytes hello(unsigned char role, const bytes& pk) {
  bytes body = str_bytes("NATR");
  body.insert(body.end(), {1, role, 0, 0});
  append(body, pk);
  return frame(body);
}

// One natter connection's crypto state, both ends (the generator plays client and server).
struct natter_session {
  keypair server_lt, client_lt, server_eph, client_eph;
  bytes conn_id = bytes(crypto_box_NONCEBYTES);
  bytes key = bytes(crypto_box_BEFORENMBYTES);
  std::uint64_t counter[2] = {0, 0};  // [0] client->server, [1] server->client

  // Key exchange frame of one side: its ephemeral pk sealed under the long-term keys (§3).
  bytes kx(int side) {
    bytes nonce(crypto_box_NONCEBYTES);
    randombytes_buf(nonce.data(), nonce.size());
    const keypair& own = side ? server_lt : client_lt;
    const keypair& peer = side ? client_lt : server_lt;
    const keypair& eph = side ? server_eph : client_eph;
    bytes box(crypto_box_MACBYTES + eph.pk.size());
    if (crypto_box_easy(box.data(), eph.pk.data(), eph.pk.size(), nonce.data(), peer.pk.data(),
                        own.sk.data()) != 0) {
      throw std::runtime_error("crypto_box_easy failed");
    }
    if (side == 0) conn_id = nonce;
    bytes body = nonce;
    append(body, box);
    return frame(body);
  }

  // Both ends derive the session key; they must agree, or the capture would be wrong.
  void derive() {
    bytes other(crypto_box_BEFORENMBYTES);
    if (crypto_box_beforenm(key.data(), server_eph.pk.data(), client_eph.sk.data()) != 0 ||
        crypto_box_beforenm(other.data(), client_eph.pk.data(), server_eph.sk.data()) != 0 ||
        key != other) {
      throw std::runtime_error("session key derivation failed");
    }
  }

  bytes session(int side, const std::string& json) {
    bytes nonce(crypto_box_NONCEBYTES, 0);
    nonce[0] = side ? 2 : 1;
    const std::uint64_t c = ++counter[side];
    for (int i = 0; i < 8; ++i) nonce[23 - i] = static_cast<unsigned char>(c >> (8 * i));
    bytes box(crypto_box_MACBYTES + json.size());
    if (crypto_box_easy_afternm(box.data(), reinterpret_cast<const unsigned char*>(json.data()),
                                json.size(), nonce.data(), key.data()) != 0) {
      throw std::runtime_error("crypto_box_easy_afternm failed");
    }
    bytes body = nonce;
    append(body, box);
    return frame(body);
  }

  std::string keylog_line() const { return "NATTER_SESSION_KEY " + hex(conn_id) + " " + hex(key); }
};

struct expectations {
  std::ofstream out;
  void fingerprint_of(const bytes& pk) { out << "fingerprint " << fingerprint(pk) << '\n'; }
  void json(const std::string& j) { out << "json " << j << '\n'; }
  void secret(const std::string& s) { out << "secret " << s << '\n'; }
  void count(const std::string& filter, int n) { out << "count " << n << ' ' << filter << '\n'; }
};

// Handshake up to both key exchanges. The client's hello and key exchange travel in one
// segment, as natter's client writes them back to back.
void handshake(tcp_connection& tcp, natter_session& s, expectations& expect) {
  tcp.send(1, hello(2, s.server_lt.pk));
  bytes client_flight = hello(1, s.client_lt.pk);
  append(client_flight, s.kx(0));
  tcp.send(0, client_flight);
  tcp.send(1, s.kx(1));
  s.derive();
  expect.fingerprint_of(s.server_lt.pk);
  expect.fingerprint_of(s.client_lt.pk);
}

// The json helper: records the plaintext the checker must find, returns the sealed frame.
bytes said(natter_session& s, int side, const std::string& json, expectations& expect) {
  expect.json(json);
  return s.session(side, json);
}

void main_connection(pcap_writer& pcap, std::ofstream& keylog, expectations& expect) {
  natter_session s;
  tcp_connection tcp(pcap, {127, 0, 0, 1}, 50001, {127, 0, 0, 1}, 9900);
  handshake(tcp, s, expect);
  keylog << s.keylog_line() << '\n';

  // A frame in three segments, the first cut inside the 4-byte length prefix.
  const bytes join = said(s, 0, R"({"type":"join","name":"alice","ref":1})", expect);
  tcp.send(0, slice(join, 0, 2));
  tcp.send(0, slice(join, 2, 30));
  tcp.send(0, slice(join, 32, join.size() - 32));

  // A frame longer than one segment.
  const std::string motd(3000, 'm');
  tcp.send_segmented(1, said(s, 1,
      R"({"type":"welcome","name":"alice","users":[{"name":"bob","fingerprint":")" +
      fingerprint(s.client_lt.pk) + R"(","since":1764000000000}],"motd":")" + motd +
      R"(","max_frame":65536,"max_text":4096})", expect));

  // Two frames in one segment, one with multi-byte UTF-8.
  bytes two = said(s, 0, R"({"type":"say","text":"hi","ref":2})", expect);
  append(two, said(s, 0, R"({"type":"whisper","to":"bob","text":"héllo ☃ 🙂 ünïcode","ref":3})", expect));
  tcp.send(0, two);

  // Segment A: two whole frames and the head of a third; segment B: its tail and one more.
  bytes a = said(s, 1, R"({"type":"ack","ref":2,"id":17,"ts":1764000000000})", expect);
  append(a, said(s, 1, R"({"type":"ack","ref":3,"id":18,"ts":1764000000001})", expect));
  const bytes batch = said(s, 1,
      R"([{"type":"message","id":19,"ts":1764000000002,"from":"bob","text":"batched one","scope":"all"},)"
      R"({"type":"presence","event":"joined","name":"carol","fingerprint":"3b6a-27bc-ceb6-a42d-62a3-a8d0-2a6f-0d73"}])",
      expect);
  append(a, slice(batch, 0, 10));
  tcp.send(1, a);
  bytes b = slice(batch, 10, batch.size() - 10);
  append(b, said(s, 1, R"({"type":"pong","ref":4})", expect));
  tcp.send(1, b);

  // A frame altered in transit: one MAC byte flipped. The dissector must flag it.
  bytes tampered = s.session(0, R"({"type":"say","text":"tampered frame, never shown","ref":5})");
  tampered[4 + 24 + 3] ^= 0x40;
  expect.secret("tampered frame, never shown");
  tcp.send(0, tampered);
  tcp.send(1, said(s, 1, R"({"type":"bye","reason":"protocol_error","message":"bad MAC"})", expect));
  tcp.close();
}

void heuristic_connection(pcap_writer& pcap, std::ofstream& keylog, expectations& expect) {
  natter_session s;
  tcp_connection tcp(pcap, {127, 0, 0, 1}, 50002, {127, 0, 0, 2}, 40000);
  handshake(tcp, s, expect);
  keylog << s.keylog_line() << '\n';
  tcp.send(0, said(s, 0, R"({"type":"join","name":"dave","ref":1})", expect));
  tcp.send(1, said(s, 1, R"({"type":"welcome","name":"dave","users":[],"max_frame":65536,"max_text":4096})", expect));
  tcp.send_segmented(0, said(s, 0, R"({"type":"say","text":")" + std::string(4000, 'L') +
                                    R"(","ref":2})", expect), 1000);
  tcp.send(0, said(s, 0, R"({"type":"quit"})", expect));
  tcp.send(1, said(s, 1, R"({"type":"bye","reason":"quit","message":"goodbye"})", expect));
  tcp.close();
}

void unlogged_connection(pcap_writer& pcap, expectations& expect) {
  natter_session s;  // its key is deliberately left out of the key log
  tcp_connection tcp(pcap, {127, 0, 0, 1}, 50003, {127, 0, 0, 1}, 9900);
  handshake(tcp, s, expect);
  tcp.send(0, s.session(0, R"({"type":"join","name":"eve","ref":1})"));
  tcp.send(0, s.session(0, R"({"type":"say","text":"unlogged secret words","ref":2})"));
  expect.secret("unlogged secret words");
  expect.secret("\"name\":\"eve\"");
  tcp.close();
}

void refused_connection(pcap_writer& pcap, expectations& expect) {
  keypair server;
  tcp_connection tcp(pcap, {127, 0, 0, 1}, 50004, {127, 0, 0, 1}, 9900);
  tcp.send(1, hello(2, server.pk));
  const bytes zero_key(crypto_box_PUBLICKEYBYTES, 0);
  tcp.send(0, hello(1, zero_key));
  bytes body = str_bytes("NATE");
  body.push_back(1);
  append(body, str_bytes("public key refused"));
  tcp.send(1, frame(body));
  expect.fingerprint_of(server.pk);
  expect.fingerprint_of(zero_key);
  tcp.close();
}

// Must be the last connection: it ends the capture in the middle of a frame.
void malformed_connection(pcap_writer& pcap, expectations& expect) {
  natter_session s;
  tcp_connection tcp(pcap, {127, 0, 0, 1}, 50005, {127, 0, 0, 1}, 9900);
  handshake(tcp, s, expect);
  tcp.send(0, frame({}));  // empty frame
  bytes too_long;
  put_u32(too_long, 0x01000000);  // 16 MiB, above the 64 KiB default maximum
  append(too_long, str_bytes("garbage that no receiver reads"));
  tcp.send(0, too_long);
  tcp.send(0, str_bytes("more bytes after the framing was lost"));
  bytes cut = s.session(1, R"({"type":"message","text":")" + std::string(200, 'x') + R"("})");
  tcp.send(1, slice(cut, 0, 50));  // the capture ends here
}

void write_capture(const std::string& prefix) {
  pcap_writer pcap(prefix + ".pcap");
  std::ofstream keylog(prefix + ".keylog");
  expectations expect{std::ofstream(prefix + ".expect")};
  if (!keylog || !expect.out) throw std::runtime_error("cannot write " + prefix + ".*");
  const std::string name = prefix.substr(prefix.find_last_of('/') + 1);
  expect.out << "# what check_capture.sh must find in " << name << ".pcap (make_capture)\n";
  main_connection(pcap, keylog, expect);
  heuristic_connection(pcap, keylog, expect);
  unlogged_connection(pcap, expect);
  refused_connection(pcap, expect);
  malformed_connection(pcap, expect);
  expect.count("natter.mac_failed", 1);
  expect.count("natter.bad_length", 2);
  expect.count("natter.truncated", 1);
  expect.count("natter.after_error", 1);
  expect.count("natter.refused", 1);
  expect.count("natter.no_key", 2);
  expect.count("natter.internal", 0);
  expect.count("natter.kind == \"hello\"", 10);
}

}  // namespace

int main(int argc, char** argv) {
  const std::string usage = "usage: make_capture PREFIX [--mutate N]\n";
  if (argc != 2 && !(argc == 4 && std::string(argv[2]) == "--mutate")) {
    std::cerr << usage;
    return 2;
  }
  if (sodium_init() < 0) {
    std::cerr << "make_capture: sodium_init failed\n";
    return 1;
  }
  const std::string prefix = argv[1];
  try {
    write_capture(prefix);
    const int mutated = argc == 4 ? std::stoi(argv[3]) : 0;
    for (int i = 1; i <= mutated; ++i) {
      mutation_percent = 25;
      write_capture(prefix + "-mutated-" + std::to_string(i));
      std::remove((prefix + "-mutated-" + std::to_string(i) + ".expect").c_str());
    }
  } catch (const std::exception& e) {
    std::cerr << "make_capture: " << e.what() << '\n';
    return 1;
  }
  return 0;
}
