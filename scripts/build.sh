#!/usr/bin/env bash
# Configures and builds natter into ./build with CMake.
#
#   scripts/build.sh              everything: programs, tests, Wireshark tools, bench
#   scripts/build.sh --programs   only natter-server and natter (what run-server.sh needs;
#                                 no tests, so doctest, lua and tshark are not needed either)
#
# BUILD_DIR and BUILD_TYPE (default RelWithDebInfo) override the defaults; NATTER_WERROR=ON turns
# warnings in natter's own code into errors (CI sets it).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build_dir="${BUILD_DIR:-$root/build}"

tests=ON
targets=()
case "${1:-}" in
  "") ;;
  --programs) tests=OFF; targets=(--target natter-server --target natter) ;;
  *) echo "build: unknown argument '$1' (use --programs or nothing)" >&2; exit 2 ;;
esac

cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" \
  -DNATTER_BUILD_TESTS="$tests" -DNATTER_WERROR="${NATTER_WERROR:-OFF}" >/dev/null
cmake --build "$build_dir" -j "$(nproc)" "${targets[@]}"
