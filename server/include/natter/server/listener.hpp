#pragma once
// The listening socket and admission: accepts connections, refuses those over the connection
// limits or from a banned address (with a plaintext refusal the client can show, PROTOCOL.md §2)
// and starts a session for each of the others, on a strand of its own.
#include <asio.hpp>

#include <cstdint>
#include <memory>
#include <string>

#include "natter/server/connection_limits.hpp"
#include "natter/server/session.hpp"

namespace natter::server {

// How many refused connections may be waiting for their refusal at once (4 per address).
inline constexpr std::size_t max_refusals_in_progress = 64;

class listener {
 public:
  // Resolves and binds `host`:`port` (0: any free port) and listens. Throws std::runtime_error
  // with a message fit for the operator if that fails. Accepting runs on `control`; sessions get
  // strands of `io`.
  listener(asio::io_context& io, asio::strand<asio::io_context::executor_type> control, const std::string& host,
           std::uint16_t port, shared_state& state, std::shared_ptr<connection_limits> admission);

  [[nodiscard]] asio::ip::tcp::endpoint local_endpoint() const { return local_; }

  void start();
  // Stops accepting (from the control strand).
  void close();

 private:
  void do_accept();
  void on_accept(std::error_code ec, asio::ip::tcp::socket socket);
  // `reason` is the refusal the client shows, unauthenticated: "server is full", "banned", ...
  void refuse(asio::ip::tcp::socket socket, const asio::ip::tcp::endpoint& remote, const char* reason);

  asio::io_context& io_;
  asio::ip::tcp::acceptor acceptor_;
  asio::ip::tcp::endpoint local_;
  shared_state& state_;
  std::shared_ptr<connection_limits> admission_;
  // Refusals in progress (each waits for the client's message 1, at most the handshake
  // timeout): bounded, so a flood beyond the limits costs a closed socket, nothing more.
  std::shared_ptr<connection_limits> refusals_ = std::make_shared<connection_limits>(max_refusals_in_progress, 4);
  std::uint64_t next_session_id_ = 1;
  bool closed_ = false;  // control strand only
};

}  // namespace natter::server
