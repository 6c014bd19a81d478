// Writes the seed corpus for the fuzz harnesses: real protocol 2 frames and messages, made with natter's
// own code, so the fuzzer starts from inputs that reach deep into each parser.
//   make_corpus DIR   writes DIR/frame/, DIR/handshake/, DIR/message/
// Deterministic (fixed keys, fixed random source): re-running it rewrites identical files.
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "fuzz_support.hpp"
#include "natter/crypto/handshake_v2.hpp"
#include "natter/crypto/hello.hpp"
#include "natter/crypto/session_cipher_v2.hpp"
#include "natter/frame.hpp"
#include "natter/message_build.hpp"

namespace {

using natter::bytes;
using natter::crypto::handshake_v2;
using natter::crypto::role;
namespace fs = std::filesystem;

void write(const fs::path& file, const bytes& content) {
  std::ofstream(file, std::ios::binary).write(reinterpret_cast<const char*>(content.data()),
                                              static_cast<std::streamsize>(content.size()));
}
bytes text_bytes(std::string_view s) { return bytes(s.begin(), s.end()); }

// Everything a real protocol 2 connection carries, in order, from a handshake between fixed
// identities: the server hello, the client hello with Noise message 1, messages 2 and 3, then
// session frames.
struct real_connection {
  natter::crypto::identity_v2 client_id = natter::fuzz::fixed_identity_v2(0x11);
  natter::crypto::key_pair server_id = natter::fuzz::fixed_identity(0x22);
  bytes server_hello, client_hello, message_2, message_3;
  std::vector<bytes> client_session_frames;  // bodies, without the length prefix

