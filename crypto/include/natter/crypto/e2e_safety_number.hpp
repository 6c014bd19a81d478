#pragma once
// What humans compare to check the end-to-end keys (docs/E2E.md §6).
//
// Safety number for a pair (Signal's construction, natter's version tag):
//   for each side:  d = 0x00 0x01 ‖ ed25519_pk ‖ name;  5200 times: d = SHA-512(d ‖ ed25519_pk)
//                   its 30 digits: the first 30 bytes of d as six 5-byte big-endian numbers,
//                   each mod 100000, written as 5 digits
//   the two 30-digit halves sorted (as strings) and joined: 60 digits, 12 groups of 5 separated
//   by spaces. The same on both sides, whatever the order of the arguments; it changes when
//   either key or name does.
//
// Room code: one short code over every member's identity key, to read aloud on a call:
//   BLAKE2b-256("natter/e2e room code 1" ‖ room length (u8) ‖ room ‖ member count (u32 BE)
//               ‖ for each member in ascending (name, key) order: name length (u8) ‖ name ‖ key)
//   the first 10 bytes (80 bits) in RFC 4648 base32, lowercase, 4 groups of 4: "abcd-efgh-ijkl-mnop".
// A server adding a ghost member, or swapping a key, changes the code unless it finds an 80-bit
// second preimage.
//
// Failure contract: nullopt for a name (or room) that is empty or over 255 bytes, or for a room
// code with no members or the same member listed twice.
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "natter/crypto/e2e_pairwise_session.hpp"

namespace natter::crypto::e2e {

inline constexpr std::size_t safety_number_iterations = 5200;
inline constexpr std::size_t safety_number_digits = 60;

[[nodiscard]] std::optional<std::string> safety_number(const party& a, const party& b);
[[nodiscard]] std::optional<std::string> room_code(std::string_view room, std::span<const party> members);

}  // namespace natter::crypto::e2e
