#include "natter/client/config_file.hpp"

#include <fcntl.h>

#include <toml++/toml.h>

#include <functional>
#include <set>
#include <sstream>
#include <utility>

#include "natter/client/formatter.hpp"
#include "natter/client/known_hosts.hpp"
#include "natter/secure_file.hpp"
#include "natter/text.hpp"

namespace natter::client {

namespace {

// A refusal while reading the tables: carries the message up to parse_config.
struct config_error {
  std::string message;
};

class reader {
 public:
  reader(const std::string& file, const environment& env) : file_(file), env_(env) {}

  [[noreturn]] void fail(const toml::node& node, const std::string& key, const std::string& why) const {
    throw config_error{file_ + ":" + std::to_string(node.source().begin.line) + ": " + key + ": " + why};
  }

  // Refuses keys this version does not know, so a typo ("bell_on_mentions") is not ignored.
  void only(const toml::table& table, const std::string& prefix, std::set<std::string_view> known) const {
    for (const auto& [key, node] : table) {
      if (!known.contains(key.str())) fail(node, prefix + std::string(key.str()), "unknown key (see README.md, \"Config file\")");
    }
  }

  bool boolean(const toml::node& node, const std::string& key) const {
    if (const auto v = node.value_exact<bool>()) return *v;
    fail(node, key, "must be true or false");
  }

  std::string text(const toml::node& node, const std::string& key) const {
    if (const auto v = node.value_exact<std::string>()) return *v;
    fail(node, key, "must be a string in quotes");
  }

  std::string name(const toml::node& node, const std::string& key) const {
    std::string v = text(node, key);
    if (!is_valid_name(v)) fail(node, key, "\"" + printable(v.substr(0, 40)) + "\" is not a valid name (1-32 of A-Z a-z 0-9 _ . -)");
    return v;
  }

  address server(const toml::node& node, const std::string& key) const {
    const std::string v = text(node, key);
    const auto a = parse_address(v);
    if (!a) fail(node, key, "\"" + printable(v.substr(0, 80)) + "\" is not HOST, HOST:PORT or [IPV6]:PORT");
    return *a;
  }

  // "~/" is the home directory, as people write it in config files; a relative path would
  // depend on where natter was started, so it is refused.
  std::filesystem::path directory(const toml::node& node, const std::string& key) const {
    std::string v = text(node, key);
    if (v.starts_with("~/") && env_.home) v = *env_.home + v.substr(1);
    const std::filesystem::path p(v);
    if (!p.is_absolute()) fail(node, key, "must be an absolute path (or start with ~/)");
    return p;
  }

  short colour(const toml::node& node, const std::string& key) const {
    const std::string v = text(node, key);
    if (const auto n = colour_number(v)) return *n;
    fail(node, key, "\"" + printable(v.substr(0, 40)) +
                        "\" is not a colour (black, red, green, yellow, blue, magenta, cyan, white, bright-… or default)");
  }

  std::string clock_format(const toml::node& node, const std::string& key) const {
    const std::string v = text(node, key);
    if (v.empty() || v.size() > max_clock_format_chars) {
      fail(node, key, "must be 1 to " + std::to_string(max_clock_format_chars) + " characters");
    }
    if (printable(v) != v) fail(node, key, "must not hold control characters");
    // Tried once here, so a format that gives nothing (or too much) is refused now, not shown
    // as blank stamps later.
    if (format_clock(0, true, v).empty()) fail(node, key, "gives an empty or over-long time; use strftime's %H, %M, %S, ...");
    return v;
  }

