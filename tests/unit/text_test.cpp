// UTF-8 validation, names, text rules and printable() (docs/PROTOCOL.md §5 "Field rules").
#include <doctest/doctest.h>

#include <random>
#include <string>
#include <string_view>

#include "natter/limits.hpp"
#include "natter/text.hpp"

using namespace std::string_view_literals;
using natter::is_valid_utf8;

TEST_CASE("well-formed UTF-8 is accepted") {
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("plain ASCII"));
  CHECK(is_valid_utf8("\xec\x95\x88\xeb\x85\x95\xed\x95\x98\xec\x84\xb8\xec\x9a\x94"));  // 안녕하세요
  CHECK(is_valid_utf8("\xf0\x9f\x98\x80"));                      // U+1F600 emoji
  CHECK(is_valid_utf8("\xf0\x9f\x91\x8d\xf0\x9f\x8f\xbd"));      // emoji + skin tone modifier
  CHECK(is_valid_utf8("nul\0inside"sv));                         // U+0000 is valid UTF-8
  // Boundaries of each sequence length (Unicode Table 3-7).
  CHECK(is_valid_utf8("\x7f"));
  CHECK(is_valid_utf8("\xc2\x80"));          // U+0080
  CHECK(is_valid_utf8("\xdf\xbf"));          // U+07FF
  CHECK(is_valid_utf8("\xe0\xa0\x80"));      // U+0800
  CHECK(is_valid_utf8("\xed\x9f\xbf"));      // U+D7FF, last before the surrogates
  CHECK(is_valid_utf8("\xee\x80\x80"));      // U+E000, first after the surrogates
  CHECK(is_valid_utf8("\xef\xbf\xbf"));      // U+FFFF
  CHECK(is_valid_utf8("\xf0\x90\x80\x80"));  // U+10000
  CHECK(is_valid_utf8("\xf4\x8f\xbf\xbf"));  // U+10FFFF, the last code point
}

TEST_CASE("overlong forms are refused") {
  CHECK_FALSE(is_valid_utf8("\xc0\xaf"));              // '/' in 2 bytes
  CHECK_FALSE(is_valid_utf8("\xc1\xbf"));
  CHECK_FALSE(is_valid_utf8("\xc0\x80"));              // "modified UTF-8" NUL
  CHECK_FALSE(is_valid_utf8("\xe0\x80\xaf"));          // '/' in 3 bytes
  CHECK_FALSE(is_valid_utf8("\xe0\x9f\xbf"));          // U+07FF in 3 bytes
  CHECK_FALSE(is_valid_utf8("\xf0\x80\x80\xaf"));      // '/' in 4 bytes
  CHECK_FALSE(is_valid_utf8("\xf0\x8f\xbf\xbf"));      // U+FFFF in 4 bytes
}

TEST_CASE("surrogates and code points above U+10FFFF are refused") {
  CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));          // U+D800
  CHECK_FALSE(is_valid_utf8("\xed\xbf\xbf"));          // U+DFFF
  CHECK_FALSE(is_valid_utf8("\xed\xa0\xbd\xed\xb8\x80"));  // CESU-8 pair for U+1F600
  CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));      // U+110000
  CHECK_FALSE(is_valid_utf8("\xf5\x80\x80\x80"));
  CHECK_FALSE(is_valid_utf8("\xf8\x88\x80\x80\x80"));  // old 5-byte form
  CHECK_FALSE(is_valid_utf8("\xfe"));
  CHECK_FALSE(is_valid_utf8("\xff"));
}

TEST_CASE("truncated sequences are refused") {
  CHECK_FALSE(is_valid_utf8("\xc3"));
  CHECK_FALSE(is_valid_utf8("\xe2\x82"));
  CHECK_FALSE(is_valid_utf8("\xf0\x9f\x98"));
  CHECK_FALSE(is_valid_utf8("abc\xe2\x82"));           // at the very end of the input
  CHECK_FALSE(is_valid_utf8("\xe2\x82 "));             // interrupted by ASCII
  CHECK_FALSE(is_valid_utf8("\xf0\x9f\x98 x"));
}

