#include "natter/server/config_words.hpp"

#include <toml++/toml.h>

#include <fstream>
#include <sstream>

namespace natter::server {

config_words read_config_words(const std::string& path) {
  config_words out;
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    out.error = "config file " + path + " cannot be read";
    return out;
  }
  std::string text(max_server_config_bytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > max_server_config_bytes) {
    out.error = "config file " + path + " is too large";
    return out;
  }
  toml::table root;
  try {
    root = toml::parse(text, path);
  } catch (const toml::parse_error& e) {
    out.error = path + ":" + std::to_string(e.source().begin.line) + ":" + std::to_string(e.source().begin.column) +
                ": " + std::string(e.description());
    return out;
  }
  for (const auto& [key_name, node] : root) {
    const std::string key(key_name.str());
    const std::size_t line = node.source().begin.line;
    std::string value;
    if (const auto b = node.value_exact<bool>()) {
      if (*b) out.entries.push_back({line, key, "--" + key});
      continue;
    }
    if (const auto s = node.value_exact<std::string>()) {
      value = *s;
    } else if (const auto i = node.value_exact<std::int64_t>()) {
      value = std::to_string(*i);
    } else if (const auto d = node.value_exact<double>()) {
      std::ostringstream text_of;
      text_of.imbue(std::locale::classic());
      text_of << *d;
      value = text_of.str();
    } else {
      out.error = path + ":" + std::to_string(line) + ": " + key + ": must be a string, a number or true/false";
      return out;
    }
    out.entries.push_back({line, key, "--" + key + "=" + value});
  }
  return out;
}

}  // namespace natter::server
