#pragma once
// Opt-in end-to-end key log (docs/E2E.md "On the wire"), the second layer beside the hop key
// log (keylog.hpp): one line per message key used to seal or open an end-to-end body, so a
// dissector can open the bodies the hop key log shows as opaque:
//
//   NATTER_E2E_KEY <pairwise|room> <id: 16 hex> <n> <message key: 64 hex>
//
// id = the pairwise session id or the sender key id (both in the body's header), n decimal.
// A line opens exactly one message; chain keys and identity keys are never written.
#include <filesystem>
#include <mutex>
#include <span>
#include <string>

#include "natter/crypto/e2e_chain.hpp"

namespace natter::crypto::e2e {

[[nodiscard]] std::string e2e_keylog_line(chain_kind kind, std::span<const std::uint8_t> id, std::uint32_t n,
                                          const secret_key& key);

// The file rules of keylog_writer: created 0600 (O_EXCL) if missing; an existing file only if a
// regular file of ours, no group/other bits, one link. Throws key_file_error from the
// constructor naming the file and the reason. Thread-safe; a failed write is dropped silently.
class e2e_keylog_writer final : public message_key_observer {
 public:
  explicit e2e_keylog_writer(const std::filesystem::path& path);
  ~e2e_keylog_writer() override;
  e2e_keylog_writer(const e2e_keylog_writer&) = delete;
  e2e_keylog_writer& operator=(const e2e_keylog_writer&) = delete;

  void on_message_key(chain_kind kind, std::span<const std::uint8_t> id, std::uint32_t n,
                      const secret_key& key) noexcept override;

 private:
  int fd_ = -1;
  std::mutex mutex_;
};

}  // namespace natter::crypto::e2e