TEST_CASE("lone and misplaced continuation bytes are refused") {
  CHECK_FALSE(is_valid_utf8("\x80"));
  CHECK_FALSE(is_valid_utf8("\xbf"));
  CHECK_FALSE(is_valid_utf8("a\x80z"));
  CHECK_FALSE(is_valid_utf8("\xc3\xa9\xa9"));          // é followed by a stray continuation
  CHECK_FALSE(is_valid_utf8("\xc3\x28"));              // lead byte, then ASCII
  CHECK_FALSE(is_valid_utf8("\xe2\x28\xa1"));
  CHECK_FALSE(is_valid_utf8("\xe2\x82\x28"));
  CHECK_FALSE(is_valid_utf8("\xf0\x28\x8c\xbc"));
  CHECK_FALSE(is_valid_utf8("\xf0\x90\x28\xbc"));
}

TEST_CASE("valid names") {
  CHECK(natter::is_valid_name("alice"));
  CHECK(natter::is_valid_name("Bob_2"));
  CHECK(natter::is_valid_name("a.b-c_d"));
  CHECK(natter::is_valid_name("x"));
  CHECK(natter::is_valid_name("0123456789"));
  CHECK(natter::is_valid_name("-.-"));
  CHECK(natter::is_valid_name(std::string(natter::limits::max_name, 'n')));
}

TEST_CASE("names of 0 or 33 characters are refused") {
  CHECK(natter::limits::max_name == 32);
  CHECK_FALSE(natter::is_valid_name(""));
  CHECK_FALSE(natter::is_valid_name(std::string(33, 'n')));
  CHECK_FALSE(natter::is_valid_name(std::string(1000, 'n')));
}

TEST_CASE("names with spaces, punctuation, controls or non-ASCII are refused") {
  CHECK_FALSE(natter::is_valid_name("al ice"));
  CHECK_FALSE(natter::is_valid_name(" alice"));
  CHECK_FALSE(natter::is_valid_name("alice "));
  CHECK_FALSE(natter::is_valid_name("al/ice"));
  CHECK_FALSE(natter::is_valid_name("al@ice"));
  CHECK_FALSE(natter::is_valid_name("al:ice"));
  CHECK_FALSE(natter::is_valid_name("alice\n"));
  CHECK_FALSE(natter::is_valid_name("al\tice"));
  CHECK_FALSE(natter::is_valid_name("al\x1b[31mice"));
  CHECK_FALSE(natter::is_valid_name("al\0ice"sv));
  CHECK_FALSE(natter::is_valid_name("alice\x7f"));
  CHECK_FALSE(natter::is_valid_name("\xd0\xb0lice"));       // Cyrillic 'а' lookalike
  CHECK_FALSE(natter::is_valid_name("\xef\xbd\x81lice"));   // fullwidth 'ａ'
  CHECK_FALSE(natter::is_valid_name("alice\xe2\x80\xae"));  // U+202E right-to-left override
  CHECK_FALSE(natter::is_valid_name("al\xe2\x80\x8bice"));  // U+200B zero-width space
  CHECK_FALSE(natter::is_valid_name("caf\xc3\xa9"));        // é
  CHECK_FALSE(natter::is_valid_name("\xff"));
}

TEST_CASE("fold_name lower-cases ASCII only") {
  CHECK(natter::fold_name("AlIcE_9.-Z") == "alice_9.-z");
  CHECK(natter::fold_name("alice") == "alice");
  CHECK(natter::fold_name("ALICE") == natter::fold_name("alice"));
  CHECK(natter::fold_name("") == "");
  // Bytes outside ASCII are left untouched (such names are refused anyway).
  CHECK(natter::fold_name("\xd0\x90") == "\xd0\x90");
  CHECK(natter::fold_name("@[`{") == "@[`{");  // neighbours of A-Z and a-z
}

