# shellcheck shell=bash disable=SC2154  # sock and pane come from the sourcing script
# What the tmux end-to-end tests share (sourced, not run): driving our own tmux server and
# waiting for the screen or a file to show something. The sourcing script sets, before using
# these:
#   sock   the tmux server's socket name (-L): our own, never anyone else's sessions
#   pane   the tmux session screen() reads (scripts with several sessions change it)

tmux_() { tmux -L "$sock" "$@"; }

fail() { echo "FAIL: $*"; exit 1; }

screen() { tmux_ capture-pane -p -t "$pane"; }

# Waits up to $2 seconds (default 10) until the screen contains the fixed string $1.
wait_screen() {
  local deadline=$((SECONDS + ${2:-10}))
  until screen | grep -qF -- "$1"; do
    [ "$SECONDS" -lt "$deadline" ] || fail "the screen ($pane) never showed: $1"
    sleep 0.1
  done
}

# Waits up to $3 seconds (default 10) until file $1 contains the fixed string $2.
wait_file_has() {
  local deadline=$((SECONDS + ${3:-10}))
  until grep -qF -- "$2" "$1" 2>/dev/null; do
    [ "$SECONDS" -lt "$deadline" ] || fail "$1 never had: $2"
    sleep 0.1
  done
}
