#include "natter/secure_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace natter::files {

namespace {

std::string name_of(std::string_view what, const std::filesystem::path& path) {
  return std::string(what) + " " + path.string();
}

[[noreturn]] void fail(std::string_view what, const std::filesystem::path& path, const std::string& reason) {
  throw secure_file_error(name_of(what, path) + " " + reason);
}

[[noreturn]] void fail_errno(std::string_view doing, std::string_view what, const std::filesystem::path& path) {
  throw secure_file_error("cannot " + std::string(doing) + " " + name_of(what, path) + ": " + std::strerror(errno));
}

std::string octal(mode_t mode) {
  char text[8];
  std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
  return text;
}

const char* kind_of(mode_t mode) {
  if (S_ISLNK(mode)) return "a symlink";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode) || S_ISBLK(mode)) return "a device";
  return "not a regular file";
}

// Why open() refused: the error alone (ELOOP, ENXIO, EISDIR) says little, so look at what is
// there. Only for the message; the decision was open()'s.
[[noreturn]] void explain_open_failure(std::string_view what, const std::filesystem::path& path) {
  const int saved = errno;
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode)) {
    fail(what, path, std::string("is ") + kind_of(st.st_mode) + ": refused");
  }
  errno = saved;
  fail_errno("open", what, path);
}

// The checks on what we actually opened (fstat on the descriptor, so no race with the name).
void check_opened(int fd, int flags, exposure level, std::string_view what, const std::filesystem::path& path) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail_errno("stat", what, path);
  if (!S_ISREG(st.st_mode)) fail(what, path, std::string("is ") + kind_of(st.st_mode) + ": refused");
  const uid_t me = ::geteuid();
  if (st.st_uid != me) {
    fail(what, path, "is owned by uid " + std::to_string(st.st_uid) + ", not by you (uid " + std::to_string(me) +
                         "): refused");
  }
  const mode_t forbidden = level == exposure::secret ? 077 : 022;
  if ((st.st_mode & forbidden) != 0) {
    const char* how = (st.st_mode & forbidden & 044) != 0 ? "readable" : "writable";
    fail(what, path, std::string("is ") + how + " by others (mode " + octal(st.st_mode) + "): chmod 600 " + path.string());
  }
  // Appending to a file with a second name would write into whatever that name is elsewhere.
  if ((flags & O_ACCMODE) != O_RDONLY && st.st_nlink != 1) {
    fail(what, path, "has " + std::to_string(st.st_nlink) + " hard links: refused");
  }
}

}  // namespace

unique_fd::~unique_fd() {
  if (fd_ >= 0) ::close(fd_);
}

unique_fd& unique_fd::operator=(unique_fd&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
  }
  return *this;
}

unique_fd open_existing(const std::filesystem::path& path, int flags, exposure level, std::string_view what) {
  // O_NONBLOCK: opening a planted FIFO must fail or return at once, never hang until a writer
  // (or reader) shows up. It is cleared again once we know the file is regular.
  unique_fd fd(::open(path.c_str(), flags | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK));
  if (!fd.valid()) {
    if (errno == ENOENT) return {};
    explain_open_failure(what, path);
  }
  check_opened(fd.get(), flags, level, what, path);
  const int status = ::fcntl(fd.get(), F_GETFL);
  if (status < 0 || ::fcntl(fd.get(), F_SETFL, status & ~O_NONBLOCK) != 0) fail_errno("open", what, path);
  return fd;
}

unique_fd create_new(const std::filesystem::path& path, int flags, std::string_view what) {
  unique_fd fd(::open(path.c_str(), O_WRONLY | flags | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0600));
  if (!fd.valid()) {
    if (errno == EEXIST) return {};
    fail_errno("create", what, path);
  }
  return fd;
}

unique_fd open_or_create_for_append(const std::filesystem::path& path, std::string_view what) {
  // Two tries cover the name vanishing or appearing between the two opens; a third change in
  // that window is someone playing games.
  for (int attempt = 0; attempt < 2; ++attempt) {
    if (auto fd = create_new(path, O_APPEND, what); fd.valid()) return fd;
    if (auto fd = open_existing(path, O_WRONLY | O_APPEND, exposure::secret, what); fd.valid()) return fd;
  }
  fail(what, path, "keeps appearing and disappearing: refused");
}

void create_parent_directories(const std::filesystem::path& file) {
  if (!file.has_parent_path()) return;
  std::error_code ec;
  const bool created = std::filesystem::create_directories(file.parent_path(), ec);
  if (ec) throw secure_file_error("cannot create " + file.parent_path().string() + ": " + ec.message());
  if (created) ::chmod(file.parent_path().c_str(), 0700);
}

void check_directory_of(const std::filesystem::path& file, std::string_view what) {
  const std::filesystem::path dir = file.has_parent_path() ? file.parent_path() : std::filesystem::path(".");
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) fail_errno("check the directory of", what, file);
  if (st.st_uid != ::geteuid() && st.st_uid != 0) {
    fail(what, file, "is in " + dir.string() + ", owned by uid " + std::to_string(st.st_uid) +
                         " (neither you nor root): refused");
  }
  if ((st.st_mode & 022) != 0) {
    fail(what, file, "is in " + dir.string() + ", writable by others (mode " + octal(st.st_mode) +
                         "): refused; chmod go-w " + dir.string() + " or move the file");
  }
}

std::string read_all(int fd, std::size_t max_size, const std::filesystem::path& path, std::string_view what) {
  std::string out;
  char buffer[4096];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof buffer);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_errno("read", what, path);
    if (n == 0) return out;
    if (out.size() + static_cast<std::size_t>(n) > max_size) {
      fail(what, path, "is too large (more than " + std::to_string(max_size) + " bytes): refused");
    }
    out.append(buffer, static_cast<std::size_t>(n));
  }
}

void write_all(int fd, std::string_view data, const std::filesystem::path& path, std::string_view what) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_errno("write", what, path);
    data.remove_prefix(static_cast<std::size_t>(n));
  }
}

void replace_file(const std::filesystem::path& path, std::string_view content, std::string_view what) {
  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  // Hidden, beside the target (rename is atomic only within one file system), random suffix.
  std::string temp = (dir / ("." + path.filename().string() + ".XXXXXX")).string();
  unique_fd fd(::mkostemp(temp.data(), O_CLOEXEC));
  if (!fd.valid()) fail_errno("create a temporary file for", what, path);
  try {
    // mkstemp already uses 0600; say so explicitly rather than rely on the C library.
    if (::fchmod(fd.get(), 0600) != 0) fail_errno("write", what, path);
    write_all(fd.get(), content, path, what);
    if (::fsync(fd.get()) != 0) fail_errno("sync", what, path);
    if (::close(fd.release()) != 0) fail_errno("write", what, path);
    if (::rename(temp.c_str(), path.c_str()) != 0) fail_errno("replace", what, path);
  } catch (...) {
    ::unlink(temp.c_str());
    throw;
  }
  // Make the new directory entry durable too; failure here leaves a correct file, so report it.
  const unique_fd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dir_fd.valid() || ::fsync(dir_fd.get()) != 0) fail_errno("sync the directory of", what, path);
}

}  // namespace natter::files
