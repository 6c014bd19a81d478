#!/usr/bin/env bash
# End-to-end test of reconnecting and of why a session ended (issue 14 items 1, 4, 5): the real
# `natter --tui` in a detached tmux session (100x30), a real natter-server in another (its
# console needs a terminal), restarted on the same port under the connected clients.
#   * carol's "/quit see you tomorrow" reaches alice as "carol left (quit: see you tomorrow)"
#   * the server stops: alice's status line says "reconnecting in N s…"; dave (--stay) gets
#     SIGTERM while waiting and leaves with 0; the server comes back on the same port and alice
#     reconnects with her scrollback and half-typed input line kept, told "dave left"; bob
#     (--stay) reconnects too and receives alice's next line
#   * kick bob with a reason: alice sees "bob left (kicked: spamming)", bob exits 4, no reconnect
#   * kick erin (full screen): a typed key does not end the screen, Enter does; afterwards
#     "kicked by the operator: go away" on the normal screen, exit 4
#   * the server comes back with another key: alice refuses it loudly and exits 3
# usage: tui_reconnect_tmux_test.sh NATTER NATTER_SERVER      (exit 77 = skipped: no tmux)
set -euo pipefail

natter=${1:?usage: tui_reconnect_tmux_test.sh NATTER NATTER_SERVER}
server=${2:?usage: tui_reconnect_tmux_test.sh NATTER NATTER_SERVER}
command -v tmux >/dev/null || { echo "SKIP: tmux is not installed"; exit 77; }

work=$(mktemp -d /tmp/natter-reconnect-test.XXXXXX)
sock="natter-reconnect-$$"  # our own tmux server: never touches anyone else's sessions
pids=()
pane=alice
# shellcheck source=tests/client/tmux_support.sh
. "$(dirname "${BASH_SOURCE[0]}")/tmux_support.sh"

