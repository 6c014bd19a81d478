#pragma once
// Who is in the room, for the end-to-end layer (pure). The welcome lists at most one page of
// users (PROTOCOL.md `welcome`, 256), so with more online the rest is asked with `users` and
// followed page by page; until the last page the directory is incomplete, and the layer holds
// room texts back (sealed now, they would leave every unlisted member unable to read them,
// silently). Presence keeps it current afterwards.
//
// It also judges whether the room is open: with more members than the limit, room texts go as
// plain `say` (the server can read them) rather than end to end, because every sender would
// need a pairwise session with every member (docs/E2E.md §13). The count comes from the
// server, so a hostile server can make a room look open; --require-e2e refuses to send then.
//
// Failure contract: nothing here throws on server input; counts saturate at zero.
#include <chrono>
#include <cstddef>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "natter/client/e2e_engine.hpp"
#include "natter/messages.hpp"

namespace natter::client {

// The largest room whose texts go end to end (Signal's group cap too). Above it the room is
// "open". Measured (docs/PERFORMANCE.md "Key distribution"): a new speaker in a room of 1 000
// waits about 0.3 s and sends about 0.7 MB, using 2 000 of the server's 3 000 control bodies;
// about 1 500 is the ceiling that budget sets. The one place this number lives
// (--e2e-room-limit overrides it, for tests).
inline constexpr std::size_t max_e2e_room_members = 1000;
// The pages of `users` should follow the request within a round trip; a server that does not
// finish them in this long is not waited for (room texts then go to the members it listed).
inline constexpr std::chrono::seconds directory_timeout{10};

class room_directory {
 public:
  // `limit`: members at most for an end-to-end room.
  explicit room_directory(std::size_t limit) : limit_(limit) {}

  // The welcome's list; true if it was incomplete and the pages must be asked for.
  bool on_welcome(const welcome_event& welcome, e2e_clock::time_point now);
  // Names listed by a `users` answer (ours or the user's own /users).
  void on_listed(const std::vector<user_info>& users);
  // Our paging is over (its last page, an error, or directory_timeout): from now on the count
  // is the names known, kept current by presence.
  void complete();
  void on_joined(const std::string& name);
  void on_left(const std::string& name);

  [[nodiscard]] bool is_complete() const { return complete_; }
  [[nodiscard]] bool overdue(e2e_clock::time_point now) const {
    return !complete_ && now - asked_at_ >= directory_timeout;
  }
  // Members, ourselves included: those listed once complete; before, what the server claimed.
  [[nodiscard]] std::size_t members() const;
  // Members listed so far (welcome, pages, presence), ourselves included.
  [[nodiscard]] std::size_t listed() const { return names_.size(); }
  [[nodiscard]] std::size_t limit() const { return limit_; }
  [[nodiscard]] bool open() const { return members() > limit_; }
  // True (open) or false (end to end) if that changed since the last call; the first call
  // reports only an open room (end to end is what everyone expects).
  [[nodiscard]] std::optional<bool> take_change();

 private:
  std::size_t limit_;
  std::set<std::string> names_;  // folded
  std::size_t claimed_ = 0;      // the welcome's user_count, moved by presence until complete
  bool complete_ = true;
  bool announced_open_ = false;
  e2e_clock::time_point asked_at_{};
};

}  // namespace natter::client
