#include "natter/client/peer_pins.hpp"

#include <fcntl.h>

#include <vector>

#include "natter/crypto/keys.hpp"
#include "natter/secure_file.hpp"
#include "natter/text.hpp"

namespace natter::client {

namespace {

constexpr std::string_view what = "peer key file";
// 256 bytes a line and many thousands of peers; a bigger file is not ours.
constexpr std::size_t max_file_size = 16 * 1024 * 1024;

}  // namespace

peer_pins peer_pins::parse(std::string_view content) {
  peer_pins pins;
  while (!content.empty()) {
    const std::size_t end = content.find('\n');
    std::string_view line = content.substr(0, end);
    content = end == std::string_view::npos ? std::string_view{} : content.substr(end + 1);
    if (line.starts_with('#')) continue;
    const auto words = split_words(line);
    if (words.size() != 4 || words[0] != "peer" || !is_valid_name(words[2])) continue;
    if (auto key = crypto::ed25519_public_key_from_hex(words[3])) {
      pins.pins_[{std::string(words[1]), fold_name(words[2])}] = *key;
    }
  }
  return pins;
}

peer_pins peer_pins::load(const std::filesystem::path& path) {
  // Like known_hosts: not secret, but it decides whose keys we seal for, so only a regular file
  // of ours that others cannot write is believed.
  try {
    const auto fd = files::open_existing(path, O_RDONLY, files::exposure::trusted, what);
    return fd.valid() ? parse(files::read_all(fd.get(), max_file_size, path, what)) : peer_pins{};
  } catch (const files::secure_file_error& e) {
    throw peer_pins_error(e.what());
  }
}

peer_pin_status peer_pins::check(const std::string& server, std::string_view name,
                                 const crypto::ed25519_public_key& key) {
  const auto [it, inserted] = pins_.try_emplace({server, fold_name(name)}, key);
  if (inserted) return peer_pin_status::new_pin;
  return it->second == key ? peer_pin_status::pinned : peer_pin_status::changed;
}

void peer_pins::accept(const std::string& server, std::string_view name, const crypto::ed25519_public_key& key) {
  pins_[{server, fold_name(name)}] = key;
}

std::optional<crypto::ed25519_public_key> peer_pins::pinned(const std::string& server, std::string_view name) const {
  const auto it = pins_.find({server, fold_name(name)});
  if (it == pins_.end()) return std::nullopt;
  return it->second;
}

std::string peer_pins::serialize() const {
  std::string out = "# natter: peers' end-to-end identity keys, pinned on first sight\n";
  for (const auto& [where, key] : pins_) {
    out += "peer " + where.first + " " + where.second + " " + crypto::to_hex(key.bytes) + "\n";
  }
  return out;
}

void peer_pins::save(const std::filesystem::path& path) const {
  // Atomic: a crash never leaves a half-written file, which would unpin peers silently.
  try {
    files::create_parent_directories(path);
    files::replace_file(path, serialize(), what);
  } catch (const files::secure_file_error& e) {
    throw peer_pins_error(e.what());
  }
}

}  // namespace natter::client
