#pragma once
// Opt-in end-to-end key log (docs/E2E.md "On the wire"), the second layer beside the hop key
// log (keylog.hpp): one line per message key used to seal or open an end-to-end body, so a
// dissector can open the bodies the hop key log shows as opaque. Format 2:
//
//   NATTER_E2E_KEY pairwise <session id: 16 hex> <n> <sender>-><recipient> <message key: 64 hex>
//   NATTER_E2E_KEY room <sender key id: 16 hex> <n> <message key: 64 hex>
//
// id and n (decimal) as in the body's header. A pairwise line names its direction, since both
// directions of a session share the id and count n from 0: the recipient is the envelope's
// "to", so a dissector picks exactly one line for a body. Names are [A-Za-z0-9_.-] (limits.hpp),
// so "->" and the spaces are unambiguous. A sender key id is one sender's: a room line needs no
// direction. A line opens exactly one message; chain keys and identity keys are never written.
// (Format 1, before the direction, wrote pairwise lines without the names.)
#include <filesystem>
#include <mutex>
#include <span>
#include <string>

#include "natter/crypto/e2e_chain.hpp"

namespace natter::crypto::e2e {

[[nodiscard]] std::string e2e_keylog_line(const message_key_use& use, const secret_key& key);

// The file rules of keylog_writer: created 0600 (O_EXCL) if missing; an existing file only if a
// regular file of ours, no group/other bits, one link. Throws key_file_error from the
// constructor naming the file and the reason. Thread-safe; a failed write is dropped silently.
class e2e_keylog_writer final : public message_key_observer {
 public:
  explicit e2e_keylog_writer(const std::filesystem::path& path);
  ~e2e_keylog_writer() override;
  e2e_keylog_writer(const e2e_keylog_writer&) = delete;
  e2e_keylog_writer& operator=(const e2e_keylog_writer&) = delete;

  void on_message_key(const message_key_use& use, const secret_key& key) noexcept override;

 private:
  int fd_ = -1;
  std::mutex mutex_;
};

}  // namespace natter::crypto::e2e
