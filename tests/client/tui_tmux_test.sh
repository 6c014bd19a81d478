#!/usr/bin/env bash
# End-to-end test of the full-screen client: the real `natter --tui` runs in a detached tmux
# session (100x30) against a real natter-server on 127.0.0.1 (ephemeral port). bob is a
# non-interactive natter. We type with `tmux send-keys` and read the screen with
# `tmux capture-pane -p`:
#   * the status line shows the server's fingerprint and "new" (pinned via --accept-new)
#   * the user list shows alice and bob; bob's broadcast and whisper (Korean text) appear,
#     the whisper marked "*bob* (whisper)" as in line mode; alice's broadcast and whisper
#     (Tab-completed name) reach bob and show "-> *bob*" on alice's screen
#   * a whisper to nobody is marked "not sent"; a bracketed multi-line paste asks first and
#     sends its lines as text
#   * /verify + y marks the server verified (status line, 0600 file beside known_hosts)
#   * typing stays live while 3000 messages flood in
#   * /quit ends natter with status 0
#   * with a changed server key natter exits 3 and repeats the warning readably afterwards
# usage: tui_tmux_test.sh NATTER NATTER_SERVER      (exit 77 = skipped: no tmux)
set -euo pipefail

natter=${1:?usage: tui_tmux_test.sh NATTER NATTER_SERVER}
server=${2:?usage: tui_tmux_test.sh NATTER NATTER_SERVER}
command -v tmux >/dev/null || { echo "SKIP: tmux is not installed"; exit 77; }

work=$(mktemp -d /tmp/natter-tui-test.XXXXXX)
sock="natter-test-$$"  # our own tmux server: never touches anyone else's sessions
server_pid=""
bob_pid=""
pane=tui  # the tmux session screen() reads
# shellcheck source=tests/client/tmux_support.sh
. "$(dirname "${BASH_SOURCE[0]}")/tmux_support.sh"

