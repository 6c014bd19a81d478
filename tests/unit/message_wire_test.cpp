// The exact bytes every message is written as: the key order of docs/PROTOCOL.md §5 ("Member
// order"), which is nlohmann's (members sorted by key). Receivers must not depend on it, but the
// wire must not change by accident: a refactoring of the writers has to keep these bytes.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "natter/message_build.hpp"

using namespace natter;

namespace {
const std::vector<user_info> two_users{{"alice", "3b6a", 1764000000000}, {"Bob", "0000", -5}};
}  // namespace

TEST_CASE("every message is written with its members in the documented order") {
  CHECK(build(client_message{join_request{"alice", 1}}) ==
        R"({"name":"alice","ref":1,"type":"join"})");
  CHECK(build(client_message{join_request{"alice", {}}}) ==
        R"({"name":"alice","type":"join"})");
  CHECK(build(client_message{say_request{"hi \"there\"\n", 2}}) ==
        R"({"ref":2,"text":"hi \"there\"\n","type":"say"})");
  CHECK(build(client_message{whisper_request{"bob", "psst", 3}}) ==
        R"({"ref":3,"text":"psst","to":"bob","type":"whisper"})");
  CHECK(build(client_message{users_request{4}}) ==
        R"({"ref":4,"type":"users"})");
  CHECK(build(client_message{whois_request{"carol", 5}}) ==
        R"({"name":"carol","ref":5,"type":"whois"})");
  CHECK(build(client_message{ping_request{6}}) ==
        R"({"ref":6,"type":"ping"})");
  CHECK(build(client_message{quit_request{"bed"}}) ==
        R"({"reason":"bed","type":"quit"})");
  CHECK(build(client_message{quit_request{}}) ==
        R"({"type":"quit"})");
  CHECK(build(server_message{welcome_event{"alice", two_users, 2, "be nice", 65536, 4096, 5.0, 10.5}}) ==
        R"({"burst":10.5,"max_frame":65536,"max_text":4096,"motd":"be nice","name":"alice","rate":5.0,"type":"welcome","user_count":2,"users":[{"fingerprint":"3b6a","name":"alice","since":1764000000000},{"fingerprint":"0000","name":"Bob","since":-5}]})");
  CHECK(build(server_message{welcome_event{"alice", {}, 0, "", 4096, 100, 0.0, 0.0}}) ==
        R"({"burst":0.0,"max_frame":4096,"max_text":100,"name":"alice","rate":0.0,"type":"welcome","user_count":0,"users":[]})");
  CHECK(build(server_message{ack_event{2, 17, 1764000000000}}) ==
        R"({"id":17,"ref":2,"ts":1764000000000,"type":"ack"})");
  CHECK(build(server_message{chat_event{18, 1764000000001, "alice", "", "hello all", false}}) ==
        R"({"from":"alice","id":18,"scope":"all","text":"hello all","ts":1764000000001,"type":"message"})");
  CHECK(build(server_message{chat_event{19, -1, "alice", "bob", "secret", true}}) ==
        R"({"from":"alice","id":19,"scope":"whisper","text":"secret","to":"bob","ts":-1,"type":"message"})");
  CHECK(build(server_message{presence_event{true, "bob", "aaaa-bbbb", "x"}}) ==
        R"({"event":"joined","fingerprint":"aaaa-bbbb","name":"bob","type":"presence"})");
  CHECK(build(server_message{presence_event{false, "bob", "x", "timeout"}}) ==
        R"({"event":"left","name":"bob","reason":"timeout","type":"presence"})");
  CHECK(build(server_message{presence_event{false, "bob", {}, "quit", {}, "see you tomorrow"}}) ==
        R"({"event":"left","message":"see you tomorrow","name":"bob","reason":"quit","type":"presence"})");
  CHECK(build(server_message{users_event{7, two_users, true}}) ==
        R"({"more":true,"ref":7,"type":"users","users":[{"fingerprint":"3b6a","name":"alice","since":1764000000000},{"fingerprint":"0000","name":"Bob","since":-5}]})");
  CHECK(build(server_message{users_event{{}, {}, false}}) ==
        R"({"more":false,"type":"users","users":[]})");
  CHECK(build(server_message{whois_event{8, "carol", "cccc", true}}) ==
        R"({"fingerprint":"cccc","name":"carol","online":true,"ref":8,"type":"whois"})");
  CHECK(build(server_message{whois_event{{}, "carol", "cccc", false}}) ==
        R"({"fingerprint":"cccc","name":"carol","online":false,"type":"whois"})");
  CHECK(build(server_message{pong_event{9}}) ==
        R"({"ref":9,"type":"pong"})");
  CHECK(build(server_message{pong_event{}}) ==
        R"({"type":"pong"})");
  CHECK(build(server_message{error_event{"name_taken", "that name", 10}}) ==
        R"({"code":"name_taken","message":"that name","ref":10,"type":"error"})");
  CHECK(build(server_message{error_event{"bad_json", "no", {}}}) ==
        R"({"code":"bad_json","message":"no","type":"error"})");
  CHECK(build(server_message{bye_event{"kicked", "behave"}}) ==
        R"({"message":"behave","reason":"kicked","type":"bye"})");
}

