#include "natter/crypto/keylog.hpp"

#include <fcntl.h>
#include <sodium.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "natter/crypto/key_file.hpp"

namespace natter::crypto {

std::string keylog_line(const nonce& connection_id, const shared_key& session_key) {
  return "NATTER_SESSION_KEY " + to_hex(connection_id) + " " +
         to_hex(std::span<const std::uint8_t>(session_key.data(), key_size));
}

keylog_writer::keylog_writer(const std::filesystem::path& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0) throw key_file_error("cannot open key log " + path.string() + ": " + std::strerror(errno));
}

keylog_writer::~keylog_writer() {
  if (fd_ >= 0) ::close(fd_);
}

void keylog_writer::append(const nonce& connection_id, const shared_key& session_key) {
  std::string line = keylog_line(connection_id, session_key) + "\n";
  {
    // One write() per line under O_APPEND: lines from several processes never interleave.
    std::lock_guard lock(mutex_);
    const ssize_t n = ::write(fd_, line.data(), line.size());
    (void)n;  // best effort: a full disk must not break the chat
  }
  sodium_memzero(line.data(), line.size());
}

void keylog_writer::on_session_key(const nonce& connection_id, const shared_key& session_key) noexcept {
  try {
    append(connection_id, session_key);
  } catch (...) {
    // Only an allocation can fail here; losing one key log line must not end the connection.
  }
}

}  // namespace natter::crypto
