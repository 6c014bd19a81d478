#include "natter/client/known_hosts.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

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

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& path) {
  throw known_hosts_error(what + " " + path.string() + ": " + std::strerror(errno));
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

known_hosts known_hosts::load(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    if (errno == ENOENT) return {};
    fail("cannot read known hosts file", path);
  }
  std::ostringstream content;
  content << in.rdbuf();
  return parse(content.str());
}

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
  // 0600: pins are not secret, but a writable pin file lets anyone redirect trust.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd < 0) fail("cannot open known hosts file", path);
  std::string line = format_line(host, key) + "\n";
  // A hand-edited file may lack its final newline; do not glue our pin onto its last line.
  struct stat st {};
  char last = '\n';
  if (::fstat(fd, &st) == 0 && st.st_size > 0) {
    std::ifstream tail(path, std::ios::binary);
    tail.seekg(-1, std::ios::end);
    tail.get(last);
  }
  if (last != '\n') line.insert(line.begin(), '\n');
  std::size_t written = 0;
  while (written < line.size()) {
    const auto n = ::write(fd, line.data() + written, line.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int saved = errno;
      ::close(fd);
      errno = saved;
      fail("cannot write known hosts file", path);
    }
    written += static_cast<std::size_t>(n);
  }
  if (::close(fd) != 0) fail("cannot write known hosts file", path);
}

}  // namespace natter::client
