#!/usr/bin/env bash
# One command: install what natter needs, build the two programs, and start natter-server on
# 127.0.0.1:9900. Extra arguments go to natter-server (try --help). Connect with:
#   ./build/client/natter --name YOURNAME
# Only natter-server and natter are built (no tests, fuzzers, soak or bench); scripts/test.sh
# builds everything.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build_dir="${BUILD_DIR:-$root/build}"
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh" --programs
echo
echo "Starting natter-server. In another terminal:  $build_dir/client/natter --name YOURNAME"
echo
exec "$build_dir/server/natter-server" "$@"
