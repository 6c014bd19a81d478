#include "natter/crypto/keylog.hpp"

#include <sodium.h>
#include <unistd.h>

#include "natter/crypto/key_file.hpp"
#include "natter/secure_file.hpp"

namespace natter::crypto {

std::string keylog_line(const public_key& connection_id, const secret_key& client_to_server,
                        const secret_key& server_to_client) {
  return "NATTER_V2_SESSION " + to_hex(connection_id) + " " +
         to_hex(std::span<const std::uint8_t>(client_to_server.data(), key_size)) + " " +
         to_hex(std::span<const std::uint8_t>(server_to_client.data(), key_size));
}

keylog_writer::keylog_writer(const std::filesystem::path& path) : path_(path) {
  // The path comes from the command line or the environment and often points into /tmp, where
  // anyone can plant a name first: a new file is made 0600 with O_EXCL; an existing one is used
  // only if it is a regular file, ours, with no group/other bits and a single link. Session keys
  // must never go through a symlink or into a file others can read.
  try {
    fd_ = files::open_or_create_for_append(path, "key log").release();
  } catch (const files::secure_file_error& e) {
    throw key_file_error(e.what());
  }
}

keylog_writer::~keylog_writer() {
  if (fd_ >= 0) ::close(fd_);
}

void keylog_writer::append(const public_key& connection_id, const secret_key& client_to_server,
                           const secret_key& server_to_client) {
  std::string line = keylog_line(connection_id, client_to_server, server_to_client) + "\n";
  {
    // One write() per line under O_APPEND: lines from several processes never interleave.
    std::lock_guard lock(mutex_);
    const ssize_t n = ::write(fd_, line.data(), line.size());
    (void)n;  // best effort: a full disk must not break the chat
  }
  sodium_memzero(line.data(), line.size());
}

void keylog_writer::on_session_keys(const public_key& connection_id, const secret_key& client_to_server,
                                    const secret_key& server_to_client) noexcept {
  try {
    append(connection_id, client_to_server, server_to_client);
  } catch (...) {
    // Only an allocation can fail here; losing one key log line must not end the connection.
  }
}

}  // namespace natter::crypto