TEST_CASE("text_problem: length limits") {
  constexpr auto max = natter::limits::max_text;
  CHECK(max == 4096);
  CHECK(natter::text_problem("", max).has_value());
  CHECK_FALSE(natter::text_problem("x", max).has_value());
  CHECK_FALSE(natter::text_problem(std::string(max, 'x'), max).has_value());
  CHECK(natter::text_problem(std::string(max + 1, 'x'), max).has_value());
  // The limit counts bytes, not characters: 1365 three-byte characters + 1 byte = 4096 bytes.
  std::string korean;
  for (int i = 0; i < 1365; ++i) korean += "\xed\x95\x9c";  // 한
  CHECK_FALSE(natter::text_problem(korean + "x", max).has_value());
  CHECK(natter::text_problem(korean + "xy", max).has_value());
  // The caller's limit is the one applied.
  CHECK_FALSE(natter::text_problem("12345", 5).has_value());
  CHECK(natter::text_problem("123456", 5).has_value());
}

TEST_CASE("text_problem: control characters") {
  constexpr auto max = natter::limits::max_text;
  CHECK_FALSE(natter::text_problem("a\tb", max).has_value());          // TAB is allowed
  CHECK_FALSE(natter::text_problem("\xc2\xa0", max).has_value());      // U+00A0, just past C1
  CHECK_FALSE(natter::text_problem("\xec\x95\x88\xeb\x85\x95 \xf0\x9f\x98\x80", max).has_value());
  CHECK(natter::text_problem("line\nforged line", max).has_value());
  CHECK(natter::text_problem("a\rb", max).has_value());
  CHECK(natter::text_problem("\x1b[2J", max).has_value());              // ESC
  CHECK(natter::text_problem("nul\0"sv, max).has_value());
  CHECK(natter::text_problem("\x1f", max).has_value());
  CHECK(natter::text_problem("del\x7f", max).has_value());
  CHECK(natter::text_problem("\xc2\x80", max).has_value());             // U+0080
  CHECK(natter::text_problem("\xc2\x9b" "31m", max).has_value());       // U+009B CSI
  CHECK(natter::text_problem("\xc2\x85", max).has_value());             // U+0085 NEL
  CHECK(natter::text_problem("\xc2\x9f", max).has_value());             // U+009F
  CHECK(natter::text_problem("\xc0\x8a", max).has_value());             // overlong newline
}

TEST_CASE("text_problem: invalid UTF-8 is refused with a reason that says so") {
  const auto problem = natter::text_problem("bad \xff byte", natter::limits::max_text);
  REQUIRE(problem.has_value());
  CHECK(problem->find("UTF-8") != std::string_view::npos);
  CHECK(natter::text_problem("\xed\xa0\x80", natter::limits::max_text).has_value());
  CHECK(natter::text_problem("\xe2\x82", natter::limits::max_text).has_value());
}

TEST_CASE("printable keeps ordinary text and replaces controls and bad bytes with U+FFFD") {
  const std::string fffd = "\xef\xbf\xbd";
  CHECK(natter::printable("hello, world") == "hello, world");
  CHECK(natter::printable("\xec\x95\x88\xeb\x85\x95") == "\xec\x95\x88\xeb\x85\x95");
  CHECK(natter::printable("a\tb") == "a\tb");
  CHECK(natter::printable("a\x1b[2Jb") == "a" + fffd + "[2Jb");
  CHECK(natter::printable("two\nlines") == "two" + fffd + "lines");
  CHECK(natter::printable("\x7f") == fffd);
  CHECK(natter::printable("\xc2\x9b" "1m") == fffd + "1m");  // one C1 character, one replacement
  CHECK(natter::printable("x\xffy") == "x" + fffd + "y");
  CHECK(natter::printable("\xe2\x82") == fffd + fffd);       // truncated: byte by byte
  CHECK(natter::printable("") == "");
}

