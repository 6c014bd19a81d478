#pragma once
// The user's identity as the client finds it on disk (docs/PROTOCOL.md "Identity", "Migration").
//
// `--identity FILE` (default ~/.config/natter/identity) names it. Three cases:
//   - FILE holds an identity v2: that is the identity.
//   - FILE is missing: a new identity v2 is created there (0600, O_EXCL).
//   - FILE holds a protocol 1 key: it is left untouched, and the identity v2 lives beside it in
//     FILE-v2 (created on first use). The v1 key is kept loaded so that each join can carry a
//     proof of it, which moves a name the server registered under it to the new identity.
// Once FILE-v2 exists it is always the identity, whatever happens to FILE later, so deleting
// the old key after migrating never makes a new identity.
#include <filesystem>
#include <optional>

#include "natter/crypto/identity_v2.hpp"
#include "natter/crypto/keys.hpp"

namespace natter::client {

struct client_identity {
  crypto::identity_v2 identity;
  std::filesystem::path path;                // where `identity` is stored
  bool created = false;                      // made by this call
  std::optional<crypto::key_pair> v1;        // a protocol 1 key to prove, for migrating names
  std::filesystem::path v1_path;             // where that key is (empty without one)
};

// FILE-v2 for FILE.
[[nodiscard]] std::filesystem::path migrated_identity_path(const std::filesystem::path& configured);

// Throws crypto::key_file_error (naming the file and the reason) for a file the identity
// rules refuse or that cannot be read or written.
[[nodiscard]] client_identity load_client_identity(const std::filesystem::path& configured);

}  // namespace natter::client
