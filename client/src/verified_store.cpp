#include "natter/client/verified_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>
#include <array>
#include <cstdint>

#include "natter/crypto/fingerprint_v2.hpp"
#include "natter/secure_file.hpp"
#include "natter/text.hpp"

namespace natter::client {

namespace {

// A 64-digit key in its stored form (lowercase), or nullopt.
std::optional<std::string> key_hex_or_none(std::string_view word) {
  std::array<std::uint8_t, crypto::key_size> raw{};
  if (!crypto::from_hex(word, raw)) return std::nullopt;
  return crypto::to_hex(raw);
}

// The last word of a line: a key, or (an old line) a fingerprint of either version.
std::optional<verified_entry> entry_of(std::string_view server, std::string name, std::string_view last) {
  if (auto key = key_hex_or_none(last)) return verified_entry{std::string(server), std::move(name), *key, ""};
  if (auto parsed = crypto::parse_any_fingerprint(last)) {
    return verified_entry{std::string(server), std::move(name), "", std::move(parsed->canonical)};
  }
  return std::nullopt;
}

constexpr char what[] = "verified keys file";
// About 120 bytes an entry; a bigger file is not ours.
constexpr std::size_t max_file_size = 4 * 1024 * 1024;

}  // namespace

verified_store verified_store::parse(std::string_view content) {
  verified_store store;
  std::size_t start = 0;
  while (start < content.size()) {
    std::size_t end = content.find('\n', start);
    if (end == std::string_view::npos) end = content.size();
    std::string_view line = content.substr(start, end - start);
    start = end + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const auto words = split_words(line);
    if (words.empty() || words[0].starts_with("#")) continue;
    std::optional<verified_entry> entry;
    if (words[0] == "server" && words.size() == 3) {
      entry = entry_of(words[1], "", words[2]);
    } else if (words[0] == "user" && words.size() == 4 && is_valid_name(words[2])) {
      entry = entry_of(words[1], fold_name(words[2]), words[3]);
    }
    if (entry) store.entries_.push_back(std::move(*entry));
  }
  return store;
}

verified_store verified_store::load(const std::filesystem::path& path) {
  // Like known_hosts: not secret, but it decides what we call verified, so only a regular file
  // of ours that others cannot write is believed.
  try {
    const auto fd = files::open_existing(path, O_RDONLY, files::exposure::trusted, what);
    return fd.valid() ? parse(files::read_all(fd.get(), max_file_size, path, what)) : verified_store{};
  } catch (const files::secure_file_error& e) {
    throw verified_store_error(e.what());
  }
}

bool verified_store::contains(std::string_view server, std::string_view name, const std::string& key_hex,
                              const std::string& fingerprint) const {
  return std::any_of(entries_.begin(), entries_.end(), [&](const verified_entry& e) {
    if (e.server != server || e.name != name) return false;
    return e.key.empty() ? e.legacy_fingerprint == fingerprint : e.key == key_hex;
  });
}

bool verified_store::server_verified(std::string_view server, const crypto::public_key& key) const {
  return contains(server, "", crypto::to_hex(key), crypto::server_fingerprint_v2(key));
}

bool verified_store::user_verified(std::string_view server, std::string_view name,
                                   const crypto::ed25519_public_key& key) const {
  if (!is_valid_name(name)) return false;  // an empty name is the server's entry
  return contains(server, fold_name(name), crypto::to_hex(key), crypto::fingerprint_v2(key));
}

void verified_store::mark(verified_entry entry) {
  std::erase_if(entries_, [&](const verified_entry& e) {
    return e.server == entry.server && e.name == entry.name;
  });
  entries_.push_back(std::move(entry));
}

void verified_store::mark_server(std::string_view server, const crypto::public_key& key) {
  mark({std::string(server), "", crypto::to_hex(key), ""});
}

void verified_store::mark_user(std::string_view server, std::string_view name, const crypto::ed25519_public_key& key) {
  mark({std::string(server), fold_name(name), crypto::to_hex(key), ""});
}

std::string verified_store::serialize() const {
  std::string out = "# natter: keys you compared and marked verified (/verify)\n";
  for (const auto& e : entries_) {
    const std::string& named = e.key.empty() ? e.legacy_fingerprint : e.key;
    out += e.name.empty() ? "server " + e.server + " " + named : "user " + e.server + " " + e.name + " " + named;
    out += '\n';
  }
  return out;
}

void verified_store::save(const std::filesystem::path& path) const {
  if (const auto dir = path.parent_path(); !dir.empty() && !std::filesystem::exists(dir)) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) throw verified_store_error("cannot create " + dir.string() + ": " + ec.message());
    ::chmod(dir.c_str(), 0700);
  }
  // Atomic (a crash never leaves a half-written file, which would silently un-verify keys) and
  // through a random temporary name, never a fixed ".tmp" someone could plant as a symlink.
  try {
    files::replace_file(path, serialize(), what);
  } catch (const files::secure_file_error& e) {
    throw verified_store_error(e.what());
  }
}

verified_store load_verified_or_empty(const std::filesystem::path& path, std::string& error) {
  try {
    return verified_store::load(path);
  } catch (const verified_store_error& e) {
    error = e.what();
    return {};
  }
}

}  // namespace natter::client
