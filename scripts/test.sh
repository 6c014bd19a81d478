#!/usr/bin/env bash
# One command: install dependencies, build, and run every test (unit, integration, Wireshark,
# terminal UI, soak) with ctest; then the hardening runs: the tests again under ASan+UBSan and
# TSan (scripts/sanitize.sh) and each fuzz harness for FUZZ_SECONDS, default 60 (scripts/fuzz.sh).
# Measured on a clean clone on 2 cores: about 15 minutes in all.
# This is exactly what CI runs (.ci/run). NATTER_HARDENING=0 skips the hardening runs locally.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build_dir="${BUILD_DIR:-$root/build}"
"$root/scripts/install-deps.sh"
"$root/scripts/build.sh"
(cd "$build_dir" && ctest --output-on-failure -j "$(nproc)" --timeout 600)
if [ "${NATTER_HARDENING:-1}" != 0 ]; then
  "$root/scripts/sanitize.sh"
  "$root/scripts/fuzz.sh" "${FUZZ_SECONDS:-60}"
fi