cleanup() {
  local status=$?
  if [ "$status" -ne 0 ]; then
    echo "---- last screen ----"; tmux_ capture-pane -p -t "$pane" 2>/dev/null || true
    echo "---- server log ----"; tail -20 "$work/server.log" 2>/dev/null || true
    echo "---- bob ----"; cat "$work/bob.out" "$work/bob.err" 2>/dev/null || true
  fi
  tmux_ kill-server 2>/dev/null || true
  if [ -n "$bob_pid" ]; then kill "$bob_pid" 2>/dev/null || true; fi
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# The user list is the pane right of the vertical bar.
user_pane() { screen | awk -F'│' 'NF > 1 { print $2 }'; }


# A server with a rate limit high enough for the flood below.
"$server" --port 0 --port-file "$work/port" --state-dir "$work/state" --rate 5000 --burst 5000 \
  2>"$work/server.log" &
server_pid=$!
for _ in $(seq 100); do [ -s "$work/port" ] && break; sleep 0.1; done
port=$(cat "$work/port")
[ -n "$port" ] || fail "the server did not start"
fingerprint=$("$server" --fingerprint --state-dir "$work/state")

# alice: the full-screen client, with its own config dir; its exit status lands in a file.
tmux_ -f /dev/null new-session -d -x 100 -y 30 -s tui \
  "env XDG_CONFIG_HOME='$work/alice' LANG=C.UTF-8 LC_ALL= '$natter' --tui --name alice --accept-new \
   127.0.0.1:$port; echo \$? > '$work/alice.status'; sleep 60"

wait_screen "joined as alice"
wait_screen "127.0.0.1:$port | alice | end-to-end | key new $fingerprint"

# bob: a script that says something, whispers in Korean, then stays to receive.
printf 'hello from bob\n/w alice 안녕 alice\n' |
  XDG_CONFIG_HOME="$work/bob" "$natter" --name bob --accept-new --stay "127.0.0.1:$port" \
    >"$work/bob.out" 2>"$work/bob.err" &
bob_pid=$!

wait_screen "<bob> hello from bob"
wait_screen "*bob* (whisper) 안녕 alice"
user_pane | grep -q ' alice' || fail "alice is not in the user list"
user_pane | grep -q ' bob' || fail "bob is not in the user list"
screen | grep -q 'online (2)' || fail "the user list does not count 2"

# alice answers: a broadcast, and a whisper whose name is completed with Tab.
tmux_ send-keys -t tui 'hi bob' Enter
tmux_ send-keys -t tui '/w b' Tab
tmux_ send-keys -t tui 'psst bob' Enter
wait_screen "<alice> hi bob"
wait_screen "-> *bob* psst bob"
wait_file_has "$work/bob.out" "<alice> hi bob"
wait_file_has "$work/bob.out" "*alice* (whisper) psst bob"

# A whisper to nobody is marked as not sent, with the server's reason.
tmux_ send-keys -t tui '/w nobody hi' Enter
wait_screen "-> *nobody* hi ✗ not sent: "

# A multi-line paste (bracketed: paste-buffer -p) asks first; its lines are text, so the one
# starting with /w is said, not run.
tmux_ set-buffer -b natter-paste "pasted one
/w nobody pasted two
"
tmux_ paste-buffer -p -b natter-paste -t tui
wait_screen "Send 2 pasted lines? [y/N]"
tmux_ send-keys -t tui 'y' Enter
wait_screen "<alice> pasted one"
wait_file_has "$work/bob.out" "<alice> /w nobody pasted two"

# Mark the server verified.
tmux_ send-keys -t tui '/verify' Enter
wait_screen "Mark the server's key as verified? [y/N]"
tmux_ send-keys -t tui 'y' Enter
wait_screen "key verified ✓ $fingerprint"
verified="$work/alice/natter/verified"
# The store names the full key (as pinned in known_hosts), not the fingerprint shown.
server_key=$(awk -v host="127.0.0.1:$port" '$1 == host { print $2 }' "$work/alice/natter/known_hosts")
[ "${#server_key}" = 64 ] || fail "no pinned server key in known_hosts"
grep -qxF "server 127.0.0.1:$port $server_key" "$verified" || fail "verified store does not name the server key"
[ "$(stat -c %a "$verified")" = 600 ] || fail "verified store is not mode 0600"

# A flood of 3000 broadcasts from carol; typing must stay live meanwhile.
seq -f 'flood %g' 3000 |
  XDG_CONFIG_HOME="$work/carol" "$natter" --name carol --accept-new "127.0.0.1:$port" \
    >/dev/null 2>"$work/carol.err" &
carol_pid=$!
wait_screen "<carol> flood" 10
tmux_ send-keys -t tui 'typing during the flood'
wait_screen "> typing during the flood" 3
wait "$carol_pid" || fail "carol's script failed: $(cat "$work/carol.err")"
wait_screen "<carol> flood 3000" 20
tmux_ send-keys -t tui C-u

screen >"$work/screen.txt"
echo "---- alice's screen ----"
cat "$work/screen.txt"

tmux_ send-keys -t tui '/quit' Enter
wait_file_has "$work/alice.status" "0" 10

# The server's key "changes" (alice's pin is replaced by another key): natter refuses, and once
# the full screen is gone the warning is repeated readably, one line per line, no U+FFFD.
printf '127.0.0.1:%s %s\n' "$port" "$(printf '11%.0s' $(seq 32))" >"$work/alice/natter/known_hosts"
pane=changed
tmux_ new-session -d -x 100 -y 30 -s changed \
  "env XDG_CONFIG_HOME='$work/alice' LANG=C.UTF-8 LC_ALL= '$natter' --tui --name alice 127.0.0.1:$port; \
   echo \$? > '$work/changed.status'; sleep 60"
wait_screen "press Enter to leave"
tmux_ send-keys -t changed x Enter
wait_file_has "$work/changed.status" "3" 10
wait_screen "natter: @@@ WARNING: THE SERVER KEY FOR 127.0.0.1:$port HAS CHANGED! @@@"
screen | grep -q '^  pinned fingerprint:  ' || fail "the warning's lines were run together"
if screen | grep -q $'\xef\xbf\xbd'; then fail "the warning shows U+FFFD"; fi
echo "PASS: tui_tmux_test"
