#include "natter/crypto/e2e_keylog.hpp"

#include <sodium.h>
#include <unistd.h>

#include "natter/crypto/key_file.hpp"
#include "natter/secure_file.hpp"

namespace natter::crypto::e2e {

std::string e2e_keylog_line(const message_key_use& use, const secret_key& key) {
  std::string line = "NATTER_E2E_KEY ";
  line += use.kind == chain_kind::pairwise ? "pairwise " : "room ";
  line += to_hex(use.id) + " " + std::to_string(use.n) + " ";
  if (use.kind == chain_kind::pairwise) {
    line += std::string(use.sender) + "->" + std::string(use.recipient) + " ";
  }
  line += to_hex(std::span<const std::uint8_t>(key.data(), key_size));
  return line;
}

e2e_keylog_writer::e2e_keylog_writer(const std::filesystem::path& path) {
  // The same reasoning as the hop key log: never through a planted name or a readable file.
  try {
    fd_ = files::open_or_create_for_append(path, "end-to-end key log").release();
  } catch (const files::secure_file_error& e) {
    throw key_file_error(e.what());
  }
}

e2e_keylog_writer::~e2e_keylog_writer() {
  if (fd_ >= 0) ::close(fd_);
}

void e2e_keylog_writer::on_message_key(const message_key_use& use, const secret_key& key) noexcept {
  try {
    std::string line = e2e_keylog_line(use, key) + "\n";
    {
      // One write() per line under O_APPEND: lines from several processes never interleave.
      std::lock_guard lock(mutex_);
      const ssize_t written = ::write(fd_, line.data(), line.size());
      (void)written;  // best effort: a full disk must not break the chat
    }
    sodium_memzero(line.data(), line.size());
  } catch (...) {
    // Only an allocation can fail; losing a line must not lose a message.
  }
}

}  // namespace natter::crypto::e2e
