#include "natter/client/client_identity.hpp"

#include <system_error>
#include <variant>

#include "natter/crypto/identity_file_v2.hpp"

namespace natter::client {

std::filesystem::path migrated_identity_path(const std::filesystem::path& configured) {
  return configured.string() + "-v2";
}

namespace {

// The protocol 1 key at `path`, if that is what is there; nothing for a missing file. A v2
// identity at the old name (someone copied it there) is no v1 key either.
std::optional<crypto::key_pair> v1_key_at(const std::filesystem::path& path) {
  std::error_code ec;
  if (!std::filesystem::exists(std::filesystem::symlink_status(path, ec))) return std::nullopt;
  auto loaded = crypto::load_identity_v2(path);
  if (auto* v1 = std::get_if<crypto::v1_identity_found>(&loaded)) return std::move(v1->v1_keys);
  return std::nullopt;
}

}  // namespace

client_identity load_client_identity(const std::filesystem::path& configured) {
  const auto beside = migrated_identity_path(configured);
  std::error_code ec;
  if (std::filesystem::exists(std::filesystem::symlink_status(beside, ec))) {
    auto loaded = crypto::load_identity_v2(beside);
    if (std::holds_alternative<crypto::v1_identity_found>(loaded)) {
      throw crypto::identity_file_v2_error(beside.string() + ": a protocol 1 key where the migrated identity belongs");
    }
    client_identity out{std::get<crypto::identity_v2>(std::move(loaded)), beside, false, v1_key_at(configured), {}};
    if (out.v1) out.v1_path = configured;
    return out;
  }
  auto loaded = crypto::load_or_create_identity_v2(configured);
  if (auto* v2 = std::get_if<crypto::loaded_identity_v2>(&loaded)) {
    return client_identity{std::move(v2->identity), configured, v2->created, std::nullopt, {}};
  }
  auto& v1 = std::get<crypto::v1_identity_found>(loaded);
  auto fresh = crypto::identity_v2::generate();
  crypto::create_identity_file_v2(beside, fresh);
  return client_identity{std::move(fresh), beside, true, std::move(v1.v1_keys), configured};
}

}  // namespace natter::client