cleanup() {
  local status=$?
  if [ "$status" -ne 0 ]; then
    echo "---- last screen ($pane) ----"; tmux_ capture-pane -p -t "$pane" 2>/dev/null || true
    for f in "$work"/*.log "$work"/*.err; do echo "---- $f ----"; tail -20 "$f" 2>/dev/null || true; done
  fi
  tmux_ kill-server 2>/dev/null || true
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# Waits for background process $1 to exit; its status must be $2.
expect_exit() {
  local status=0
  wait "$1" || status=$?
  [ "$status" -eq "$2" ] || fail "$3 exited $status, not $2"
}

# The server runs in tmux so that its operator console (which needs a terminal) takes `kick`.
# `exec` makes the pane's process the server itself, so SIGTERM reaches it.
start_server() {  # session port state-dir
  tmux_ new-session -d -x 120 -y 10 -s "$1" \
    "exec '$server' --port $2 --port-file '$work/port' --state-dir '$3' 2>>'$work/server.log'"
}
stop_server() {  # session: SIGTERM (a graceful stop: bye server_stopping), and wait for its log
  # to say "stopped" (its listening socket is closed by then). Polling the pid instead proved
  # unreliable under ctest: the exited server can linger as a zombie of the tmux server.
  local pid stops
  pid=$(tmux_ display-message -p -t "$1" '#{pane_pid}')
  stops=$(grep -c ' INFO stopped$' "$work/server.log" || true)
  kill -TERM "$pid"
  for _ in $(seq 100); do
    [ "$(grep -c ' INFO stopped$' "$work/server.log" || true)" -gt "$stops" ] && return 0
    sleep 0.1
  done
  fail "the server did not stop"
}

start_server srv1 0 "$work/state"
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")
[ -n "$port" ] || fail "the server did not start"
wait_file_has "$work/server.log" "listening"

tmux_ -f /dev/null new-session -d -x 100 -y 50 -s alice \
  "env XDG_CONFIG_HOME='$work/alice' LANG=C.UTF-8 LC_ALL= '$natter' --tui --name alice --accept-new \
   127.0.0.1:$port; echo \$? > '$work/alice.status'; sleep 60"
wait_screen "joined as alice"

# bob and dave stay to receive (stdin a pipe this script holds open: not a terminal, so line
# mode's pipe rules apply, with --stay); bob says something first, for alice's scrollback.
mkfifo "$work/bob.in" "$work/dave.in"
XDG_CONFIG_HOME="$work/bob" "$natter" --name bob --accept-new --stay "127.0.0.1:$port" \
  <"$work/bob.in" >"$work/bob.out" 2>"$work/bob.err" &
bob_pid=$!
pids+=("$bob_pid")
exec 7>"$work/bob.in"
XDG_CONFIG_HOME="$work/dave" "$natter" --name dave --accept-new --stay "127.0.0.1:$port" \
  <"$work/dave.in" >"$work/dave.out" 2>"$work/dave.err" &
dave_pid=$!
pids+=("$dave_pid")
exec 8>"$work/dave.in"
printf 'before the restart\n' >&7
wait_screen "<bob> before the restart"
wait_screen "dave joined"

printf '/quit see you tomorrow\n' |
  XDG_CONFIG_HOME="$work/carol" "$natter" --name carol --accept-new "127.0.0.1:$port" >/dev/null 2>"$work/carol.err" ||
  fail "carol's script failed"
wait_screen "carol left (quit: see you tomorrow)"

tmux_ send-keys -t alice 'half typed'

# ---- the server stops and comes back on the same port ----------------------------------------
stop_server srv1
wait_screen "the server stopped; reconnecting in"
wait_screen "| reconnecting"  # the status line
wait_file_has "$work/dave.err" "reconnecting in"
kill -TERM "$dave_pid"  # a signal while waiting to reconnect leaves, cleanly
expect_exit "$dave_pid" 0 "dave (SIGTERM while reconnecting)"
rm -f "$work/port"
start_server srv2 "$port" "$work/state"
wait_screen "reconnected to 127.0.0.1:$port" 40
screen | grep -E "while you were away: .*dave left" >/dev/null || fail "no word that dave left meanwhile"
screen | grep -qF "<bob> before the restart" || fail "the scrollback was lost"
screen | grep -qF "> half typed" || fail "the input line was lost"
screen | grep -qF "| reconnecting" && fail "the status line still says reconnecting"
wait_file_has "$work/bob.err" "reconnected to 127.0.0.1:$port" 40
# Alice must know bob is back before she writes to him: a "bob joined" notice if he came back
# after her, her welcome's list if he came back first (which of the two is the jitter's choice).
for ((i = 0; i < 100; i++)); do
  screen | grep -qE "bob joined|online \([0-9]+\): .*bob" && break
  sleep 0.1
done
screen | grep -qE "bob joined|online \([0-9]+\): .*bob" || fail "alice never learnt that bob is back"
sleep 0.5  # a presence notice may wait for the server's deferred flush
tmux_ send-keys -t alice ' after the restart' Enter
wait_file_has "$work/bob.out" "<alice> half typed after the restart"

# ---- kicks: the reason reaches the others, and the kicked one says why and exits 4 ------------
attempts=$(grep -c "reconnecting in\|; next in" "$work/bob.err" || true)
tmux_ send-keys -t srv2 'kick bob spamming' Enter
wait_screen "bob left (kicked: spamming)"
expect_exit "$bob_pid" 4 "bob (kicked, --stay)"
grep -qF "natter: kicked by the operator: spamming" "$work/bob.err" || fail "bob was not told why"
[ "$(grep -c "reconnecting in\|; next in" "$work/bob.err" || true)" = "$attempts" ] ||
  fail "bob tried to come back after a kick"

tmux_ -f /dev/null new-session -d -x 100 -y 30 -s erin \
  "env XDG_CONFIG_HOME='$work/erin' LANG=C.UTF-8 LC_ALL= '$natter' --tui --name erin --accept-new \
   127.0.0.1:$port; echo \$? > '$work/erin.status'; sleep 60"
pane=erin
wait_screen "joined as erin"
tmux_ send-keys -t srv2 'kick erin go away' Enter
wait_screen "press Enter to leave"
tmux_ send-keys -t erin 'x'  # a key typed on does not throw the screen away; Enter leaves
sleep 0.5
[ -e "$work/erin.status" ] && fail "a key other than Enter ended the kicked screen"
tmux_ send-keys -t erin Enter
wait_file_has "$work/erin.status" "4"
wait_screen "natter: kicked by the operator: go away"
pane=alice
wait_screen "erin left (kicked: go away)"

# ---- the server comes back with another key: refused, loudly, no silent reconnect -------------
stop_server srv2
wait_screen "reconnecting in"
start_server srv3 "$port" "$work/other-state"
wait_screen "press Enter to leave" 40
tmux_ send-keys -t alice x Enter
wait_file_has "$work/alice.status" "3"
wait_screen "natter: @@@ WARNING: THE SERVER KEY FOR 127.0.0.1:$port HAS CHANGED! @@@"
echo "PASS: tui_reconnect_tmux_test"
