#include "natter/server/console_commands.hpp"

#include <iomanip>
#include <sstream>

namespace natter::server {

console_outcome run_console_command(std::string_view line, router& routes) {
  std::istringstream words{std::string(line)};
  std::string command;
  words >> command;
  console_outcome outcome;
  std::ostringstream out;
  if (command.empty()) return outcome;
  if (command == "users") {
    const auto members = routes.members();
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
    else if (routes.kick(name, reason.empty() ? "kicked by the operator" : reason)) out << "kicked " << name << "\n";
    else out << "no user " << name << " is online\n";
  } else if (command == "stop" || command == "quit") {
    outcome.stop = true;
    return outcome;
  } else if (command == "help") {
    out << "commands: users | kick NAME [reason] | stop | help\n";
  } else {
    out << "unknown command '" << command << "' (try help)\n";
  }
  outcome.answer = out.str();
  return outcome;
}

}  // namespace natter::server
