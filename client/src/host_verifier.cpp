#include "natter/client/host_verifier.hpp"

#include "natter/crypto/fingerprint.hpp"
#include "natter/crypto/fingerprint_v2.hpp"

namespace natter::client {

verification verify_server_key(const known_hosts& pins, const std::string& host,
                               const crypto::public_key& offered, const trust_policy& policy,
                               const std::string& known_hosts_path) {
  verification out;
  out.offered_fingerprint = crypto::server_fingerprint_v2(offered);
  // --expect-fingerprint may still be a protocol 1 fingerprint someone wrote down: the key is
  // the same X25519 key, so the old form names it as well (128 bits instead of 160).
  const bool expected_matches = policy.expect_fingerprint && (*policy.expect_fingerprint == out.offered_fingerprint ||
                                                              *policy.expect_fingerprint == crypto::fingerprint(offered));

  if (const known_host* pin = pins.find(host)) {
    if (pin->key != offered) {
      // Loud on purpose: this is what an impersonating server looks like. Nothing more is sent.
      out.outcome = verdict::mismatch;
      out.pinned_fingerprint = crypto::server_fingerprint_v2(pin->key);
      out.pinned_line = pin->line;
      out.message =
          "@@@ WARNING: THE SERVER KEY FOR " + host + " HAS CHANGED! @@@\n"
          "Someone could be impersonating the server (man-in-the-middle), or its key was replaced.\n"
          "  pinned fingerprint:  " + out.pinned_fingerprint + "\n"
          "  offered fingerprint: " + out.offered_fingerprint + "\n"
          "The pin is line " + std::to_string(pin->line) + " of " + known_hosts_path + ".\n"
          "If you know the key changed legitimately, remove that line and connect again.\n"
          "Refusing to continue; nothing was sent.";
      return out;
    }
    if (policy.expect_fingerprint && !expected_matches) {
      out.outcome = verdict::mismatch;
      out.message = "server key for " + host + " has fingerprint " + out.offered_fingerprint +
                    ", expected " + *policy.expect_fingerprint + "; refusing to continue";
      return out;
    }
    out.outcome = verdict::trusted;
    return out;
  }

  if (policy.expect_fingerprint) {
    if (expected_matches) {
      out.outcome = verdict::pin_and_trust;
    } else {
      out.outcome = verdict::mismatch;
      out.message = "server key for " + host + " has fingerprint " + out.offered_fingerprint +
                    ", expected " + *policy.expect_fingerprint + "; refusing to continue";
    }
    return out;
  }
  if (policy.accept_new) {
    out.outcome = verdict::pin_and_trust;
    return out;
  }
  if (policy.interactive) {
    out.outcome = verdict::ask_user;
    return out;
  }
  out.outcome = verdict::refuse_unknown;
  out.message = "the server " + host + " is not known (fingerprint " + out.offered_fingerprint +
                ");\nrefusing in non-interactive mode. Use --accept-new to pin it, or "
                "--expect-fingerprint FP to accept only this key.";
  return out;
}

}  // namespace natter::client
