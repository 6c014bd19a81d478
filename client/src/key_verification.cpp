#include "natter/client/key_verification.hpp"

#include <utility>

#include "natter/text.hpp"

namespace natter::client {

key_verification::key_verification(std::string server, verified_store store)
    : server_(std::move(server)), store_(std::move(store)) {}

bool key_verification::server_verified(std::string_view fingerprint) const {
  return store_.server_verified(server_, fingerprint);
}

bool key_verification::user_verified(std::string_view name, std::string_view fingerprint) const {
  return store_.user_verified(server_, name, fingerprint);
}

std::optional<question> key_verification::start(std::string_view argument, const std::string& server_fingerprint,
                                                outbox& out) {
  const std::string name(argument.substr(0, argument.find(' ')));
  if (name.empty()) {
    if (server_fingerprint.empty()) {
      out.show(shown_kind::error, "! not connected yet: there is no server key to verify");
      return std::nullopt;
    }
    out.show(shown_kind::info, "* server " + server_ + " key fingerprint: " + server_fingerprint);
    if (server_verified(server_fingerprint)) {
      out.show(shown_kind::info, "* already marked verified ✓");
      return std::nullopt;
    }
    out.show(shown_kind::info, "* compare it with the one the server's operator gives you (natter-server --fingerprint)");
    return question{question_kind::verify_server, "", server_fingerprint};
  }
  if (!is_valid_name(name)) {
    out.show(shown_kind::error, "! /verify NAME: \"" + printable(name) + "\" is not a valid name");
    return std::nullopt;
  }
  awaiting_whois_ = fold_name(name);
  out.act(send_action{whois_request{name, {}}});
  return std::nullopt;
}

std::optional<question> key_verification::on_whois(const whois_event& whois, outbox& out) {
  if (awaiting_whois_.empty() || fold_name(whois.name) != awaiting_whois_) return std::nullopt;
  awaiting_whois_.clear();
  if (user_verified(whois.name, whois.fingerprint)) {
    out.show(shown_kind::info, "* " + printable(whois.name) + "'s key is already marked verified ✓");
    return std::nullopt;
  }
  out.show(shown_kind::info, "* compare " + printable(whois.fingerprint) + " with the fingerprint " +
                                 printable(whois.name) + " reads out from their /fingerprint");
  return question{question_kind::verify_user, whois.name, whois.fingerprint};
}

void key_verification::on_error(const error_event& error) {
  if (error.code == errc::unknown_user || error.code == errc::bad_name) awaiting_whois_.clear();
}

void key_verification::answer(const question& asked, bool yes, outbox& out) {
  if (asked.kind == question_kind::trust_server) return;
  if (!yes) {
    out.show(shown_kind::info, "* not marked verified");
    return;
  }
  if (asked.kind == question_kind::verify_server) {
    store_.mark_server(server_, asked.fingerprint);
    out.show(shown_kind::info, "* the key of " + server_ + " is now marked verified ✓");
  } else {
    store_.mark_user(server_, asked.name, asked.fingerprint);
    out.show(shown_kind::info, "* " + printable(asked.name) + "'s key is now marked verified ✓");
  }
  out.act(save_verified_action{server_, asked.name, asked.fingerprint});
}

}  // namespace natter::client
