#include "natter/server/listener.hpp"

#include "natter/server/log.hpp"

namespace natter::server {

namespace {
std::string endpoint_text(const asio::ip::tcp::endpoint& remote) {
  const auto ip = remote.address();
  return (ip.is_v6() ? "[" + ip.to_string() + "]" : ip.to_string()) + ":" + std::to_string(remote.port());
}
}  // namespace

listener::listener(asio::io_context& io, asio::strand<asio::io_context::executor_type> control,
                   const std::string& host, std::uint16_t port, shared_state& state,
                   std::shared_ptr<connection_limits> admission)
    : io_(io), acceptor_(control), state_(state), admission_(std::move(admission)) {
  std::error_code ec;
  asio::ip::tcp::resolver resolver(io_);
  const auto endpoints = resolver.resolve(host, std::to_string(port), ec);
  if (ec || endpoints.empty()) throw std::runtime_error("cannot resolve listen address " + host + ": " + ec.message());
  const asio::ip::tcp::endpoint endpoint = *endpoints.begin();
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint, ec);
  if (ec) throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message());
  acceptor_.listen(asio::socket_base::max_listen_connections);
  local_ = acceptor_.local_endpoint();
}

void listener::start() { do_accept(); }

void listener::close() {
  closed_ = true;
  std::error_code ec;
  acceptor_.close(ec);
}

void listener::do_accept() {
  // Each connection gets its own strand: its handlers never run concurrently with each other,
  // while different connections proceed on different threads.
  acceptor_.async_accept(asio::make_strand(io_), [this](std::error_code ec, asio::ip::tcp::socket socket) {
    on_accept(ec, std::move(socket));
  });
}

void listener::on_accept(std::error_code ec, asio::ip::tcp::socket socket) {
  if (closed_) return;
  if (ec) {
    // EMFILE and friends: log and keep accepting; the listener must not die.
    if (ec != asio::error::operation_aborted) log_warn("accept failed: ", ec.message());
    do_accept();
    return;
  }
  std::error_code peer_ec;
  const auto remote = socket.remote_endpoint(peer_ec);
  if (peer_ec) {
    // The peer left between connecting and being accepted: there is nobody to answer.
    log_debug("accepted connection already gone: ", peer_ec.message());
    std::error_code ignored;
    socket.close(ignored);
  } else {
    const std::string host = remote.address().to_string();
    connection_limits::refusal why{};
    // A banned address is refused before it takes an admission slot, so banned clients
    // reconnecting in a loop cannot fill the server.
    if (state_.core.bans && state_.core.bans->find({ban_kind::address, canonical_ip(host).value_or(host)})) {
      refuse(std::move(socket), remote, "banned");
    } else if (auto slot = admission_->try_acquire(host, why)) {
      std::make_shared<session>(std::move(socket), endpoint_text(remote), state_, std::move(slot), next_session_id_++)
          ->start();
    } else {
      refuse(std::move(socket), remote,
             why == connection_limits::refusal::address_full ? "too many connections from your address"
                                                             : "server is full");
    }
  }
  do_accept();
}

void listener::refuse(asio::ip::tcp::socket socket, const asio::ip::tcp::endpoint& remote, const char* reason) {
  const std::string host = remote.address().to_string();
  // The refusal comes in place of Noise message 2 (PROTOCOL.md "Refusals"): the client must
  // first get the hello and send message 1, so a refused connection is a short session too.
  connection_limits::refusal ignored_why{};
  auto slot = refusals_->try_acquire(host, ignored_why);
  if (!slot) {
    log_debug("closing connection from ", host, " at once: ", reason, ", and too many refusals in progress");
    std::error_code ignored;
    socket.close(ignored);
    return;
  }
  log_warn("refusing connection from ", host, ": ", reason);
  std::make_shared<session>(std::move(socket), endpoint_text(remote), state_, std::move(slot), next_session_id_++,
                            std::string(reason))
      ->start();
}

}  // namespace natter::server
