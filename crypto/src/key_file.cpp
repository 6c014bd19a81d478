#include "natter/crypto/key_file.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>
#include <string>

#include "natter/secure_file.hpp"

namespace natter::crypto {

namespace {

constexpr char header[] = "# natter identity: X25519 secret key. Keep this file private.\n";
constexpr char what[] = "key file";

// The helper's errors (secure_file_error) reach callers as key_file_error, this module's type.
template <typename F>
auto checked(F&& action) {
  try {
    return action();
  } catch (const files::secure_file_error& e) {
    throw key_file_error(e.what());
  }
}

void create_identity_file(const std::filesystem::path& path, const key_pair& keys) {
  checked([&] { files::create_parent_directories(path); });
  // Refuse now what load_identity would refuse on the next start.
  checked([&] { files::check_directory_of(path, what); });
  // O_EXCL: never overwrite a key that appeared meanwhile; 0600 from the first byte on.
  const auto fd = checked([&] { return files::create_new(path, 0, what); });
  if (!fd.valid()) throw key_file_error("cannot create key file " + path.string() + ": it already exists");
  std::array<char, key_size * 2 + 1> hex{};
  sodium_bin2hex(hex.data(), hex.size(), keys.secret.data(), key_size);
  hex[key_size * 2] = '\n';
  try {
    checked([&] {
      files::write_all(fd.get(), std::string_view(header, sizeof header - 1), path, what);
      files::write_all(fd.get(), std::string_view(hex.data(), hex.size()), path, what);
    });
    if (::fsync(fd.get()) != 0) throw key_file_error("cannot sync key file " + path.string() + ": " + std::strerror(errno));
  } catch (...) {
    sodium_memzero(hex.data(), hex.size());
    ::unlink(path.c_str());
    throw;
  }
  sodium_memzero(hex.data(), hex.size());
}

// Reads the secret from an fd that open_existing accepted.
key_pair read_identity(int fd, const std::filesystem::path& path) {
  // The file is tiny; read it into a buffer we wipe afterwards.
  std::array<char, 512> buffer{};
  ssize_t total = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buffer.data() + total, buffer.size() - 1 - static_cast<std::size_t>(total));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) throw key_file_error("cannot read key file " + path.string() + ": " + std::strerror(errno));
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

// Opens with the helper's checks: not a symlink, a regular file, ours, no group/other bits, in
// a directory nobody else can write. An invalid fd if the file does not exist.
files::unique_fd open_identity(const std::filesystem::path& path) {
  return checked([&] {
    files::check_directory_of(path, what);
    return files::open_existing(path, O_RDONLY, files::exposure::secret, what);
  });
}

}  // namespace

key_pair load_identity(const std::filesystem::path& path) {
  const auto fd = open_identity(path);
  if (!fd.valid()) throw key_file_error("cannot open key file " + path.string() + ": " + std::strerror(ENOENT));
  return read_identity(fd.get(), path);
}

loaded_identity load_or_create_identity(const std::filesystem::path& path) {
  // A missing directory is simply a first start: nothing to check yet.
  std::error_code ec;
  if (!path.has_parent_path() || std::filesystem::is_directory(path.parent_path(), ec)) {
    if (const auto fd = open_identity(path); fd.valid()) return {read_identity(fd.get(), path), false};
  }
  key_pair keys = key_pair::generate();
  create_identity_file(path, keys);
  return {std::move(keys), true};
}

}  // namespace natter::crypto
