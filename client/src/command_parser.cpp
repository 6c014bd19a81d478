#include "natter/client/command_parser.hpp"

#include <optional>

#include "natter/limits.hpp"
#include "natter/text.hpp"

namespace natter::client {

namespace {

// Splits off the first space-separated word; `rest` keeps the remainder without leading spaces.
std::string_view next_word(std::string_view& rest) {
  const auto start = rest.find_first_not_of(' ');
  if (start == std::string_view::npos) {
    rest = {};
    return {};
  }
  rest.remove_prefix(start);
  const auto end = rest.find(' ');
  const std::string_view word = rest.substr(0, end);
  rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
  const auto next = rest.find_first_not_of(' ');
  rest = next == std::string_view::npos ? std::string_view{} : rest.substr(next);
  return word;
}

std::optional<command_error> check_text(std::string_view text, std::size_t max_text) {
  if (text.empty()) return command_error{"nothing to send"};
  if (text.size() > max_text) {
    return command_error{"message too long: " + std::to_string(text.size()) + " bytes, at most " +
                         std::to_string(max_text) + " allowed; not sent"};
  }
  if (auto problem = text_problem(text, max_text)) {
    return command_error{"message not sent: " + std::string(*problem)};
  }
  return std::nullopt;
}

std::optional<command_error> check_name(std::string_view name, std::string_view usage) {
  if (name.empty()) return command_error{"usage: " + std::string(usage)};
  if (!is_valid_name(name)) {
    return command_error{"invalid name \"" + printable(name.substr(0, 40)) +
                         "\": 1-32 characters of A-Z a-z 0-9 _ . -"};
  }
  return std::nullopt;
}

command parse_whisper(std::string_view args, std::size_t max_text, std::string_view usage) {
  const std::string_view to = next_word(args);
  if (auto bad = check_name(to, usage)) return *bad;
  if (args.empty()) return command_error{"usage: " + std::string(usage)};
  if (auto bad = check_text(args, max_text)) return *bad;
  return whisper_command{std::string(to), std::string(args)};
}

}  // namespace

std::string_view command_help() {
  return "commands:\n"
         "  TEXT              send TEXT to everyone (start with // to send a line beginning with /)\n"
         "  /w NAME TEXT      whisper TEXT to NAME only (also /msg)\n"
         "  /me ACTION        tell everyone what you do: shown as \"* yourname ACTION\"\n"
         "  /away [MESSAGE]   mark yourself away (shown on /whois and to whoever whispers you);\n"
         "                    without MESSAGE, back\n"
         "  /users            list who is online\n"
         "  /whois NAME       show NAME's key fingerprint\n"
         "  /fingerprint      show your own key fingerprint\n"
         "  /verify [NAME]    compare a key and mark it verified (the server's without NAME)\n"
         "  /clear            empty the message pane, keeping the log (full screen)\n"
         "  /help             this list\n"
         "  /quit [REASON]    leave (Ctrl-D does the same)";
}

command parse_text(std::string_view line, std::size_t max_text) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.find_first_not_of(" \t") == std::string_view::npos) return empty_command{};
  if (auto bad = check_text(line, max_text)) return *bad;
  return say_command{std::string(line)};
}

command parse_command(std::string_view line, std::size_t max_text) {
  // A line from a file written on Windows ends in CR; it is not part of the text.
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.find_first_not_of(" \t") == std::string_view::npos) return empty_command{};

  if (line.front() != '/') {
    if (auto bad = check_text(line, max_text)) return *bad;
    return say_command{std::string(line)};
  }
  if (line.starts_with("//")) {
    line.remove_prefix(1);
    if (auto bad = check_text(line, max_text)) return *bad;
    return say_command{std::string(line)};
  }

  std::string_view args = line.substr(1);
  const std::string_view name = next_word(args);
  if (name == "w" || name == "msg" || name == "whisper") {
    return parse_whisper(args, max_text, name == "w" ? "/w NAME TEXT" : "/msg NAME TEXT");
  }
  if (name == "me") {
    if (args.empty()) return command_error{"usage: /me ACTION"};
    if (auto bad = check_text(args, max_text)) return *bad;
    return say_command{std::string(args), true};
  }
  if (name == "users" || name == "who") {
    if (!args.empty()) return command_error{"usage: /users"};
    return users_command{};
  }
  if (name == "whois") {
    const std::string_view who = next_word(args);
    if (auto bad = check_name(who, "/whois NAME")) return *bad;
    if (!args.empty()) return command_error{"usage: /whois NAME"};
    return whois_command{std::string(who)};
  }
  if (name == "fingerprint") return fingerprint_command{};
  if (name == "help" || name == "?") return help_command{};
  if (name == "clear") {
    if (!args.empty()) return command_error{"usage: /clear"};
    return clear_command{};
  }
  if (name == "away") {
    if (args.size() > limits::max_reason) {
      return command_error{"away message too long: at most " + std::to_string(limits::max_reason) + " bytes"};
    }
    if (!args.empty()) {
      if (auto problem = text_problem(args, limits::max_reason)) {
        return command_error{"away message refused: " + std::string(*problem)};
      }
    }
    return away_command{std::string(args)};
  }
  if (name == "quit" || name == "exit") {
    if (args.size() > limits::max_reason) {
      return command_error{"quit reason too long: at most " + std::to_string(limits::max_reason) +
                           " bytes"};
    }
    if (!args.empty()) {
      if (auto problem = text_problem(args, limits::max_reason)) {
        return command_error{"quit reason refused: " + std::string(*problem)};
      }
    }
    return quit_command{std::string(args)};
  }
  return command_error{"unknown command /" + printable(name.substr(0, 32)) +
                       " (type /help for the list; start a line with // to send it as text)"};
}

}  // namespace natter::client
