#include "natter/client/verified_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include <algorithm>

#include "natter/crypto/fingerprint_v2.hpp"
#include "natter/secure_file.hpp"
#include "natter/text.hpp"

namespace natter::client {

namespace {

// Protocol 1 fingerprints stay readable (an old file keeps its lines), but they name keys no
// v2 peer has, so they simply never match again.
std::optional<std::string> canonical_or_none(std::string_view fingerprint) {
  if (auto parsed = crypto::parse_any_fingerprint(fingerprint)) return std::move(parsed->canonical);
  return std::nullopt;
}

std::string canonical(std::string_view fingerprint) {
  return canonical_or_none(fingerprint).value_or(std::string(fingerprint));
}

constexpr char what[] = "verified keys file";
// About 80 bytes an entry; a bigger file is not ours.
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
    if (words[0] == "server" && words.size() == 3) {
      if (auto fp = canonical_or_none(words[2])) {
        store.entries_.push_back({std::string(words[1]), "", *fp});
      }
    } else if (words[0] == "user" && words.size() == 4 && is_valid_name(words[2])) {
      if (auto fp = canonical_or_none(words[3])) {
        store.entries_.push_back({std::string(words[1]), fold_name(words[2]), *fp});
      }
    }
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

bool verified_store::contains(std::string_view server, std::string_view name,
                              std::string_view fingerprint) const {
  const std::string fp = canonical(fingerprint);
  return std::any_of(entries_.begin(), entries_.end(), [&](const verified_entry& e) {
    return e.server == server && e.name == name && e.fingerprint == fp;
  });
}

bool verified_store::server_verified(std::string_view server, std::string_view fingerprint) const {
  return contains(server, "", fingerprint);
}

bool verified_store::user_verified(std::string_view server, std::string_view name,
                                   std::string_view fingerprint) const {
  return contains(server, fold_name(name), fingerprint);
}

void verified_store::mark(verified_entry entry) {
  std::erase_if(entries_, [&](const verified_entry& e) {
    return e.server == entry.server && e.name == entry.name;
  });
  entries_.push_back(std::move(entry));
}

void verified_store::mark_server(std::string_view server, std::string_view fingerprint) {
  mark({std::string(server), "", canonical(fingerprint)});
}

void verified_store::mark_user(std::string_view server, std::string_view name,
                               std::string_view fingerprint) {
  mark({std::string(server), fold_name(name), canonical(fingerprint)});
}

std::string verified_store::serialize() const {
  std::string out = "# natter: keys you compared and marked verified (/verify)\n";
  for (const auto& e : entries_) {
    out += e.name.empty() ? "server " + e.server + " " + e.fingerprint
                          : "user " + e.server + " " + e.name + " " + e.fingerprint;
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
