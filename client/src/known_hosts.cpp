#include "natter/client/known_hosts.hpp"

#include <fcntl.h>
#include <sys/stat.h>

#include "natter/secure_file.hpp"

namespace natter::client {

namespace {

std::string_view trim(std::string_view s) {
  const auto first = s.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = s.find_last_not_of(" \t\r");
  return s.substr(first, last - first + 1);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

constexpr char what[] = "known hosts file";
// Far beyond any real list of pins (about 90 bytes a line); a bigger file is not ours.
constexpr std::size_t max_file_size = 4 * 1024 * 1024;

// The file's whole content, "" if it does not exist. Pins are not secret but they decide whom
// we trust, so the file must be a regular file (no symlink), ours, and not writable by others.
std::string read_checked(const std::filesystem::path& path) {
  try {
    const auto fd = files::open_existing(path, O_RDONLY, files::exposure::trusted, what);
    return fd.valid() ? files::read_all(fd.get(), max_file_size, path, what) : std::string();
  } catch (const files::secure_file_error& e) {
    throw known_hosts_error(e.what());
  }
}

}  // namespace

std::string host_key(std::string_view host, std::uint16_t port) {
  const bool ipv6 = host.find(':') != std::string_view::npos;
  std::string out = ipv6 ? "[" + lower(host) + "]" : lower(host);
  return out + ":" + std::to_string(port);
}

known_hosts known_hosts::parse(std::string_view content) {
  known_hosts out;
  std::size_t line_number = 0;
  while (!content.empty()) {
    const auto end = content.find('\n');
    const std::string_view line = trim(content.substr(0, end));
    content = end == std::string_view::npos ? std::string_view{} : content.substr(end + 1);
    ++line_number;
    if (line.empty() || line.front() == '#') continue;
    const auto space = line.find_first_of(" \t");
    if (space == std::string_view::npos) {
      ++out.malformed_;
      continue;
    }
    const auto key = crypto::public_key_from_hex(trim(line.substr(space + 1)));
    if (!key) {
      ++out.malformed_;
      continue;
    }
    out.entries_.push_back({lower(line.substr(0, space)), *key, line_number});
  }
  return out;
}

known_hosts known_hosts::load(const std::filesystem::path& path) { return parse(read_checked(path)); }

const known_host* known_hosts::find(std::string_view host) const {
  const std::string wanted = lower(host);
  for (const auto& entry : entries_) {
    if (entry.host == wanted) return &entry;
  }
  return nullptr;
}

void known_hosts::add(std::string host, const crypto::public_key& key) {
  entries_.push_back({lower(host), key, 0});
}

std::string known_hosts::format_line(std::string_view host, const crypto::public_key& key) {
  return lower(host) + " " + crypto::to_hex(key);
}

void known_hosts::append(const std::filesystem::path& path, std::string_view host,
                         const crypto::public_key& key) {
  if (path.has_parent_path()) {
    const auto dir = path.parent_path();
    std::error_code ec;
    if (!std::filesystem::exists(dir, ec)) {
      std::filesystem::create_directories(dir, ec);
      if (ec) throw known_hosts_error("cannot create " + dir.string() + ": " + ec.message());
      // Only the owner needs to list the directory holding the identity and pins.
      ::chmod(dir.c_str(), 0700);
    }
  }
  // The whole file is rewritten rather than appended to: a fresh 0600 temporary file beside it,
  // fsynced and renamed over it, so a crash leaves the old list or the new one, never half a
  // line, and nothing planted at the name (or at a predictable temporary name) is written
  // through. Two clients pinning at the same instant may lose one pin; it is asked for again.
  std::string content = read_checked(path);
  // A hand-edited file may lack its final newline; do not glue our pin onto its last line.
  if (!content.empty() && content.back() != '\n') content += '\n';
  content += format_line(host, key) + "\n";
  try {
    files::replace_file(path, content, what);
  } catch (const files::secure_file_error& e) {
    throw known_hosts_error(e.what());
  }
}

}  // namespace natter::client
