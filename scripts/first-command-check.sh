#!/usr/bin/env bash
# Tries the README's first command as a new user would, and checks that the server it starts
# carries a real exchange between two clients. Meant to run inside a brand-new Debian root
# (scripts/check-new-machine.sh runs it there through ../shared/tools/fresh-debian), where it
# also checks that a sudo user's install-deps.sh installs what is missing.
#
#   scripts/first-command-check.sh     from the repository's top directory; exit 0 if all worked
#
# Prints the time from starting ./scripts/run-server.sh to the server's "listening" line.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d /tmp/natter-first.XXXXXX)
server_pid=""
bob_pid=""
cleanup() {
  status=$?
  if [ "$status" -ne 0 ]; then
    echo "first-command-check: FAILED; the server's output:" >&2
    tail -40 "$work/server.out" >&2 2>/dev/null || true
    echo "first-command-check: bob's output:" >&2
    cat "$work/bob.out" "$work/bob.err" >&2 2>/dev/null || true
  fi
  if [ -n "$bob_pid" ]; then kill "$bob_pid" 2>/dev/null || true; fi
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  wait 2>/dev/null || true
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT

# Waits up to SECONDS for FILE to contain TEXT.
wait_for() {  # FILE TEXT SECONDS
  local deadline=$((SECONDS + $3))
  until grep -qF -- "$2" "$1" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || { echo "first-command-check: no '$2' in $1 after $3 s" >&2; return 1; }
    sleep 0.2
  done
}

# 1. The README's first command, exactly, with a free port and a state directory of its own.
start=$SECONDS
./scripts/run-server.sh --port 0 --port-file "$work/port" --state-dir "$work/state" \
  >"$work/server.out" 2>&1 </dev/null &
server_pid=$!
wait_for "$work/server.out" "listening on" 1800
echo "first-command-check: ./scripts/run-server.sh to 'listening': $((SECONDS - start)) s"
port=$(cat "$work/port")

# 2. A real exchange: bob stays connected, alice pipes one line, bob must print it.
client="$root/build/client/natter"
XDG_CONFIG_HOME="$work/bob" "$client" --name bob --accept-new --stay "127.0.0.1:$port" \
  >"$work/bob.out" 2>"$work/bob.err" </dev/null &
bob_pid=$!
wait_for "$work/bob.out" "joined as bob" 30
echo "hello from a new machine" |
  XDG_CONFIG_HOME="$work/alice" "$client" --name alice --accept-new "127.0.0.1:$port"
wait_for "$work/bob.out" "<alice> hello from a new machine" 30
echo "first-command-check: alice's piped message reached bob"

# 3. The sudo path of install-deps.sh, for real: remove one build package, then a user who may
#    use sudo (not root) must put it back. Only inside a throwaway root.
if [ "${FRESH_DEBIAN:-}" = 1 ]; then
  export DEBIAN_FRONTEND=noninteractive
  # sudo looks its host name up; a new root's /etc/hosts may not have it.
  grep -qw "$(hostname)" /etc/hosts || echo "127.0.1.1 $(hostname)" >>/etc/hosts
  apt-get install -y -qq --no-install-recommends sudo >/dev/null
  id natter-ci >/dev/null 2>&1 || useradd --create-home natter-ci
  echo "natter-ci ALL=(ALL) NOPASSWD: ALL" >/etc/sudoers.d/natter-ci
  apt-get remove -y -qq libsodium-dev >/dev/null
  su natter-ci -c "bash '$root/scripts/install-deps.sh'"
  dpkg-query -W -f='${Status}' libsodium-dev | grep -q "install ok installed" ||
    { echo "first-command-check: install-deps.sh as a sudo user did not install libsodium-dev" >&2; exit 1; }
  echo "first-command-check: install-deps.sh as a sudo user installed what was missing"
fi
echo "first-command-check: ok"
