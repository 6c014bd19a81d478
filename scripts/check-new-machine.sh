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

# The base root, made here rather than by fresh-debian: its own first run names the output
# "...tar.part", from which mmdebstrap infers a *directory*, and then fails to untar it. The
# content is the same (minbase, git, ca-certificates); only --format=tar is said outright.
cache="${FRESH_DEBIAN_CACHE:-/var/tmp/natter-fresh-debian-bookworm.tar}"
if [ ! -f "$cache" ] || [ ! -s "$cache" ]; then
  export DEBIAN_FRONTEND=noninteractive
  if ! command -v mmdebstrap >/dev/null; then
    apt-get update -qq && apt-get install -y -qq mmdebstrap >/dev/null
  fi
  echo "check-new-machine: creating the base root $cache (about a minute, once)"
  rm -rf "$cache.part"
  mmdebstrap --quiet --variant=minbase --include=git,ca-certificates --format=tar bookworm \
    "$cache.part"
  mv "$cache.part" "$cache"
fi
export FRESH_DEBIAN_CACHE="$cache"
bash "$fresh" -- bash scripts/first-command-check.sh
echo "check-new-machine: passed in $((SECONDS - start)) s"
