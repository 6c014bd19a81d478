#pragma once
// Admission control: how many connections the server holds in all and per remote address.
// A slot is an RAII token: the count drops when the session holding it is destroyed.
#include <cstddef>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace natter::server {

class connection_limits : public std::enable_shared_from_this<connection_limits> {
 public:
  // 0 means "no limit".
  connection_limits(std::size_t max_total, std::size_t max_per_address)
      : max_total_(max_total), max_per_address_(max_per_address) {}

  class slot {
   public:
    slot(std::shared_ptr<connection_limits> owner, std::string address)
        : owner_(std::move(owner)), address_(std::move(address)) {}
    ~slot() { owner_->release(address_); }
    slot(const slot&) = delete;
    slot& operator=(const slot&) = delete;

   private:
    std::shared_ptr<connection_limits> owner_;
    std::string address_;
  };

  enum class refusal { none, server_full, address_full };

  // A slot for a connection from `address` (an IP, without port), or the reason there is none.
  [[nodiscard]] std::unique_ptr<slot> try_acquire(const std::string& address, refusal& why);

  [[nodiscard]] std::size_t total() const;

 private:
  void release(const std::string& address);

  std::size_t max_total_;
  std::size_t max_per_address_;
  mutable std::mutex mutex_;
  std::size_t total_ = 0;
  std::unordered_map<std::string, std::size_t> per_address_;
};

}  // namespace natter::server
