#!/usr/bin/env bash
# One command: install dependencies, build, and start natter-server on 127.0.0.1:9900.
# Extra arguments go to natter-server (try --help). Connect with: ./build/client/natter
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
echo
echo "Starting natter-server. In another terminal:  $root/build/client/natter --name YOURNAME"
echo
exec "$root/build/server/natter-server" "$@"
