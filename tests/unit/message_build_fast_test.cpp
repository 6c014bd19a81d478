// build(server_message) writes chat, ack, presence and welcome messages by hand; it must produce exactly
// the bytes of the nlohmann DOM path (detail::build_with_json), for any valid input. The hand
// writer is driven by the same schema as the DOM writer, so it is also checked for every other
// message, which build() sends through the DOM today: marking one fast_write must not change a byte.
#include <doctest/doctest.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>
#include <tuple>
#include <type_traits>
#include <variant>
#include <vector>

#include "natter/message_build.hpp"
#include "natter/text.hpp"
// Private to natter_common: the two schema-driven writers, compared directly.
#include "../../common/src/schema_write.hpp"

namespace {

void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Valid UTF-8 weighted towards what needs escaping: quotes, backslashes, every C0 control, DEL,
// plus ASCII, Latin-1, Korean, emoji and the boundaries of each UTF-8 length.
std::string random_text(std::mt19937_64& rng, std::size_t max_len) {
  std::uniform_int_distribution<std::size_t> length(0, max_len);
  std::uniform_int_distribution<int> kind(0, 9);
  const std::size_t n = length(rng);
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    std::uint32_t cp = 0;
    switch (kind(rng)) {
      case 0: cp = std::uniform_int_distribution<std::uint32_t>(0, 0x1F)(rng); break;
      case 1: cp = (rng() & 1) ? '"' : '\\'; break;
      case 2: cp = std::uniform_int_distribution<std::uint32_t>(0x7F, 0x7FF)(rng); break;
      case 3: cp = std::uniform_int_distribution<std::uint32_t>(0xAC00, 0xD7A3)(rng); break;  // Hangul
      case 4: cp = std::uniform_int_distribution<std::uint32_t>(0x1F300, 0x1FAFF)(rng); break;  // emoji
      case 5: {
        static constexpr std::uint32_t edges[] = {0x7F, 0x80, 0x7FF, 0x800, 0xD7FF, 0xE000, 0xFEFF,
                                                  0xFFFD, 0xFFFF, 0x10000, 0x10FFFF, 0x2028, 0x2029, '/'};
        cp = edges[std::uniform_int_distribution<std::size_t>(0, std::size(edges) - 1)(rng)];
        break;
      }
      case 6: {
        cp = std::uniform_int_distribution<std::uint32_t>(0x800, 0x10FFFF)(rng);
        if (cp >= 0xD800 && cp <= 0xDFFF) cp = 'x';  // no surrogates
        break;
      }
      default: cp = std::uniform_int_distribution<std::uint32_t>(0x20, 0x7E)(rng); break;
    }
    append_utf8(out, cp);
  }
  return out;
}

std::uint64_t random_id(std::mt19937_64& rng) {
  switch (rng() % 4) {
    case 0: return rng() % 1000;
    case 1: return rng() % ((std::uint64_t{1} << 53) + 1);
    case 2: return std::uint64_t{1} << 53;
    default: return rng();  // the whole range, whatever natter's own ids reach
  }
}

std::int64_t random_ts(std::mt19937_64& rng) {
  switch (rng() % 5) {
    case 0: return 0;
    case 1: return std::numeric_limits<std::int64_t>::min();
    case 2: return std::numeric_limits<std::int64_t>::max();
    case 3: return static_cast<std::int64_t>(rng() % 4'000'000'000'000) - 2'000'000'000'000;
    default: return static_cast<std::int64_t>(rng());
  }
}

void check_same(const natter::server_message& m) {
  const std::string fast = natter::build(m);
  const std::string dom = natter::detail::build_with_json(m);
  REQUIRE(fast == dom);
}

}  // namespace

TEST_CASE("hand-written chat, ack, presence and welcome messages equal nlohmann's dump()") {
  std::mt19937_64 rng(20261124);
  SUBCASE("chat messages, broadcast and whisper") {
    for (int i = 0; i < 20000; ++i) {
      natter::chat_event m;
      m.id = random_id(rng);
      m.ts_ms = random_ts(rng);
      m.from = random_text(rng, 32);
      m.whisper = (i % 3) == 0;
      m.action = (i % 5) == 0;
      if (m.whisper) m.to = random_text(rng, 32);
      m.text = random_text(rng, i % 10 == 0 ? 3000 : 200);
      check_same(natter::server_message{m});
    }
  }
  SUBCASE("acks") {
    for (int i = 0; i < 20000; ++i) {
      check_same(natter::server_message{natter::ack_event{random_id(rng), random_id(rng), random_ts(rng)}});
    }
  }
  SUBCASE("presence, joined and left") {
    for (int i = 0; i < 20000; ++i) {
      natter::presence_event m;
      m.joined = (i % 2) == 0;
      m.name = random_text(rng, 32);
      if (m.joined) m.fingerprint = random_text(rng, 40);
      else m.reason = random_text(rng, 20);
      if (!m.joined && i % 4 == 1) m.message = random_text(rng, 60);  // the quit's or kick's words
      check_same(natter::server_message{m});
    }
  }
  SUBCASE("welcome, with up to 300 users, a motd or none, and any rate") {
    for (int i = 0; i < 2000; ++i) {
      natter::welcome_event m;
      m.name = random_text(rng, 32);
      for (std::size_t n = rng() % (i % 50 == 0 ? 300 : 8); n > 0; --n) {
        m.users.push_back({random_text(rng, 32), random_text(rng, 40), random_ts(rng)});
      }
      m.user_count = random_id(rng);
      if (i % 2) m.motd = random_text(rng, 100);
      m.max_frame = random_id(rng);
      m.max_text = random_id(rng);
      static constexpr double rates[] = {0.0, 1.0, 5.0, 10.5, 0.1, 1e-7, 123456789.0, 1e300, 2.5e-320};
      m.rate = (i % 3) ? rates[rng() % std::size(rates)] : std::uniform_real_distribution<double>(0, 1e6)(rng);
      m.burst = rates[rng() % std::size(rates)];
      check_same(natter::server_message{m});
    }
  }
  SUBCASE("every single byte below 0x80, alone") {
    for (int c = 0; c < 0x80; ++c) {
      natter::chat_event m;
      m.from = "alice";
      m.text = std::string(1, static_cast<char>(c));
      check_same(natter::server_message{m});
    }
  }
  SUBCASE("invalid UTF-8 falls back to the DOM, which replaces it") {
    for (const std::string& bad : {std::string("\xff"), std::string("a\xc3"), std::string("\xed\xa0\x80"),
                                  std::string("\xc0\xaf"), std::string("ok\xf4\x90\x80\x80")}) {
      CHECK_FALSE(natter::is_valid_utf8(bad));
      natter::chat_event m;
      m.from = "bob";
      m.text = bad;
      check_same(natter::server_message{m});
      check_same(natter::server_message{natter::presence_event{true, bad, "fp", {}}});
      natter::welcome_event w;
      w.name = "carol";
      w.users.push_back({bad, "fp", 1});
      check_same(natter::server_message{w});
    }
  }
}

