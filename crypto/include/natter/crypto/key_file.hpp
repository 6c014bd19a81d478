#pragma once
// Long-term identity key files. A key file holds the X25519 secret key as hex with a comment
// line. It is created with mode 0600 (O_EXCL, so an existing file is never clobbered) and, like
// ssh, loaded only if it is a regular file (not a symlink, FIFO or directory), owned by the
// effective user, with no group/other permission bits, in a directory owned by that user or root
// that group and others cannot write (natter/secure_file.hpp; docs/SECURITY.md "Files").
#include <filesystem>
#include <stdexcept>

#include "natter/crypto/keys.hpp"

namespace natter::crypto {

struct key_file_error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

struct loaded_identity {
  key_pair keys;
  bool created = false;  // true if this call generated and wrote a new key
};

// Loads the key at `path`, or creates a new random one there (and missing parent directories,
// mode 0700) if it does not exist. Throws key_file_error with a message fit for the user.
[[nodiscard]] loaded_identity load_or_create_identity(const std::filesystem::path& path);

// Loads an existing key; throws key_file_error if missing, malformed or refused by the checks
// above (the message names the file, the reason and, for a mode, the chmod that fixes it).
[[nodiscard]] key_pair load_identity(const std::filesystem::path& path);

}  // namespace natter::crypto
