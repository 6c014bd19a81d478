#pragma once
// Opening the files that hold secrets or trust (key files, the key log, known_hosts, verified)
// without being steered by what another local user planted: a symlink, a FIFO, a directory, a
// file someone else owns or can read, a fixed temporary name. POSIX only; no crypto here.
//
// Every function that can fail throws secure_file_error, whose message names the file as
// "<what> <path>" and the reason (e.g. "key log /tmp/k is a symlink: refused"); callers rethrow
// it as their module's own error type. docs/SECURITY.md ("Files") lists the rules.
#include <cstddef>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>

namespace natter::files {

struct secure_file_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A file descriptor, closed on destruction.
class unique_fd {
 public:
  unique_fd() = default;
  explicit unique_fd(int fd) : fd_(fd) {}
  ~unique_fd();
  unique_fd(unique_fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  unique_fd& operator=(unique_fd&& other) noexcept;
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;

  [[nodiscard]] int get() const { return fd_; }
  [[nodiscard]] bool valid() const { return fd_ >= 0; }
  // Gives up ownership (to close it by hand and check the result).
  [[nodiscard]] int release() { return std::exchange(fd_, -1); }

 private:
  int fd_ = -1;
};

// What group and others may do to an existing file (its owner must be the effective user).
enum class exposure {
  secret,   // nothing at all (no bit of 077): key files, the key log
  trusted,  // read, not write (no bit of 022): known_hosts, verified — integrity, not secrecy
};

// Opens an existing file with O_NOFOLLOW | O_CLOEXEC | `flags` (O_RDONLY, or O_WRONLY |
// O_APPEND) and checks the descriptor it got, not the name: a regular file, owned by the
// effective user, no group/other bits beyond `level`, and, when opened for writing, one link
// only (a planted hard link to another of our files is refused). An invalid fd if the name does
// not exist; secure_file_error for anything else.
[[nodiscard]] unique_fd open_existing(const std::filesystem::path& path, int flags, exposure level,
                                      std::string_view what);

// Creates a new file, O_CREAT | O_EXCL | O_NOFOLLOW, mode 0600, opened O_WRONLY | `flags`: never
// through an existing name or a (dangling) symlink. An invalid fd if the name already exists.
[[nodiscard]] unique_fd create_new(const std::filesystem::path& path, int flags, std::string_view what);

// The key log's rule: a new file is created 0600; an existing one is appended to only if
// open_existing(O_WRONLY | O_APPEND, exposure::secret) accepts it.
[[nodiscard]] unique_fd open_or_create_for_append(const std::filesystem::path& path, std::string_view what);

// ssh's rule for the directory holding a key file: owned by the effective user or root and not
// writable by group or others (sticky or not: /tmp itself is refused), so nobody else can swap
// the file between our check and our read. Only the immediate directory is checked; a symlinked
// directory is checked where it points.
void check_directory_of(const std::filesystem::path& file, std::string_view what);

// Creates the missing parent directories of `file`; a directory made here is narrowed to 0700,
// while an existing one (".", a home directory) keeps the mode its owner chose. Throws
// secure_file_error naming the directory if it cannot be created.
void create_parent_directories(const std::filesystem::path& file);

// Reads the rest of `fd`; more than `max_size` bytes is an error ("<what> <path> is too large").
[[nodiscard]] std::string read_all(int fd, std::size_t max_size, const std::filesystem::path& path,
                                   std::string_view what);

// Writes all of `data` (retrying short writes and EINTR).
void write_all(int fd, std::string_view data, const std::filesystem::path& path, std::string_view what);

// Replaces `path` with `content` atomically: a fresh mkstemp file beside it (mode 0600, a random
// name, so nothing planted at a predictable name is followed or clobbered), written, fsynced,
// renamed over `path` (replacing a symlink there, never writing through it), then the directory
// fsynced so the rename itself survives a crash. On failure `path` is unchanged and the temporary
// file is gone.
void replace_file(const std::filesystem::path& path, std::string_view content, std::string_view what);

}  // namespace natter::files
