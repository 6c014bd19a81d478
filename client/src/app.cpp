#include "natter/client/app.hpp"

#include <unistd.h>

#include <csignal>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "natter/client/chat_log.hpp"
#include "natter/client/config_file.hpp"
#include "natter/client/line_app.hpp"
#include "natter/client/options.hpp"
#include "natter/client/tui_app.hpp"
#include "natter/client/client_identity.hpp"
#include "natter/client/known_hosts.hpp"
#include "natter/client/peer_pins.hpp"
#include "natter/crypto/fingerprint_v2.hpp"
#include "natter/crypto/guarded.hpp"
#include "natter/crypto/hello.hpp"
#include "natter/crypto/key_file.hpp"
#include "natter/crypto/e2e_keylog.hpp"
#include "natter/crypto/keylog.hpp"
#include "natter/text.hpp"

#ifndef NATTER_VERSION
#define NATTER_VERSION "unknown"
#endif

namespace natter::client {

namespace {

// Interactive: ask until a valid name is typed. nullopt at end of input.
std::optional<std::string> prompt_name() {
  for (;;) {
    std::cerr << "Your name: " << std::flush;
    std::string line;
    if (!std::getline(std::cin, line)) return std::nullopt;
    if (is_valid_name(line)) return line;
    std::cerr << "A name is 1-32 characters of A-Z a-z 0-9 _ . - (no spaces).\n";
  }
}

int run(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  const environment env = read_environment();
  const parse_result parsed = parse_options(args, env);
  switch (parsed.what) {
    case parse_result::action::help:
      std::cout << usage_text();
      return exit_ok;
    case parse_result::action::version:
      std::cout << "natter " NATTER_VERSION " (protocol version "
                << static_cast<int>(crypto::protocol_version_2) << ")\n";
      return exit_ok;
    case parse_result::action::usage_error:
      std::cerr << "natter: " << parsed.error << "\n(see natter --help)\n";
      return exit_usage;
    case parse_result::action::run:
      break;
  }
  client_options o = parsed.options;
  // The config file fills in what the command line left out; a broken one is a usage error
  // (its message names the file, the line and the key).
  const config_outcome loaded = load_config(o.config, o.config_given, env);
  if (!loaded.config) {
    std::cerr << "natter: " << loaded.error << "\n";
    return exit_usage;
  }
  const client_config& file = *loaded.config;
  const effective_settings settings = apply_config(o, file, env);
  const bool interactive = ::isatty(STDIN_FILENO) == 1;
  // Scripts (stdin not a terminal) always get line mode; a terminal gets the full screen unless
  // --plain, or unless it is too small for it and --tui did not insist.
  bool full_screen = false;
  if (o.ui == ui_mode::tui) {
    if (!interactive || ::isatty(STDOUT_FILENO) != 1) {
      std::cerr << "natter: --tui needs a terminal on stdin and stdout\n";
      return exit_usage;
    }
    full_screen = true;
  } else if (o.ui == ui_mode::automatic) {
    full_screen = terminal_fits_tui();
  }

  crypto::init_sodium();
  // The identity lives in locked, guarded pages for the whole run (crypto/guarded.hpp).
  const crypto::guarded<client_identity> guarded_identity(load_client_identity(o.identity));
  const client_identity& identity = *guarded_identity;
  const std::string own_fingerprint = crypto::fingerprint_v2(identity.identity.public_key());
  std::vector<std::string> notices;  // repeated inside the full screen, which covers stderr
  if (identity.created) {
    const std::string made = identity.v1 ? "created your protocol 2 identity in " + identity.path.string() +
                                               " (your old key in " + identity.v1_path.string() +
                                               " is kept, to move your names to the new one)"
                                         : "created a new identity in " + identity.path.string();
    notices.push_back(made + "; your fingerprint is " + own_fingerprint);
    std::cerr << "natter: " << made << "\n"
              << "natter: your fingerprint is " << own_fingerprint << "\n";
  }
  if (o.print_fingerprint) {
    std::cout << own_fingerprint << "\n";
    return exit_ok;
  }

  std::string name;
  if (o.name) {
    name = *o.name;
  } else if (interactive) {
    auto typed = prompt_name();
    if (!typed) return exit_usage;
    name = *typed;
  } else if (env.user && is_valid_name(*env.user)) {
    name = *env.user;
  } else {
    std::cerr << "natter: --name NAME is required when stdin is not a terminal"
                 " ($USER is unset or not a valid name)\n";
    return exit_usage;
  }

  std::unique_ptr<crypto::keylog_writer> keylog;
  if (o.keylog) {
    keylog = std::make_unique<crypto::keylog_writer>(*o.keylog);
    std::cerr << "natter: WARNING: writing session keys to " << o.keylog->string() << ";\n"
              << "natter: anyone holding that file can decrypt the traffic of this session.\n";
    notices.push_back("WARNING: writing session keys to " + o.keylog->string() +
                      "; anyone holding that file can decrypt this session");
  }

  conversation_preferences preferences;
  preferences.bell_on_mention = file.bell_on_mention;
  preferences.bell_on_whisper = file.bell_on_whisper;
  preferences.clock_format = file.clock_format;
  preferences.require_e2e = o.require_e2e || file.require_e2e;
  // Lives until the UI returns; the conversation writes to it on the UI thread only.
  std::unique_ptr<chat_log> log;
  if (settings.log_dir) {
    log = std::make_unique<chat_log>(*settings.log_dir, o.host, o.port);
    preferences.log = [&log](std::string_view line) { return log->write(line); };
  }

  // A peer that closes while we write must not kill us with SIGPIPE; Asio reports EPIPE.
  std::signal(SIGPIPE, SIG_IGN);

  driver_config config;
  config.host = o.host;
  config.port = o.port;
  config.max_frame = o.max_frame;
  config.trust = {o.accept_new, o.expect_fingerprint, interactive};
  config.known_hosts_path = o.known_hosts;
  // A person (either UI) and a --stay receiver come back after the server restarts or the
  // connection drops; a pipe without --stay exits with its code instead (README "Exit codes").
  config.reconnect = interactive || o.stay;
  // The handshake tells the key log each connection's keys; a v1 key proves old names.
  config.session = {name, o.trace, keylog.get(), identity.v1 ? &*identity.v1 : nullptr, {}};
  // Say and whisper are end to end (docs/E2E.md); peers' keys are pinned in `peers` beside
  // known_hosts, like `verified`.
  auto pins = std::make_shared<peer_pins>();
  const auto pins_path = o.known_hosts.parent_path() / "peers";
  try {
    *pins = peer_pins::load(pins_path);
  } catch (const peer_pins_error& e) {
    std::cerr << "natter: " << e.what() << "; peer keys are pinned for this session only\n";
  }
  config.session.e2e.enabled = true;
  config.session.e2e.server = host_key(o.host, o.port);
  config.session.e2e.pins = pins.get();
  config.session.e2e.save_pins = [pins_path](const peer_pins& p) {
    try {
      p.save(pins_path);
    } catch (const peer_pins_error& e) {
      std::cerr << "natter: " << e.what() << "\n";
    }
  };
  config.session.e2e.accept_key_changes = o.accept_peer_key_changes;
  config.session.e2e.require_e2e = preferences.require_e2e;
  if (o.e2e_room_limit) config.session.e2e.room_limit = *o.e2e_room_limit;
  std::unique_ptr<crypto::e2e::e2e_keylog_writer> e2e_keylog;
  if (o.e2e_keylog) {
    e2e_keylog = std::make_unique<crypto::e2e::e2e_keylog_writer>(*o.e2e_keylog);
    config.session.e2e.keylog = e2e_keylog.get();
    std::cerr << "natter: WARNING: writing end-to-end message keys to " << o.e2e_keylog->string() << ";\n"
              << "natter: anyone holding that file can read the messages of this session.\n";
    notices.push_back("WARNING: writing end-to-end message keys to " + o.e2e_keylog->string() +
                      "; anyone holding that file can read this session's messages");
  }
  if (o.accept_peer_key_changes) {
    notices.push_back("WARNING: --accept-peer-key-changes: a peer's changed key is accepted without asking");
  }

  // Beside known_hosts, so --known-hosts in a test directory keeps its verified keys there too.
  const auto verified_path = o.known_hosts.parent_path() / "verified";
  if (full_screen) {
    tui_settings tui;
    tui.trace = o.trace;
    tui.own_fingerprint = own_fingerprint;
    tui.verified_path = verified_path;
    tui.startup_notices = std::move(notices);
    tui.preferences = std::move(preferences);
    tui.colours = file.colours;
    return run_tui(identity.identity, std::move(config), tui);
  }

  line_ui_settings ui;
  ui.interactive = interactive;
  ui.trace = o.trace;
  ui.wait_ms = o.wait_ms;
  ui.stay = o.stay;
  ui.own_fingerprint = own_fingerprint;
  ui.verified_path = verified_path;
  ui.preferences = std::move(preferences);
  return run_line_ui(identity.identity, std::move(config), ui);
}

}  // namespace

int run_app(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::cerr << "natter: " << e.what() << "\n";
    return exit_failure;
  }
}

}  // namespace natter::client
