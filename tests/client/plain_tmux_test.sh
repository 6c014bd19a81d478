#!/usr/bin/env bash
# End-to-end test of the plain mode's line editing (libedit): the real `natter --plain` runs in a
# detached tmux session against a real natter-server on 127.0.0.1. bob is a non-interactive
# natter fed through a FIFO, so he can speak while alice is typing. We type with
# `tmux send-keys` and read the screen with `tmux capture-pane -p`:
#   * Up recalls the last line (and Up again the one before), Ctrl-A goes to the start of it
#   * Left moves the cursor: "helo" Left "l" sends "hello"
#   * a message arriving while alice types is printed above her line, which stays as it was
#   * /me shows "* alice waves" to bob; /users lists fingerprints; /fingerprint shows the server's
#   * /away: bob whispering alice is told she is away, and /whois says so
#   * /quit ends natter with status 0
# Pipes are not edited: tests/integration/cli_test.cpp pipes input as before.
# usage: plain_tmux_test.sh NATTER NATTER_SERVER      (exit 77 = skipped: no tmux)
set -euo pipefail

natter=${1:?usage: plain_tmux_test.sh NATTER NATTER_SERVER}
server=${2:?usage: plain_tmux_test.sh NATTER NATTER_SERVER}
command -v tmux >/dev/null || { echo "SKIP: tmux is not installed"; exit 77; }

work=$(mktemp -d /tmp/natter-plain-test.XXXXXX)
sock="natter-plain-$$"  # our own tmux server: never touches anyone else's sessions
server_pid=""
bob_pid=""
pane=plain
# shellcheck source=tests/client/tmux_support.sh
. "$(dirname "${BASH_SOURCE[0]}")/tmux_support.sh"

cleanup() {
  local status=$?
  if [ "$status" -ne 0 ]; then
    echo "---- last screen ----"; tmux_ capture-pane -p -t "$pane" 2>/dev/null || true
    echo "---- server log ----"; tail -20 "$work/server.log" 2>/dev/null || true
    echo "---- bob ----"; cat "$work/bob.out" "$work/bob.err" 2>/dev/null || true
  fi
  exec 3>&- 2>/dev/null || true
  tmux_ kill-server 2>/dev/null || true
  if [ -n "$bob_pid" ]; then kill "$bob_pid" 2>/dev/null || true; fi
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The last line of the screen that is not blank: where the line being edited is.
input_line() { screen | sed '/^ *$/d' | tail -1; }
wait_input_line() {
  local deadline=$((SECONDS + ${2:-10}))
  until [ "$(input_line)" = "$1" ]; do
    [ "$SECONDS" -lt "$deadline" ] || fail "the input line is '$(input_line)', not '$1'"
    sleep 0.1
  done
}

"$server" --port 0 --port-file "$work/port" --state-dir "$work/state" 2>"$work/server.log" &
server_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")
[ -n "$port" ] || fail "the server did not start"
fingerprint=$("$server" --fingerprint --state-dir "$work/state")

# bob first, reading a FIFO we keep open (fd 3), so he speaks when we write to it.
mkfifo "$work/bob.in"
XDG_CONFIG_HOME="$work/bob" "$natter" --name bob --accept-new --stay "127.0.0.1:$port" \
  <"$work/bob.in" >"$work/bob.out" 2>"$work/bob.err" &
bob_pid=$!
exec 3>"$work/bob.in"

tmux_ -f /dev/null new-session -d -x 120 -y 30 -s "$pane" \
  "env XDG_CONFIG_HOME='$work/alice' LANG=C.UTF-8 LC_ALL= '$natter' --plain --name alice --accept-new \
   127.0.0.1:$port; echo \$? > '$work/alice.status'; sleep 60"
wait_screen "joined as alice"

tmux_ send-keys -t "$pane" 'first line' Enter
tmux_ send-keys -t "$pane" 'second line' Enter
wait_file_has "$work/bob.out" "<alice> second line"

# Up recalls the last line, Up again the one before; the arrow never shows as ^[[A.
tmux_ send-keys -t "$pane" Up
wait_input_line "second line"
tmux_ send-keys -t "$pane" Up
wait_input_line "first line"
screen | grep -qF '^[[A' && fail "Up was echoed as ^[[A"
# Ctrl-A then text: edited at the start, sent as one line.
tmux_ send-keys -t "$pane" C-a 'again: ' Enter
wait_file_has "$work/bob.out" "<alice> again: first line"

# Left moves the cursor.
tmux_ send-keys -t "$pane" 'helo' Left 'l' Enter
wait_file_has "$work/bob.out" "<alice> hello"

# bob speaks while alice is in the middle of a line: his line goes above hers, hers stays.
tmux_ send-keys -t "$pane" 'half typed'
wait_input_line "half typed"
echo "interrupting you" >&3
wait_screen "<bob> interrupting you"
wait_input_line "half typed"
tmux_ send-keys -t "$pane" ' and finished' Enter
wait_file_has "$work/bob.out" "<alice> half typed and finished"

# /me, /users and /fingerprint, as on the full screen.
tmux_ send-keys -t "$pane" '/me waves' Enter
wait_file_has "$work/bob.out" "* alice waves"
tmux_ send-keys -t "$pane" '/users' Enter
wait_screen "* online (2):"
screen | grep -qE '^\*   bob +2:' || fail "/users shows no fingerprint for bob"
tmux_ send-keys -t "$pane" '/fingerprint' Enter
wait_screen "* server 127.0.0.1:$port: $fingerprint"

# /away: bob's whisper is delivered and tells him; his /whois shows it too; /away alone is back.
tmux_ send-keys -t "$pane" '/away lunch' Enter
wait_screen "* you are marked away: lunch"
echo "/w alice are you there" >&3
wait_screen "*bob* (whisper) are you there"
wait_file_has "$work/bob.out" "* alice is away: lunch"
echo "/whois alice" >&3
wait_file_has "$work/bob.out" "* alice is away: lunch"
tmux_ send-keys -t "$pane" '/away' Enter
wait_screen "* you are back"

tmux_ send-keys -t "$pane" '/quit' Enter
for _ in $(seq 100); do [ -s "$work/alice.status" ] && break; sleep 0.1; done
[ "$(cat "$work/alice.status" 2>/dev/null)" = 0 ] || fail "natter --plain did not exit 0"
echo "plain_tmux_test: ok"
