#include "natter/crypto/key_file.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>

namespace natter::crypto {

namespace {

constexpr char header[] = "# natter identity: X25519 secret key. Keep this file private.\n";

std::string errno_text() { return std::strerror(errno); }

// Closes a file descriptor on scope exit.
struct fd_guard {
  int fd;
  ~fd_guard() {
    if (fd >= 0) ::close(fd);
  }
};

void write_all(int fd, const char* data, std::size_t size, const std::filesystem::path& path) {
  while (size > 0) {
    const ssize_t n = ::write(fd, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      throw key_file_error("cannot write key file " + path.string() + ": " + errno_text());
    }
    data += n;
    size -= static_cast<std::size_t>(n);
  }
}

void create_identity_file(const std::filesystem::path& path, const key_pair& keys) {
  if (path.has_parent_path()) {
    std::error_code ec;
    const bool created = std::filesystem::create_directories(path.parent_path(), ec);
    if (ec) throw key_file_error("cannot create " + path.parent_path().string() + ": " + ec.message());
    // Only a directory made here is narrowed to 0700; an existing one (".", a home directory)
    // keeps the mode its owner chose.
    if (created) ::chmod(path.parent_path().c_str(), 0700);
  }
  // O_EXCL: never overwrite a key that appeared meanwhile; 0600 from the first byte on.
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) throw key_file_error("cannot create key file " + path.string() + ": " + errno_text());
  fd_guard guard{fd};
  std::array<char, key_size * 2 + 1> hex{};
  sodium_bin2hex(hex.data(), hex.size(), keys.secret.data(), key_size);
  hex[key_size * 2] = '\n';
  try {
    write_all(fd, header, sizeof header - 1, path);
    write_all(fd, hex.data(), hex.size(), path);
  } catch (...) {
    sodium_memzero(hex.data(), hex.size());
    ::unlink(path.c_str());
    throw;
  }
  sodium_memzero(hex.data(), hex.size());
  if (::fsync(fd) != 0) throw key_file_error("cannot sync key file " + path.string() + ": " + errno_text());
}

}  // namespace

key_pair load_identity(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw key_file_error("cannot open key file " + path.string() + ": " + errno_text());
  fd_guard guard{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) throw key_file_error("cannot stat key file " + path.string());
  if ((st.st_mode & 077) != 0) {
    throw key_file_error("key file " + path.string() +
                         " is readable by other users; run: chmod 600 " + path.string());
  }
  // The file is tiny; read it into a buffer we wipe afterwards.
  std::array<char, 512> buffer{};
  ssize_t total = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data() + total, buffer.size() - 1 - static_cast<std::size_t>(total));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw key_file_error("cannot read key file " + path.string() + ": " + errno_text());
    if (n == 0) break;
    total += n;
    if (static_cast<std::size_t>(total) >= buffer.size() - 1) break;
  }
  secret_key secret;
  bool found = false;
  std::size_t line_start = 0;
  const std::size_t size = static_cast<std::size_t>(total);
  while (line_start < size && !found) {
    std::size_t line_end = line_start;
    while (line_end < size && buffer[line_end] != '\n') ++line_end;
    if (buffer[line_start] != '#' && line_end > line_start) {
      std::size_t written = 0;
      const char* end = nullptr;
      std::size_t length = line_end - line_start;
      while (length > 0 && (buffer[line_start + length - 1] == '\r' || buffer[line_start + length - 1] == ' ')) --length;
      found = length == key_size * 2 &&
              sodium_hex2bin(secret.data(), key_size, buffer.data() + line_start, length, nullptr,
                             &written, &end) == 0 &&
              written == key_size;
      if (!found) break;
    }
    line_start = line_end + 1;
  }
  sodium_memzero(buffer.data(), buffer.size());
  if (!found) throw key_file_error("key file " + path.string() + " is not a natter identity (expected 64 hex digits)");
  return key_pair::from_secret(std::move(secret));
}

loaded_identity load_or_create_identity(const std::filesystem::path& path) {
  std::error_code ec;
  if (std::filesystem::exists(path, ec)) return {load_identity(path), false};
  key_pair keys = key_pair::generate();
  create_identity_file(path, keys);
  return {std::move(keys), true};
}

}  // namespace natter::crypto