TEST_CASE("away: a request of its own; the answers carry the status only when there is one") {
  CHECK(build(client_message{away_request{"lunch", 4}}) == R"({"message":"lunch","ref":4,"type":"away"})");
  CHECK(build(client_message{away_request{}}) == R"({"type":"away"})");
  CHECK(build(server_message{ack_event{2, 17, 1764000000000, "lunch"}}) ==
        R"({"away":"lunch","id":17,"ref":2,"ts":1764000000000,"type":"ack"})");
  CHECK(build(server_message{whois_event{8, "bob", "cccc", true, "", "lunch"}}) ==
        R"({"away":"lunch","fingerprint":"cccc","name":"bob","online":true,"ref":8,"type":"whois"})");
  CHECK(build(server_message{users_event{{}, {{"bob", "0000", 5, "", "lunch"}}, false}}) ==
        R"({"more":false,"type":"users","users":[{"away":"lunch","fingerprint":"0000","name":"bob","since":5}]})");
}

TEST_CASE("an action (/me) carries \"action\":true; without it the bytes are as before") {
  CHECK(build(client_message{say_request{"waves", 2, true}}) == R"({"action":true,"ref":2,"text":"waves","type":"say"})");
  CHECK(build(client_message{whisper_request{"bob", "nods", 3, true}}) ==
        R"({"action":true,"ref":3,"text":"nods","to":"bob","type":"whisper"})");
  chat_event action{18, 1764000000001, "alice", "", "waves", false};
  action.action = true;
  CHECK(build(server_message{action}) ==
        R"({"action":true,"from":"alice","id":18,"scope":"all","text":"waves","ts":1764000000001,"type":"message"})");
  action.action = false;
  CHECK(build(server_message{action}) ==
        R"({"from":"alice","id":18,"scope":"all","text":"waves","ts":1764000000001,"type":"message"})");
}

TEST_CASE("e2e: the envelope's members in the documented order (PROTOCOL.md §4.5); no \"to\" for a room body") {
  e2e_request whisper;
  whisper.kind = "whisper";
  whisper.to = "bob";
  whisper.body = "AAAA";
  whisper.ref = 3;
  CHECK(build(client_message{whisper}) == R"({"body":"AAAA","kind":"whisper","ref":3,"to":"bob","type":"e2e"})");
  e2e_request room;
  room.kind = "room";
  room.body = "AAAA";
  CHECK(build(client_message{room}) == R"({"body":"AAAA","kind":"room","type":"e2e"})");
  e2e_event delivered;
  delivered.id = 5;
  delivered.ts_ms = 7;
  delivered.from = "alice";
  delivered.kind = "room";
  delivered.body = "AAAA";
  CHECK(build(server_message{delivered}) == R"({"body":"AAAA","from":"alice","id":5,"kind":"room","ts":7,"type":"e2e"})");
  delivered.kind = "whisper";
  delivered.to = "bob";
  CHECK(build(server_message{delivered}) ==
        R"({"body":"AAAA","from":"alice","id":5,"kind":"whisper","to":"bob","ts":7,"type":"e2e"})");
}