TEST_CASE("printable output is always valid UTF-8 free of control characters") {
  std::mt19937 rng(20240611);  // fixed seed: reproducible
  std::uniform_int_distribution<int> byte(0, 255);
  std::uniform_int_distribution<int> length(1, 64);
  for (int round = 0; round < 2000; ++round) {
    std::string input(static_cast<std::size_t>(length(rng)), '\0');
    for (auto& c : input) c = static_cast<char>(byte(rng));
    const std::string out = natter::printable(input);
    CAPTURE(round);
    REQUIRE(is_valid_utf8(out));
    // Replacing TABs (the one allowed control) leaves text that text_problem accepts.
    std::string no_tabs = out;
    for (auto& c : no_tabs) if (c == '\t') c = ' ';
    CHECK_FALSE(natter::text_problem(no_tabs, out.size() + 1).has_value());
  }
}

TEST_CASE("UTF-8 and control checks look at every position of long ASCII runs") {
  // The checks skip plain ASCII eight bytes at a time; what follows a run of any length, and a
  // bad byte at any offset inside or after it, must still be seen.
  for (std::size_t prefix = 0; prefix <= 40; ++prefix) {
    const std::string ascii(prefix, 'a');
    INFO("ASCII prefix of ", prefix, " bytes");
    CHECK(natter::is_valid_utf8(ascii + "\xc3\xa9" + ascii));                // é
    CHECK_FALSE(natter::is_valid_utf8(ascii + "\xc3"));                      // truncated
    CHECK_FALSE(natter::is_valid_utf8(ascii + "\xc0\x80" + ascii));          // overlong NUL
    CHECK_FALSE(natter::is_valid_utf8(ascii + "\xed\xa0\x80"));              // surrogate
    CHECK_FALSE(natter::is_valid_utf8(ascii + "\xff" + ascii));
    if (prefix > 0) {
      CHECK(natter::text_problem(ascii + "\t" + ascii, 4096) == std::nullopt);
      CHECK(natter::text_problem(ascii + "\x1b[2J" + ascii, 4096).has_value());
      CHECK(natter::text_problem(ascii + "\x7f", 4096).has_value());
      CHECK(natter::text_problem(ascii + "\xc2\x9b" + ascii, 4096).has_value());  // C1 CSI
      CHECK(natter::text_problem(ascii + "\xe2\x82\xac" + ascii, 4096) == std::nullopt);  // €
      CHECK(natter::text_problem(ascii + "\xe2\x82" + ascii, 4096).has_value());
    }
  }
}

TEST_CASE("text_problem sees every ASCII control character at every offset") {
  // text_problem skips eight printable bytes at a time: each byte below 0x80, at each offset of
  // a 24-byte run (and again with a tab three bytes on), must be judged as on its own.
  for (int c = 0; c < 0x80; ++c) {
    const bool forbidden = (c < 0x20 && c != '\t') || c == 0x7f;
    for (std::size_t at = 0; at < 24; ++at) {
      std::string text(24, 'x');
      text[at] = static_cast<char>(c);
      INFO("byte ", c, " at ", at);
      CHECK(natter::text_problem(text, 4096).has_value() == forbidden);
      text[(at + 3) % 24] = '\t';
      CHECK(natter::text_problem(text, 4096).has_value() == forbidden);
    }
  }
}

TEST_CASE("split_words: runs between spaces and tabs, none empty") {
  using natter::split_words;
  CHECK(split_words("user  127.0.0.1:9900\tbob  2:abcd ") ==
        std::vector<std::string_view>{"user", "127.0.0.1:9900", "bob", "2:abcd"});
  CHECK(split_words("").empty());
  CHECK(split_words(" \t ").empty());
  CHECK(split_words("one") == std::vector<std::string_view>{"one"});
}

TEST_CASE("printable_lines: each line made printable, the newlines kept") {
  CHECK(natter::printable_lines("one\ntwo\x1b[2J\n") == "one\ntwo\xEF\xBF\xBD[2J\n");
  CHECK(natter::printable_lines("") == "");
  CHECK(natter::printable_lines("a\r\nb") == "a\xEF\xBF\xBD\nb");
  CHECK(natter::printable("a\nb") == "a\xEF\xBF\xBD" "b");  // printable() alone would join them
}
