#pragma once
// Identity files v2 (docs/PROTOCOL.md §6): the Ed25519 seed of an identity_v2, as text:
//
//   natter identity v2
//   # Ed25519 seed (the X25519 key is derived from it). Keep this file private.
//   <64 lowercase hex digits>
//
// The first line is exactly the version header; then any number of '#' comment lines; then the
// seed; then nothing but blank or comment lines. CRLF line ends are accepted.
//
// The file is handled exactly like a v1 key file (key_file.hpp, natter/secure_file.hpp): created
// 0600 with O_EXCL (never clobbering or writing through an existing name or a dangling symlink),
// missing parent directories made 0700; loaded only if it is a regular file (no symlink, FIFO or
// directory), owned by the effective user, without group/other bits, in a directory owned by
// that user or root that group and others cannot write.
//
// A v1 key file (a comment and 64 hex digits of an X25519 secret, no header) is recognised and
// returned as v1_identity_found, never treated as a seed and never overwritten, so the caller
// can migrate (docs/PROTOCOL.md §7).
#include <filesystem>
#include <variant>

#include "natter/crypto/identity_v2.hpp"
#include "natter/crypto/key_file.hpp"

namespace natter::crypto {

inline constexpr std::string_view identity_file_v2_header = "natter identity v2";

// Everything this module refuses; the message names the file and the reason, fit for the user.
// A key_file_error, so a caller that already catches v1 key file errors catches these too.
struct identity_file_v2_error : key_file_error {
  using key_file_error::key_file_error;
};

struct loaded_identity_v2 {
  identity_v2 identity;
  bool created = false;  // true if this call generated and wrote a new identity
};

// The file at `path` is a v1 key file: its X25519 key pair, loaded through key_file.hpp.
struct v1_identity_found {
  key_pair v1_keys;
  std::filesystem::path path;
};

// Loads the v2 identity at `path`, or creates a new random one there (and missing parent
// directories, mode 0700) if nothing exists at that name. A v1 key file at `path` is returned
// as v1_identity_found and left as it is. Throws identity_file_v2_error for anything else.
[[nodiscard]] std::variant<loaded_identity_v2, v1_identity_found> load_or_create_identity_v2(
    const std::filesystem::path& path);

// Loads an existing identity: a v2 one, or a v1 key file as v1_identity_found. Throws
// identity_file_v2_error if missing, malformed or refused by the checks above.
[[nodiscard]] std::variant<identity_v2, v1_identity_found> load_identity_v2(const std::filesystem::path& path);

// Writes `identity` to a new file at `path` (the rules above; an existing name is an error, so a
// v1 file is never replaced). For a caller that migrates: it creates the v2 file beside the v1.
void create_identity_file_v2(const std::filesystem::path& path, const identity_v2& identity);

}  // namespace natter::crypto
