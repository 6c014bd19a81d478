#include "natter/client/chat_log.hpp"

#include <fcntl.h>

#include <ctime>
#include <utility>

#include "natter/text.hpp"

namespace natter::client {

namespace {

std::tm parts_of(std::int64_t wall_ms, bool utc) {
  const auto seconds = static_cast<std::time_t>(wall_ms / 1000);
  std::tm parts{};
  if (utc) {
    gmtime_r(&seconds, &parts);
  } else {
    localtime_r(&seconds, &parts);
  }
  return parts;
}

std::string stamp(std::int64_t wall_ms, bool utc, const char* format) {
  const std::tm parts = parts_of(wall_ms, utc);
  char buffer[32];
  const std::size_t n = std::strftime(buffer, sizeof buffer, format, &parts);
  return std::string(buffer, n);
}

}  // namespace

std::string log_directory_name(std::string_view host, std::uint16_t port) {
  std::string out;
  for (const char c : host) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-';
    out += keep ? c : '_';
  }
  // The port suffix also means the name is never "." or "..".
  return out + "_" + std::to_string(port);
}

chat_log::chat_log(std::filesystem::path dir, std::string_view host, std::uint16_t port, ms_clock wall, bool utc)
    : server_dir_(std::move(dir) / log_directory_name(host, port)), wall_(std::move(wall)), utc_(utc) {}

std::filesystem::path chat_log::file_for(std::int64_t wall_ms) const {
  return server_dir_ / (stamp(wall_ms, utc_, "%Y-%m-%d") + ".log");
}

std::optional<std::string> chat_log::write(std::string_view text) {
  const std::int64_t now = wall_();
  const auto path = file_for(now);
  std::string line = stamp(now, utc_, "%Y-%m-%d %H:%M:%S") + " " + printable(text.substr(0, max_log_line_bytes)) + "\n";
  try {
    if (!fd_.valid() || path != open_path_) {
      fd_ = {};  // yesterday's file is closed before today's is opened
      // Level by level, so the log directory and the server's are both made 0700 (the helper
      // narrows only the last directory it makes).
      files::create_parent_directories(server_dir_);
      files::create_parent_directories(path);
      files::check_directory_of(path, "chat log");
      fd_ = files::open_or_create_for_append(path, "chat log");
      open_path_ = path;
    }
    files::write_all(fd_.get(), line, path, "chat log");
  } catch (const files::secure_file_error& e) {
    fd_ = {};
    return std::string(e.what());
  }
  return std::nullopt;
}

}  // namespace natter::client
