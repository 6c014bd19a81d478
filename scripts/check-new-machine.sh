#!/usr/bin/env bash
# Runs scripts/first-command-check.sh in a brand-new Debian 12 root (../shared/tools/fresh-debian:
# only git and ca-certificates installed, a clean clone of HEAD), so that a missing install step
# fails here even when this machine has every package already. Needs root. scripts/test.sh runs
# it when CI=true.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
fresh="${FRESH_DEBIAN_TOOL:-$root/../shared/tools/fresh-debian}"
[ -x "$fresh" ] || [ -f "$fresh" ] || { echo "check-new-machine: no $fresh" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "check-new-machine: needs root (fresh-debian builds a chroot)" >&2; exit 1; }
cd "$root"
start=$SECONDS
bash "$fresh" -- bash scripts/first-command-check.sh
echo "check-new-machine: passed in $((SECONDS - start)) s"
