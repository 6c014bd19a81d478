#pragma once
// Helpers shared by the unit tests: byte-string literals, hex formatting written independently of
// natter's own, and a temporary directory that cleans up after itself.
#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "natter/crypto/keys.hpp"

namespace natter::test {

// libsodium is initialised once, before any test case runs (sodium_init is idempotent).
inline const bool sodium_ready = [] {
  natter::crypto::init_sodium();
  return true;
}();

inline std::vector<std::uint8_t> to_bytes(std::string_view s) {
  return std::vector<std::uint8_t>(s.begin(), s.end());
}

// The permission bits of `path` (07777), or ~0u if it cannot be stat'ed (so a mode check fails).
inline unsigned mode_of(const std::filesystem::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return ~0u;
  return st.st_mode & 07777u;
}

inline std::string to_text(std::span<const std::uint8_t> b) { return std::string(b.begin(), b.end()); }

// Lowercase hex with snprintf: deliberately not natter::crypto::to_hex, which is under test.
inline std::string hex_of(std::span<const std::uint8_t> data) {
  std::string out;
  char two[3];
  for (const auto b : data) {
    std::snprintf(two, sizeof two, "%02x", static_cast<unsigned>(b));
    out += two;
  }
  return out;
}

// A fresh directory under the system temp dir (mkdtemp: mode 0700, unique), removed afterwards.
class temp_dir {
 public:
  temp_dir() {
    std::string pattern = (std::filesystem::temp_directory_path() / "natter-unit-XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr) throw std::system_error(errno, std::generic_category(), "mkdtemp");
    path_ = pattern;
  }
  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] std::filesystem::path operator/(std::string_view name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace natter::test