  real_connection() {
    auto server = handshake_v2::server(server_id, {65536, 4096});
    auto client = handshake_v2::client(client_id);
    server_hello = server.start().at(0);
    (void)client.on_frame(server_hello);
    client_hello = client.accept_peer_key().at(0);
    message_2 = server.on_frame(client_hello).at(0);
    message_3 = client.on_frame(message_2).at(0);
    (void)server.on_frame(message_3);
    auto keys = client.take_keys().value();
    natter::crypto::session_cipher_v2 cipher(std::move(keys.client_to_server), std::move(keys.server_to_client),
                                             natter::crypto::direction::client_to_server);
    for (const char* json : {R"({"type":"join","name":"alice","ref":1})", R"({"type":"say","text":"hi","ref":2})",
                             R"({"type":"quit"})"}) {
      bytes wire;
      natter::append_sealed_frame(cipher, json, wire);
      client_session_frames.emplace_back(wire.begin() + natter::frame_header_size, wire.end());
    }
  }
};

std::vector<std::string> sample_messages() {
  using namespace natter;
  std::vector<std::string> out;
  for (const client_message& m : std::vector<client_message>{
           join_request{"alice", 1}, say_request{"hello, everyone \xc3\xa9\xe2\x82\xac", 2},
           whisper_request{"bob", "just us", 3}, users_request{4}, whois_request{"carol", 5},
           ping_request{6}, quit_request{"bye"}, quit_request{}}) {
    out.push_back(build(m));
  }
  const std::vector<user_info> users = {{"alice", "2:8399-a96a-c395-75da-9d08-ae14-829c-6c56-3249-7005", 1764000000000}};
  for (const server_message& m : std::vector<server_message>{
           welcome_event{"alice", users, 1, "be nice", 65536, 4096}, ack_event{2, 17, 1764000000000},
           chat_event{18, 1764000000001, "bob", "", "hi", false}, chat_event{19, 1764000000002, "bob", "alice", "psst", true},
           presence_event{true, "carol", "2:8399-a96a-c395-75da-9d08-ae14-829c-6c56-3249-7005", ""},
           presence_event{false, "carol", "", "timeout"}, users_event{4, users, false},
           whois_event{5, "carol", "2:8399-a96a-c395-75da-9d08-ae14-829c-6c56-3249-7005", true}, pong_event{6},
           error_event{"unknown_user", "there is no user called dave", 7}, bye_event{"quit", "goodbye"}}) {
    out.push_back(build(m));
  }
  return out;
}

void write_frame_corpus(const fs::path& dir, const real_connection& c) {
  // Header: max-body selector, 8 chunk sizes; then the stream.
  const auto stream_file = [&](const std::string& name, std::uint8_t selector, bytes chunks, const std::vector<bytes>& bodies,
                               bytes tail = {}) {
    bytes content{selector};
    content.insert(content.end(), chunks.begin(), chunks.end());
    for (const auto& b : bodies) {
      const bytes f = natter::make_frame(b);
      content.insert(content.end(), f.begin(), f.end());
    }
    content.insert(content.end(), tail.begin(), tail.end());
    write(dir / name, content);
  };
  stream_file("server_hello", 0, {0, 0, 0, 0, 0, 0, 0, 0}, {c.server_hello});
  stream_file("client_opening_bytewise", 0, {1, 1, 1, 1, 1, 1, 1, 1}, {c.client_hello, c.message_3});
  stream_file("whole_connection_split", 0, {3, 7, 40, 1, 100, 2, 5, 0},
              {c.client_hello, c.message_3, c.client_session_frames[0], c.client_session_frames[1],
               c.client_session_frames[2]});
  stream_file("refusal", 0, {5, 0, 0, 0, 0, 0, 0, 0}, {natter::crypto::encode_refusal("too many connections")});
  stream_file("over_small_limit", 6, {2, 2, 2, 2, 2, 2, 2, 2}, {c.server_hello, c.message_3});
  stream_file("length_ffffffff", 0, {0, 0, 0, 0, 0, 0, 0, 0}, {c.server_hello}, {0xff, 0xff, 0xff, 0xff, 'x'});
  stream_file("length_80000000", 1, {2, 0, 0, 0, 0, 0, 0, 0}, {}, {0x80, 0x00, 0x00, 0x00, 'x'});
  stream_file("zero_length", 0, {0, 0, 0, 0, 0, 0, 0, 0}, {c.server_hello}, {0, 0, 0, 0});
  stream_file("truncated", 0, {9, 0, 0, 0, 0, 0, 0, 0}, {c.client_hello}, {0x00, 0x00, 0x01, 0x00, 1, 2, 3});
}

void write_handshake_corpus(const fs::path& dir, const real_connection& c) {
  const auto hs_file = [&](const std::string& name, std::uint8_t mode, const std::vector<bytes>& frames) {
    bytes content{mode};
    for (const auto& f : frames) natter::fuzz::append_framed(content, f);
    write(dir / name, content);
  };
  hs_file("server_gets_client_opening", 0, {c.client_hello, c.message_3});
  hs_file("server_gets_server_hello", 0, {c.server_hello});
  hs_file("server_gets_v1_hello", 0,
          {natter::crypto::encode_hello(role::client, c.client_id.x25519().public_key_bytes, 1)});
  bytes zero_key = natter::crypto::encode_hello_header(role::client);
  zero_key.resize(zero_key.size() + natter::crypto::key_size + natter::crypto::mac_size, 0);
  hs_file("server_gets_zero_key", 0, {zero_key});
  hs_file("client_gets_server_hello", 1, {c.server_hello, c.message_2});
  hs_file("client_gets_v1_hello", 1,
          {natter::crypto::encode_hello(role::server, c.server_id.public_key_bytes, 1)});
  hs_file("client_gets_refusal_too_early", 1, {natter::crypto::encode_refusal("server is full", 2)});
  hs_file("server_gets_message_3", 2, {c.message_3, c.client_session_frames[0]});
  hs_file("client_gets_message_2", 3, {c.message_2, c.message_2});
  hs_file("client_gets_refusal", 3, {natter::crypto::encode_refusal("server is full", 2)});
  hs_file("established_gets_session_frames", 4, c.client_session_frames);
  hs_file("near_valid_no_change", 5, {bytes{}, bytes{}, bytes{}, bytes{}, c.client_session_frames[0]});
  bytes flip_message_3(natter::crypto::key_size + 1, 0);
  flip_message_3.back() = 0x01;
  hs_file("near_valid_flipped_message_3", 5, {bytes{}, bytes{}, bytes{}, flip_message_3});
  // The masks go to the hello, message 1, message 2, message 3 in turn: this one flips a bit of
  // message 2's tag.
  bytes flip_mac(c.message_2.size(), 0);
  flip_mac.back() = 0x01;
  hs_file("near_valid_flipped_mac", 5, {bytes{}, bytes{}, flip_mac});
}

void write_message_corpus(const fs::path& dir) {
  const auto messages = sample_messages();
  for (std::size_t i = 0; i < messages.size(); ++i) write(dir / ("message_" + std::to_string(i)), text_bytes(messages[i]));
  std::vector<std::string_view> views(messages.begin(), messages.begin() + 4);
  write(dir / "batch", text_bytes(natter::build_batch(views)));
  write(dir / "bad_name_bidi", text_bytes(R"({"type":"join","name":"b\u202eob","ref":1})"));
  write(dir / "bad_text_escape", text_bytes(R"({"type":"say","text":"a\u001b[2Jb"})"));
  write(dir / "deep", text_bytes(std::string(20, '[') + std::string(20, ']')));
  write(dir / "big_ref", text_bytes(R"({"type":"ping","ref":9007199254740992})"));
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::cerr << "usage: make_corpus DIR\n";
    return 2;
  }
  natter::fuzz::init_deterministic_sodium();
  natter::fuzz::reset_random(42);
  const fs::path root = argv[1];
  for (const char* target : {"frame", "handshake", "message"}) fs::create_directories(root / target);
  const real_connection connection;
  write_frame_corpus(root / "frame", connection);
  write_handshake_corpus(root / "handshake", connection);
  write_message_corpus(root / "message");
  std::cout << "corpus written to " << root.string() << "\n";
  return 0;
}