 private:
  const std::string& file_;
  const environment& env_;
};

client_config read_tables(const toml::table& root, const reader& r) {
  client_config out;
  r.only(root, "", {"name", "server", "servers", "colours", "timestamp_format", "notifications", "logging",
                    "require_e2e"});
  const auto table_of = [&r](const toml::node& node, const std::string& key) -> const toml::table& {
    if (const auto* t = node.as_table()) return *t;
    r.fail(node, key, "must be a table ([" + key + "])");
  };
  for (const auto& [key_name, node] : root) {
    const std::string key(key_name.str());
    if (key == "name") out.name = r.name(node, key);
    if (key == "server") out.server = r.server(node, key);
    if (key == "timestamp_format") out.clock_format = r.clock_format(node, key);
    if (key == "require_e2e") out.require_e2e = r.boolean(node, key);
    if (key == "servers") {
      for (const auto& [server_name, entry] : table_of(node, key)) {
        const std::string where = "servers.\"" + printable(server_name.str()) + "\"";
        const auto a = parse_address(server_name.str());
        if (!a) r.fail(entry, where, "is not HOST, HOST:PORT or [IPV6]:PORT");
        const auto& table = table_of(entry, where);
        r.only(table, where + ".", {"name"});
        server_settings settings;
        if (const auto* n = table.get("name")) settings.name = r.name(*n, where + ".name");
        // "Chat.example.org" and "chat.example.org:9900" are one server: two tables would
        // leave which one counts to the order of a map.
        if (!out.servers.emplace(host_key(a->host, a->port), settings).second) {
          r.fail(entry, where, "is the same server as another [servers] table");
        }
      }
    }
    if (key == "colours") {
      const auto& table = table_of(node, key);
      r.only(table, "colours.", {"enabled", "own", "whisper"});
      if (const auto* n = table.get("enabled")) out.colours.enabled = r.boolean(*n, "colours.enabled");
      if (const auto* n = table.get("own")) out.colours.own = r.colour(*n, "colours.own");
      if (const auto* n = table.get("whisper")) out.colours.whisper = r.colour(*n, "colours.whisper");
    }
    if (key == "notifications") {
      const auto& table = table_of(node, key);
      r.only(table, "notifications.", {"bell_on_mention", "bell_on_whisper"});
      if (const auto* n = table.get("bell_on_mention")) out.bell_on_mention = r.boolean(*n, "notifications.bell_on_mention");
      if (const auto* n = table.get("bell_on_whisper")) out.bell_on_whisper = r.boolean(*n, "notifications.bell_on_whisper");
    }
    if (key == "logging") {
      const auto& table = table_of(node, key);
      r.only(table, "logging.", {"enabled", "dir"});
      if (const auto* n = table.get("enabled")) out.logging = r.boolean(*n, "logging.enabled");
      if (const auto* n = table.get("dir")) out.log_dir = r.directory(*n, "logging.dir");
    }
  }
  return out;
}

}  // namespace

std::optional<short> colour_number(std::string_view name) {
  static constexpr std::string_view names[] = {"black", "red", "green", "yellow", "blue", "magenta", "cyan", "white"};
  if (name == "default") return -1;
  short offset = 0;
  if (name.starts_with("bright-")) {
    name.remove_prefix(7);
    offset = 8;
  }
  for (short i = 0; i < 8; ++i) {
    if (names[i] == name) return static_cast<short>(i + offset);
  }
  return std::nullopt;
}

config_outcome parse_config(std::string_view text, const std::string& file, const environment& env) {
  try {
    const toml::table root = toml::parse(text, file);
    return {read_tables(root, reader(file, env)), {}};
  } catch (const toml::parse_error& e) {
    // toml++ names the line and column; the description says what it expected.
    return {std::nullopt, file + ":" + std::to_string(e.source().begin.line) + ":" +
                              std::to_string(e.source().begin.column) + ": " + printable(e.description())};
  } catch (const config_error& e) {
    return {std::nullopt, e.message};
  }
}

config_outcome load_config(const std::filesystem::path& file, bool must_exist, const environment& env) {
  try {
    const files::unique_fd fd = files::open_existing(file, O_RDONLY, files::exposure::trusted, "config file");
    if (!fd.valid()) {
      if (must_exist) return {std::nullopt, "config file " + file.string() + " does not exist"};
      return {client_config{}, {}};
    }
    return parse_config(files::read_all(fd.get(), max_config_bytes, file, "config file"), file.string(), env);
  } catch (const files::secure_file_error& e) {
    return {std::nullopt, e.what()};
  }
}

effective_settings apply_config(client_options& options, const client_config& config, const environment& env) {
  if (!options.address_given && config.server) {
    options.host = config.server->host;
    options.port = config.server->port;
  }
  if (!options.name) {
    const auto here = config.servers.find(host_key(options.host, options.port));
    if (here != config.servers.end() && here->second.name) {
      options.name = here->second.name;
    } else {
      options.name = config.name;
    }
  }
  effective_settings out;
  if (options.log_dir) {
    out.log_dir = options.log_dir;
  } else if (config.logging) {
    out.log_dir = config.log_dir.value_or(default_log_dir(env));
  }
  return out;
}

}  // namespace natter::client
