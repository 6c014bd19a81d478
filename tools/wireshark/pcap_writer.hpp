#pragma once
// The synthetic capture's plumbing, for make_capture: a classic pcap file of Ethernet + IPv4 +
// TCP packets with correct checksums, and a TCP connection that keeps both sides' sequence
// numbers, so tshark reassembles the natter frames as it would from a real capture. Nothing
// natter-specific lives here.
#include <sodium.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace natter::tools {

using pcap_bytes = std::vector<unsigned char>;

inline void put_u16(pcap_bytes& out, std::uint32_t v) {
  out.push_back(static_cast<unsigned char>(v >> 8));
  out.push_back(static_cast<unsigned char>(v));
}
inline void put_u32(pcap_bytes& out, std::uint32_t v) {
  put_u16(out, v >> 16);
  put_u16(out, v & 0xffff);
}
inline void put_u32_le(pcap_bytes& out, std::uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<unsigned char>(v >> (8 * i)));
}

// ------------------------------------------------------------------------------ pcap writer
// Classic pcap, Ethernet link type with zero MAC addresses (what Linux gives for `lo`),
// IPv4 + TCP headers with correct checksums.
class pcap_writer {
 public:
  explicit pcap_writer(const std::string& path) : out_(path, std::ios::binary) {
    if (!out_) throw std::runtime_error("cannot write " + path);
    pcap_bytes h;
    put_u32_le(h, 0xa1b2c3d4);
    h.insert(h.end(), {2, 0, 4, 0});  // version 2.4, little-endian like the magic
    put_u32_le(h, 0);                  // thiszone
    put_u32_le(h, 0);                  // sigfigs
    put_u32_le(h, 262144);             // snaplen
    put_u32_le(h, 1);                  // LINKTYPE_ETHERNET
    write(h);
  }

  void packet(const pcap_bytes& frame) {
    usec_ += 1000;  // 1 ms apart, starting 2025-11-24
    pcap_bytes rec;
    put_u32_le(rec, static_cast<std::uint32_t>(1763942400 + usec_ / 1000000));
    put_u32_le(rec, static_cast<std::uint32_t>(usec_ % 1000000));
    put_u32_le(rec, static_cast<std::uint32_t>(frame.size()));
    put_u32_le(rec, static_cast<std::uint32_t>(frame.size()));
    write(rec);
    write(frame);
  }

 private:
  void write(const pcap_bytes& b) {
    out_.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  }
  std::ofstream out_;
  std::uint64_t usec_ = 0;
};

inline std::uint16_t checksum(const pcap_bytes& data, std::uint32_t sum = 0) {
  for (std::size_t i = 0; i + 1 < data.size(); i += 2) sum += (data[i] << 8) | data[i + 1];
  if (data.size() % 2) sum += data.back() << 8;
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<std::uint16_t>(~sum);
}

inline constexpr unsigned char FIN = 0x01, SYN = 0x02, PSH = 0x08, ACK = 0x10;

// Percentage of payload segments that get 1-3 random bytes flipped (--mutate); 0 = none.
inline unsigned mutation_percent = 0;

inline void maybe_mutate(pcap_bytes& payload) {
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
  void send(int side, pcap_bytes payload, unsigned char flags = PSH | ACK) {
    maybe_mutate(payload);
    const int peer = 1 - side;
    pcap_bytes tcp;
    put_u16(tcp, port_[side]);
    put_u16(tcp, port_[peer]);
    put_u32(tcp, seq_[side]);
    put_u32(tcp, (flags & ACK) ? seq_[peer] : 0);
    tcp.push_back(5 << 4);  // 20-byte header
    tcp.push_back(flags);
    put_u16(tcp, 65535);    // window
    put_u16(tcp, 0);        // checksum, filled below
    put_u16(tcp, 0);        // urgent pointer
    tcp.insert(tcp.end(), payload.begin(), payload.end());
    pcap_bytes pseudo;
    pseudo.insert(pseudo.end(), ip_[side].begin(), ip_[side].end());
    pseudo.insert(pseudo.end(), ip_[peer].begin(), ip_[peer].end());
    put_u16(pseudo, 6);
    put_u16(pseudo, static_cast<std::uint32_t>(tcp.size()));
    pseudo.insert(pseudo.end(), tcp.begin(), tcp.end());
    const std::uint16_t tcp_sum = checksum(pseudo);
    tcp[16] = static_cast<unsigned char>(tcp_sum >> 8);
    tcp[17] = static_cast<unsigned char>(tcp_sum);

    pcap_bytes ip;
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

    pcap_bytes frame(12, 0);  // zero destination and source MAC
    put_u16(frame, 0x0800);
    frame.insert(frame.end(), ip.begin(), ip.end());
    frame.insert(frame.end(), tcp.begin(), tcp.end());
    pcap_.packet(frame);
    seq_[side] += static_cast<std::uint32_t>(payload.size()) + ((flags & (SYN | FIN)) ? 1 : 0);
  }

  // Sends `data` in segments of at most `mss` pcap_bytes, as a TCP stack would.
  void send_segmented(int side, const pcap_bytes& data, std::size_t mss = 1400) {
    for (std::size_t at = 0; at < data.size(); at += mss) {
      const std::size_t n = std::min(mss, data.size() - at);
      send(side, pcap_bytes(data.begin() + static_cast<std::ptrdiff_t>(at), data.begin() + static_cast<std::ptrdiff_t>(at + n)));
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

}  // namespace natter::tools
