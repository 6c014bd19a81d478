#include "natter/client/key_verification.hpp"

#include <utility>

#include "natter/crypto/identity_v2.hpp"
#include "natter/crypto/keys.hpp"
#include "natter/text.hpp"

namespace natter::client {

key_verification::key_verification(std::string server, verified_store store)
    : server_(std::move(server)), store_(std::move(store)) {}

bool key_verification::server_verified(std::string_view server_key_hex) const {
  const auto key = crypto::public_key_from_hex(server_key_hex);
  return key && store_.server_verified(server_, *key);
}

bool key_verification::user_verified(std::string_view name, std::string_view identity_key_hex) const {
  const auto key = crypto::ed25519_public_key_from_hex(identity_key_hex);
  return key && store_.user_verified(server_, name, *key);
}

std::optional<question> key_verification::start(std::string_view argument, const std::string& server_fingerprint,
                                                const std::string& server_key, outbox& out) {
  const std::string name(argument.substr(0, argument.find(' ')));
  if (name.empty()) {
    if (server_fingerprint.empty() || !crypto::public_key_from_hex(server_key)) {
      out.show(shown_kind::error, "! not connected yet: there is no server key to verify");
      return std::nullopt;
    }
    out.show(shown_kind::info, "* server " + server_ + " key fingerprint: " + server_fingerprint);
    if (server_verified(server_key)) {
      out.show(shown_kind::info, "* already marked verified ✓");
      return std::nullopt;
    }
    out.show(shown_kind::info, "* compare it with the one the server's operator gives you (natter-server --fingerprint)");
    return question{question_kind::verify_server, "", server_fingerprint, 0, server_key};
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
  if (!crypto::ed25519_public_key_from_hex(whois.key)) {
    // A name still registered to a protocol 1 key (its owner has not connected since): there
    // is no identity key to compare yet.
    out.show(shown_kind::error, "! " + printable(whois.name) +
                                    " has no protocol 2 identity key yet: nothing to verify until they connect");
    return std::nullopt;
  }
  if (user_verified(whois.name, whois.key)) {
    out.show(shown_kind::info, "* " + printable(whois.name) + "'s key is already marked verified ✓");
    return std::nullopt;
  }
  out.show(shown_kind::info, "* compare " + printable(whois.fingerprint) + " with the fingerprint " +
                                 printable(whois.name) + " reads out from their /fingerprint");
  return question{question_kind::verify_user, whois.name, whois.fingerprint, 0, whois.key};
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
  // The key was parsed when the question was made (start, on_whois); parsing again keeps the
  // store's typed interface and cannot fail here.
  if (asked.kind == question_kind::verify_server) {
    const auto key = crypto::public_key_from_hex(asked.key);
    if (!key) return;
    store_.mark_server(server_, *key);
    out.show(shown_kind::info, "* the key of " + server_ + " is now marked verified ✓");
  } else {
    const auto key = crypto::ed25519_public_key_from_hex(asked.key);
    if (!key) return;
    store_.mark_user(server_, asked.name, *key);
    out.show(shown_kind::info, "* " + printable(asked.name) + "'s key is now marked verified ✓");
  }
  out.act(save_verified_action{server_, asked.name, asked.key});
}

}  // namespace natter::client
