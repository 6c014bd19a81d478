#pragma once
// Validation of untrusted strings: UTF-8 well-formedness, user names and message text
// (rules in docs/PROTOCOL.md §5). Everything here is pure and total: it never throws.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace natter {

// True if `s` is well-formed UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above
// U+10FFFF, no truncated sequences.
[[nodiscard]] bool is_valid_utf8(std::string_view s);

// Names: 1..32 of [A-Za-z0-9_.-]. The ASCII-only alphabet rules out lookalikes, bidi overrides
// and control characters by construction.
[[nodiscard]] bool is_valid_name(std::string_view name);

// The form names are compared and stored in: ASCII lower case.
[[nodiscard]] std::string fold_name(std::string_view name);

// Why a text is refused, or nullopt if it is acceptable: valid UTF-8, 1..max_text bytes, and no
// control characters (C0 except TAB, DEL, C1), so one message cannot forge lines or terminal
// escape sequences in someone's log.
[[nodiscard]] std::optional<std::string_view> text_problem(std::string_view text,
                                                           std::size_t max_bytes);

// Replaces control characters (and invalid UTF-8) with U+FFFD for showing untrusted text on a
// terminal, e.g. a server's refusal reason.
[[nodiscard]] std::string printable(std::string_view untrusted);
// printable() of each line on its own, keeping the newlines: a several-line warning (a key
// change) stays several lines instead of one long line with U+FFFD where the newlines were.
[[nodiscard]] std::string printable_lines(std::string_view untrusted);

// The words of one line of a natter text file (known peers, verified marks): runs of anything
// but spaces and tabs, as views into `line`.
[[nodiscard]] std::vector<std::string_view> split_words(std::string_view line);

}  // namespace natter
