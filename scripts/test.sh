#!/usr/bin/env bash
# One command: install dependencies, build, and run every test (unit, integration, Wireshark,
# terminal UI) with ctest. This is exactly what CI runs (.ci/run).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build_dir="${BUILD_DIR:-$root/build}"
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
cd "$build_dir"
ctest --output-on-failure -j "$(nproc)" --timeout 600
