#include "natter/crypto/identity_file_v2.hpp"

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

constexpr char what[] = "identity file";
constexpr std::string_view preamble =
    "natter identity v2\n"
    "# Ed25519 seed (the X25519 key is derived from it). Keep this file private.\n";
static_assert(preamble.starts_with(identity_file_v2_header));

// A well-formed file is about 160 bytes; anything longer than this is not one of ours.
constexpr std::size_t max_file_size = 4096;
constexpr std::size_t seed_hex_digits = ed25519_seed_size * 2;

[[noreturn]] void fail(const std::filesystem::path& path, const std::string& reason) {
  throw identity_file_v2_error(std::string(what) + " " + path.string() + " " + reason);
}

// secure_file's errors (and v1 key_file's) reach callers as this module's type.
template <typename F>
auto checked(F&& action) {
  try {
    return action();
  } catch (const files::secure_file_error& e) {
    throw identity_file_v2_error(e.what());
  }
}

// Bytes that held a seed: wiped when they go out of scope, on every path.
template <std::size_t N>
struct wiped_chars {
  std::array<char, N> bytes{};
  wiped_chars() = default;
  ~wiped_chars() { sodium_memzero(bytes.data(), bytes.size()); }
  wiped_chars(const wiped_chars&) = delete;
  wiped_chars& operator=(const wiped_chars&) = delete;
};

// One line without its '\n' and without trailing '\r' or spaces.
std::string_view trimmed(std::string_view line) {
  while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.remove_suffix(1);
  return line;
}

bool ignorable(std::string_view line) { return line.empty() || line.front() == '#'; }

// The seed from the lines after the header, or a reason why not.
secret_bytes parse_v2_body(std::string_view body, const std::filesystem::path& path) {
  secret_bytes seed;
  bool found = false;
  while (!body.empty()) {
    const std::size_t newline = body.find('\n');
    const std::string_view line = trimmed(body.substr(0, newline));
    body.remove_prefix(newline == std::string_view::npos ? body.size() : newline + 1);
    if (ignorable(line)) continue;
    if (found) fail(path, "has more than one seed line: refused");
    std::size_t written = 0;
    const char* end = nullptr;
    if (line.size() != seed_hex_digits ||
        sodium_hex2bin(seed.data(), seed.size(), line.data(), line.size(), nullptr, &written, &end) != 0 ||
        written != seed.size() || end != line.data() + line.size()) {
      fail(path, "is malformed: expected 64 hex digits of the Ed25519 seed after the header");
    }
    found = true;
  }
  if (!found) fail(path, "is malformed: it has no seed line (64 hex digits) after the header");
  return seed;
}

// Reads what open_existing accepted and tells v2, v1 and neither apart.
std::variant<identity_v2, v1_identity_found> read_identity(int fd, const std::filesystem::path& path) {
  wiped_chars<max_file_size + 1> buffer;
  std::size_t total = 0;
  for (;;) {
    const ssize_t n = ::read(fd, buffer.bytes.data() + total, buffer.bytes.size() - total);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail(path, std::string("cannot be read: ") + std::strerror(errno));
    if (n == 0) break;
    total += static_cast<std::size_t>(n);
    if (total > max_file_size) fail(path, "is too large (more than " + std::to_string(max_file_size) + " bytes): refused");
  }
  const std::string_view text(buffer.bytes.data(), total);
  const std::size_t newline = text.find('\n');
  const std::string_view first = trimmed(text.substr(0, newline));
  if (first == identity_file_v2_header) {
    const std::string_view body = newline == std::string_view::npos ? std::string_view{} : text.substr(newline + 1);
    return identity_v2::from_seed(parse_v2_body(body, path));
  }
  if (first.starts_with("natter identity")) {
    // Some other version (a newer natter wrote it): not a v1 file, and not ours to guess at.
    fail(path, "has an unsupported version (first line is not \"natter identity v2\"): refused");
  }
  // Not v2: a v1 key file is read by the v1 loader itself, so "v1" means exactly what v1
  // accepts. It opens the name again with the same checks; the directory check above is what
  // keeps anyone else from swapping the file in between.
  try {
    return v1_identity_found{load_identity(path), path};
  } catch (const key_file_error&) {
    fail(path, "is not a natter identity: expected \"natter identity v2\" on the first line, or a v1 key file "
               "(64 hex digits of an X25519 secret)");
  }
}

// Opens with the helper's checks (not a symlink, a regular file, ours, no group/other bits, in
// a directory nobody else can write). An invalid fd if the name does not exist.
files::unique_fd open_identity(const std::filesystem::path& path) {
  return checked([&] {
    files::check_directory_of(path, what);
    return files::open_existing(path, O_RDONLY, files::exposure::secret, what);
  });
}

}  // namespace

void create_identity_file_v2(const std::filesystem::path& path, const identity_v2& identity) {
  checked([&] { files::create_parent_directories(path); });
  // Refuse now what loading would refuse on the next start.
  checked([&] { files::check_directory_of(path, what); });
  // O_EXCL: never overwrite an identity (v1 or v2) that is there or appeared meanwhile.
  const auto fd = checked([&] { return files::create_new(path, 0, what); });
  if (!fd.valid()) fail(path, "already exists: not overwritten");
  wiped_chars<seed_hex_digits + 1> hex;
  sodium_bin2hex(hex.bytes.data(), hex.bytes.size(), identity.seed().data(), identity.seed().size());
  hex.bytes[seed_hex_digits] = '\n';  // over sodium_bin2hex's terminating NUL
  try {
    checked([&] {
      files::write_all(fd.get(), preamble, path, what);
      files::write_all(fd.get(), std::string_view(hex.bytes.data(), hex.bytes.size()), path, what);
    });
    if (::fsync(fd.get()) != 0) fail(path, std::string("cannot be synced: ") + std::strerror(errno));
  } catch (...) {
    ::unlink(path.c_str());
    throw;
  }
}

std::variant<identity_v2, v1_identity_found> load_identity_v2(const std::filesystem::path& path) {
  const auto fd = open_identity(path);
  if (!fd.valid()) fail(path, std::string("cannot be opened: ") + std::strerror(ENOENT));
  return read_identity(fd.get(), path);
}

std::variant<loaded_identity_v2, v1_identity_found> load_or_create_identity_v2(const std::filesystem::path& path) {
  // A missing directory is simply a first start: nothing to check yet.
  std::error_code ec;
  if (!path.has_parent_path() || std::filesystem::is_directory(path.parent_path(), ec)) {
    if (const auto fd = open_identity(path); fd.valid()) {
      auto found = read_identity(fd.get(), path);
      if (auto* v1 = std::get_if<v1_identity_found>(&found)) return std::move(*v1);
      return loaded_identity_v2{std::move(std::get<identity_v2>(found)), false};
    }
  }
  auto identity = identity_v2::generate();
  create_identity_file_v2(path, identity);
  return loaded_identity_v2{std::move(identity), true};
}

}  // namespace natter::crypto
