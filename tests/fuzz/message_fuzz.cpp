// Fuzzes the JSON message layer (docs/PROTOCOL.md §4-5): parse_client_frame and
// parse_server_frame on arbitrary plaintexts, then build() of everything that parsed.
//
// Invariants: nothing throws (an exception escaping here is a crash libFuzzer reports); a batch
// yields at most max_batch items; every message that parses builds to text that parses back to
// one message of the same kind and builds to the same text again (parse and build agree); and
// the text rules hold: what printable() makes of any input is valid UTF-8 without control
// characters, i.e. text_problem() accepts it unless it is empty or too long.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "fuzz_support.hpp"
#include "natter/limits.hpp"
#include "natter/message_build.hpp"
#include "natter/message_parse.hpp"
#include "natter/text.hpp"

namespace {

using natter::fuzz::check;

template <typename Message, typename Item, typename Parse>
void round_trip(const Message& message, Parse parse) {
  const std::string text = natter::build(message);
  check(natter::is_valid_utf8(text));
  const std::vector<Item> again = parse(text);
  check(again.size() == 1);
  const auto* reparsed = std::get_if<Message>(&again[0]);
  check(reparsed != nullptr && reparsed->index() == message.index());
  check(natter::build(*reparsed) == text);
}

void check_errors(const natter::message_error& error) {
  check(!error.code.empty() && !error.message.empty() && natter::is_valid_utf8(error.message));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view plaintext(reinterpret_cast<const char*>(data), size);
  const natter::text_limits limits{natter::limits::max_text};
  const auto parse_client = [&](std::string_view s) { return natter::parse_client_frame(s, limits); };
  const auto parse_server = [](std::string_view s) { return natter::parse_server_frame(s); };

  const auto client_items = parse_client(plaintext);
  check(!client_items.empty() && client_items.size() <= natter::limits::max_batch);
  std::vector<std::string> built;
  for (const auto& item : client_items) {
    if (const auto* m = std::get_if<natter::client_message>(&item)) {
      round_trip<natter::client_message, natter::parsed_client_item>(*m, parse_client);
      built.push_back(natter::build(*m));
    } else {
      check_errors(std::get<natter::message_error>(item));
    }
  }
  // What a server does with a batch of answers: join serialised messages, which must parse again.
  if (built.size() > 1) {
    std::vector<std::string_view> views(built.begin(), built.end());
    check(parse_client(natter::build_batch(views)).size() == built.size());
  }

  const auto server_items = parse_server(plaintext);
  check(!server_items.empty() && server_items.size() <= natter::limits::max_batch);
  for (const auto& item : server_items) {
    if (const auto* m = std::get_if<natter::server_message>(&item)) {
      round_trip<natter::server_message, natter::parsed_server_item>(*m, parse_server);
    } else {
      check_errors(std::get<natter::message_error>(item));
    }
  }

  const std::string shown = natter::printable(plaintext);
  check(natter::is_valid_utf8(shown));
  if (!shown.empty() && shown.size() <= natter::limits::max_text) {
    check(!natter::text_problem(shown, natter::limits::max_text).has_value());
  }
  if (natter::is_valid_name(plaintext)) check(natter::fold_name(plaintext).size() == size);
  return 0;
}
