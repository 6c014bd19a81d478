#include "natter/client/formatter.hpp"

#include <algorithm>
#include <ctime>

#include "natter/overloaded.hpp"
#include "natter/text.hpp"

namespace natter::client {

namespace {

std::string user_list(const std::vector<user_info>& users) {
  std::string out;
  for (const auto& u : users) {
    if (!out.empty()) out += ", ";
    out += printable(u.name);
  }
  return out.empty() ? "(nobody)" : out;
}

bool same_name(std::string_view a, std::string_view b) { return fold_name(a) == fold_name(b); }

display_line chat(std::string text) { return {channel::chat, std::move(text)}; }
display_line error(std::string text) { return {channel::error, std::move(text)}; }

std::optional<display_line> format_server(const server_message& message, const format_options& options) {
  return std::visit(
      overloaded{
          [&](const welcome_event& m) -> std::optional<display_line> {
            std::string text = "* joined as " + printable(m.name) + "; online (" +
                               std::to_string(m.user_count) + "): " + user_list(m.users);
            if (m.user_count > m.users.size()) {
              text += " and " + std::to_string(m.user_count - m.users.size()) + " more";
            }
            if (!m.motd.empty()) text += "\n* " + printable(m.motd);
            return chat(std::move(text));
          },
          [](const ack_event&) -> std::optional<display_line> { return std::nullopt; },
          [&](const chat_event& m) -> std::optional<display_line> {
            const std::string clock = format_clock(m.ts_ms, options.utc, options.clock_format);
            const std::string from = printable(m.from);
            const std::string text = printable(m.text);
            if (!m.whisper) return chat(clock + " " + (m.action ? action_text(from, text) : "<" + from + "> " + text));
            const std::string to = printable(m.to);
            const bool outgoing = same_name(m.from, options.own_name) && !same_name(m.to, options.own_name);
            if (outgoing) return chat(clock + " " + whisper_out_text(to, text));
            if (m.action) return chat(clock + " (whisper) " + action_text(from, text));
            return chat(clock + " *" + from + "* (whisper) " + text);
          },
          [](const presence_event& m) -> std::optional<display_line> {
            if (m.joined) {
              return chat("* " + printable(m.name) + " joined (fingerprint " + printable(m.fingerprint) + ")");
            }
            // "bob left (quit: see you tomorrow)", "bob left (kicked: spamming)"
            return chat("* " + printable(m.name) + " left (" + printable(m.reason) +
                        (m.message.empty() ? "" : ": " + printable(m.message)) + ")");
          },
          [](const users_event& m) -> std::optional<display_line> {
            // One user a line with the fingerprint, so that /users is where keys are compared
            // (the welcome line stays short: names only).
            std::size_t width = 0;
            for (const auto& u : m.users) width = std::max(width, printable(u.name).size());
            std::string text = "* online (" + std::to_string(m.users.size()) + "):";
            if (m.users.empty()) text += " (nobody)";
            for (const auto& u : m.users) {
              const std::string name = printable(u.name);
              text += "\n*   " + name + std::string(width - name.size(), ' ') + "  " +
                      (u.fingerprint.empty() ? "(no fingerprint)" : printable(u.fingerprint));
              if (!u.away.empty()) text += "  (away: " + printable(u.away) + ")";
            }
            return chat(std::move(text));
          },
          [](const whois_event& m) -> std::optional<display_line> {
            std::string text = "* " + printable(m.name) + ": fingerprint " + printable(m.fingerprint) +
                               (m.online ? " (online)" : " (offline)");
            if (!m.away.empty()) text += "\n* " + printable(m.name) + " is away: " + printable(m.away);
            return chat(std::move(text));
          },
          [](const pong_event&) -> std::optional<display_line> { return std::nullopt; },
          [](const error_event& m) -> std::optional<display_line> {
            return error("! error " + printable(m.code) + ": " + printable(m.message));
          },
          [](const bye_event& m) -> std::optional<display_line> {
            std::string text = "* the server is closing the connection (" + printable(m.reason) + ")";
            if (!m.message.empty()) text += ": " + printable(m.message);
            return error(std::move(text));
          },
          // End-to-end bodies are opened by the end-to-end layer, which shows what they hold;
          // the envelope itself has nothing to show.
          [](const e2e_event&) -> std::optional<display_line> { return std::nullopt; },
      },
      message);
}

// Numbered like the Wireshark dissector (docs/WIRESHARK.md): "frame N" is natter.index, the
// frame's number in its direction (1 hello, 2 key exchange, 3+ session), and a session frame is
// labelled "Session C→S #counter" exactly as in Wireshark's Info column.
std::string format_trace(const trace_event& t) {
  std::string out = std::string("[trace] ") + (t.outgoing ? "-> sent" : "<- recv") + " frame " +
                    std::to_string(t.frame_number) + " len=" + std::to_string(t.length) + " ";
  if (t.counter) {
    out += std::string("Session ") + (t.outgoing ? "C→S" : "S→C") + " #" + std::to_string(*t.counter) +
           " ciphertext=" + std::to_string(t.ciphertext_size);
  } else {
    out += t.label;
  }
  if (!t.detail.empty()) out += " " + t.detail;
  return out;
}

// Every line says which protection it had: "[e2e]" sealed by the sender's client for ours,
// "[not e2e]" readable by the server (docs/E2E.md "On the wire"). Plain ASCII, so pipes and
// --plain logs can be grepped for it; a verified sender's name carries ✓.
std::optional<display_line> format_e2e(const e2e_shown_event& e, const format_options& options) {
  switch (e.kind) {
    case e2e_shown::message:
    case e2e_shown::not_end_to_end: {
      const std::string marker = e.kind == e2e_shown::message ? "[e2e]" : "[not e2e]";
      const std::string from = printable(e.from) + (e.verified ? " ✓" : "");
      const std::string head = format_clock(e.ts_ms, options.utc) + " " + marker + " ";
      if (e.whisper && !e.to.empty()) return chat(head + whisper_out_text(printable(e.to), printable(e.text)));
      if (e.action) return chat(head + (e.whisper ? "(whisper) " : "") + action_text(from, printable(e.text)));
      if (e.whisper) return chat(head + "*" + from + "* (whisper) " + printable(e.text));
      return chat(head + "<" + from + "> " + printable(e.text));
    }
    case e2e_shown::warning: return error("! [e2e] " + printable_lines(e.text));
    case e2e_shown::notice: return chat("* [e2e] " + printable_lines(e.text));
    // Loud both ways: the error channel (stderr in line mode), the label first.
    case e2e_shown::room_open: return error("! [not e2e] " + printable_lines(e.text));
    case e2e_shown::room_end_to_end: return error("* [e2e] " + printable_lines(e.text));
    case e2e_shown::trace: return display_line{channel::trace, "[trace] " + printable(e.text)};
  }
  return std::nullopt;
}

}  // namespace

std::string action_text(std::string_view from, std::string_view text) {
  return "* " + std::string(from) + " " + std::string(text);
}

std::string whisper_out_text(std::string_view to, std::string_view text) {
  return "-> *" + std::string(to) + "* " + std::string(text);
}

std::string format_clock(std::int64_t ts_ms, bool utc) { return format_clock(ts_ms, utc, "%H:%M"); }

std::string format_clock(std::int64_t ts_ms, bool utc, const std::string& format) {
  const std::time_t seconds = static_cast<std::time_t>(ts_ms / 1000);
  std::tm parts{};
  if (utc) {
    gmtime_r(&seconds, &parts);
  } else {
    localtime_r(&seconds, &parts);
  }
  char buffer[65];
  const std::size_t n = std::strftime(buffer, sizeof buffer, format.c_str(), &parts);
  return std::string(buffer, n);
}

std::optional<display_line> format_event(const client_event& event, const format_options& options) {
  return std::visit(
      overloaded{
          [&](const server_message& m) { return format_server(m, options); },
          [](const trace_event& t) -> std::optional<display_line> {
            return display_line{channel::trace, format_trace(t)};
          },
          [](const established_event& e) -> std::optional<display_line> {
            return display_line{channel::trace, "[trace] session established, connection id " +
                                                    e.connection_id_hex};
          },
          [](const notice_event& n) -> std::optional<display_line> { return error("* " + n.text); },
          [](const trust_request_event&) -> std::optional<display_line> { return std::nullopt; },
          [](const failure_event& f) -> std::optional<display_line> { return error("natter: " + f.message); },
          // The conversation words these itself (they depend on what it remembers).
          [](const reconnecting_event&) -> std::optional<display_line> { return std::nullopt; },
          [](const closed_event&) -> std::optional<display_line> { return std::nullopt; },
          [&](const e2e_shown_event& e) { return format_e2e(e, options); },
      },
      event);
}

}  // namespace natter::client
