#include "natter/server/console_commands.hpp"

#include <iomanip>
#include <sstream>

#include "natter/crypto/fingerprint.hpp"
#include "natter/crypto/fingerprint_v2.hpp"
#include "natter/text.hpp"

namespace natter::server {

namespace {

constexpr std::string_view help_text =
    "commands:\n"
    "  users                      who is online: name, address, fingerprint\n"
    "  kick NAME [reason]         disconnect a user\n"
    "  free NAME                  forget a name's key, so a new key can claim it (kick them first)\n"
    "  ban TARGET [reason]        TARGET: a fingerprint (2:...), an identity key (64 hex) or an IP\n"
    "                             address; online users it matches are kicked\n"
    "  unban TARGET               lift a ban\n"
    "  bans                       list the bans\n"
    "  stop                       disconnect everyone and stop the server\n";

std::string owner_text(const name_owner& owner) {
  if (owner.version == 1) return crypto::fingerprint(owner.key) + " (protocol 1 key)";
  return crypto::fingerprint_v2(crypto::ed25519_public_key{owner.key});
}

void free_name(std::istringstream& words, const console_context& context, std::ostringstream& out) {
  std::string name;
  words >> name;
  if (name.empty()) {
    out << "usage: free NAME\n";
    return;
  }
  // Freeing an online name would let a second key claim it while the first is still talking
  // as it; the operator decides, by kicking first (or banning, if the key is the problem).
  for (const auto& m : context.routes.members()) {
    if (m.folded == fold_name(name)) {
      out << m.name << " is online: kick " << m.name << " first, then free it\n";
      return;
    }
  }
  const auto registered = context.names.lookup(name);
  switch (context.names.release(name)) {
    case release_result::not_registered: out << "no name " << name << " is registered\n"; return;
    case release_result::storage_failed: out << "could not free " << name << ": the registry refused the change\n"; return;
    case release_result::released: break;
  }
  out << "freed " << (registered ? registered->display : name);
  if (registered) out << " (was " << owner_text(registered->owner) << ")";
  out << "; the next key to join as it owns it\n";
}

std::optional<ban_target> read_target(std::istringstream& words, std::string_view command, std::ostringstream& out) {
  std::string text;
  words >> text;
  if (text.empty()) {
    out << "usage: " << command << " FINGERPRINT|KEYHEX|ADDRESS" << (command == "ban" ? " [reason]" : "") << "\n";
    return std::nullopt;
  }
  auto target = parse_ban_target(text);
  if (!target) out << "'" << text << "' is not a fingerprint (2:...), an identity key (64 hex) or an IP address\n";
  return target;
}

void ban_target_now(std::istringstream& words, const console_context& context, std::ostringstream& out) {
  const auto target = read_target(words, "ban", out);
  if (!target) return;
  std::string reason;
  std::getline(words >> std::ws, reason);
  switch (context.bans.add({*target, reason, context.now_ms()})) {
    case ban_result::nothing_to_do: out << target->value << " is already banned\n"; break;
    case ban_result::storage_failed: out << "could not ban " << target->value << ": the database refused the change\n"; return;
    case ban_result::done: out << "banned " << target->value << (reason.empty() ? "" : " (" + reason + ")") << "\n"; break;
  }
  // A ban also ends what it matches now: otherwise a banned user would stay until they left.
  for (const auto& m : context.routes.members()) {
    const bool matches = target->kind == ban_kind::identity ? m.fingerprint == target->value
                                                            : address_host(m.address) == target->value;
    if (matches && context.routes.kick(m.name, reason.empty() ? "banned" : "banned: " + reason)) {
      out << "kicked " << m.name << "\n";
    }
  }
}

void unban(std::istringstream& words, const console_context& context, std::ostringstream& out) {
  const auto target = read_target(words, "unban", out);
  if (!target) return;
  switch (context.bans.remove(*target)) {
    case ban_result::nothing_to_do: out << target->value << " is not banned\n"; break;
    case ban_result::storage_failed: out << "could not unban " << target->value << ": the database refused the change\n"; break;
    case ban_result::done: out << "unbanned " << target->value << "\n"; break;
  }
}

void list_bans(const console_context& context, std::ostringstream& out) {
  const auto bans = context.bans.all();
  out << bans.size() << " ban(s)\n";
  for (const auto& b : bans) {
    out << "  " << std::left << std::setw(9) << (b.target.kind == ban_kind::identity ? "identity" : "address") << " "
        << std::setw(51) << b.target.value << (b.reason.empty() ? "" : " " + b.reason) << "\n";
  }
}

}  // namespace

console_outcome run_console_command(std::string_view line, const console_context& context) {
  std::istringstream words{std::string(line)};
  std::string command;
  words >> command;
  console_outcome outcome;
  std::ostringstream out;
  if (command.empty()) return outcome;
  if (command == "users") {
    const auto members = context.routes.members();
    out << members.size() << " user(s) online\n";
    for (const auto& m : members) {
      out << "  " << std::left << std::setw(20) << m.name << " " << std::setw(24) << m.address << " "
          << m.fingerprint << "\n";
    }
  } else if (command == "kick") {
    std::string name, reason;
    words >> name;
    std::getline(words >> std::ws, reason);
    if (name.empty()) out << "usage: kick NAME [reason]\n";
    else if (context.routes.kick(name, reason.empty() ? kick_without_reason : std::string_view(reason)))
      out << "kicked " << name << "\n";
    else out << "no user " << name << " is online\n";
  } else if (command == "free") {
    free_name(words, context, out);
  } else if (command == "ban") {
    ban_target_now(words, context, out);
  } else if (command == "unban") {
    unban(words, context, out);
  } else if (command == "bans") {
    list_bans(context, out);
  } else if (command == "stop" || command == "quit") {
    outcome.stop = true;
    return outcome;
  } else if (command == "help") {
    out << help_text;
  } else {
    out << "unknown command '" << command << "' (try help)\n";
  }
  outcome.answer = out.str();
  return outcome;
}

}  // namespace natter::server