TEST_CASE("strings are escaped the same whatever the alignment of the character to escape") {
  // The serialiser skips plain ASCII eight bytes at a time: put each character that needs
  // escaping (or that must pass as is) at every offset of a 40-byte text, and once in each byte
  // of a word together with a second one.
  std::vector<std::string> specials = {"\"", "\\", "/", "\x7f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", " ", "~"};
  for (int c = 0; c < 0x20; ++c) specials.emplace_back(1, static_cast<char>(c));
  for (const auto& special : specials) {
    for (std::size_t at = 0; at <= 40; ++at) {
      std::string text(40, 'x');
      text.insert(at, special);
      if (at % 7 == 3) text.insert(0, special);
      natter::chat_event chat;
      chat.id = at;
      chat.ts_ms = 1;
      chat.from = "alice";
      chat.text = text;
      INFO("special ", static_cast<int>(static_cast<unsigned char>(special[0])), " at ", at);
      check_same(natter::server_message{chat});
    }
  }
}

namespace {

// Fills every member of a message with random content, by the message's schema.
template <typename M>
void fill_random(std::mt19937_64& rng, M& m);

template <typename T>
void random_value(std::mt19937_64& rng, T& value) {
  if constexpr (std::is_same_v<T, std::string>) {
    value = random_text(rng, rng() % 10 == 0 ? 500 : 40);
  } else if constexpr (std::is_same_v<T, bool>) {
    value = rng() % 2 == 0;
  } else if constexpr (std::is_same_v<T, std::uint64_t>) {
    value = random_id(rng);
  } else if constexpr (std::is_same_v<T, std::int64_t>) {
    value = random_ts(rng);
  } else if constexpr (std::is_same_v<T, double>) {
    static constexpr double values[] = {0.0, 1.0, 10.5, 1e-7, 1e300, 2.5e-320, -3.0};
    value = values[rng() % std::size(values)];
  } else if constexpr (std::is_same_v<T, natter::request_ref>) {
    if (rng() % 3) value = random_id(rng);
    else value.reset();
  } else if constexpr (std::is_same_v<T, std::vector<natter::user_info>>) {
    value.resize(rng() % 5);
    for (auto& user : value) fill_random(rng, user);
  }
}

template <typename M>
void fill_random(std::mt19937_64& rng, M& m) {
  std::apply([&](const auto&... f) { (random_value(rng, m.*f.member), ...); }, natter::schema::message<M>::fields);
  // Empty strings too: omitted members (a quit without reason, a welcome without motd).
  std::apply(
      [&](const auto&... f) {
        const auto maybe_empty = [&](auto& value) {
          if constexpr (std::is_same_v<std::decay_t<decltype(value)>, std::string>) {
            if (rng() % 4 == 0) value.clear();
          }
        };
        (maybe_empty(m.*f.member), ...);
      },
      natter::schema::message<M>::fields);
}

template <typename Variant>
void check_every_alternative(std::mt19937_64& rng) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    const auto check_one = [&]<std::size_t K>(std::integral_constant<std::size_t, K>) {
      using M = std::variant_alternative_t<K, Variant>;
      for (int i = 0; i < 2000; ++i) {
        M m{};
        fill_random(rng, m);
        const auto fast = natter::schema::write_fast(m);
        const std::string dom = natter::schema::write_dom(m);
        INFO(dom);
        REQUIRE(fast.has_value());
        REQUIRE(*fast == dom);
      }
    };
    (check_one(std::integral_constant<std::size_t, I>{}), ...);
  }(std::make_index_sequence<std::variant_size_v<Variant>>{});
}

}  // namespace

TEST_CASE("the hand writer equals nlohmann's dump() for every message the schema declares") {
  std::mt19937_64 rng(20261201);
  SUBCASE("client messages") { check_every_alternative<natter::client_message>(rng); }
  SUBCASE("server messages") { check_every_alternative<natter::server_message>(rng); }
  SUBCASE("a string that is not UTF-8 makes it give up") {
    natter::error_event m{"internal", "bad \xff", 1};
    CHECK_FALSE(natter::schema::write_fast(m).has_value());
  }
}
