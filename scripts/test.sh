#!/usr/bin/env bash
# One command: install what natter and its tests need, build everything, and run every test
# (unit, integration, Wireshark, terminal UI, soak, shellcheck) with ctest; then the hardening
# runs: the tests again under ASan+UBSan and TSan (scripts/sanitize.sh) and each fuzz harness for
# FUZZ_SECONDS, default 30 (scripts/fuzz.sh; seven harnesses, so a CI run stays under 30 minutes;
# longer runs by hand: FUZZ_TARGETS=... scripts/fuzz.sh 3600). This is exactly what CI runs (.ci/run).
#
# With CI=true it is stricter: warnings in natter's own code are errors (NATTER_WERROR), a test
# that ctest reports as skipped fails the run, and the README's first command is also tried in a
# brand-new Debian root (scripts/check-new-machine.sh), where a missing install step fails.
# NATTER_HARDENING=0 skips the sanitizer and fuzzing runs locally.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
build_dir="${BUILD_DIR:-$root/build}"
ci=0
case "${CI:-}" in true|1|yes) ci=1 ;; esac
if [ "$ci" -eq 1 ]; then export NATTER_WERROR=ON; fi

# First, while this machine may still be new: the README's first command in a brand-new root.
# Inside such a root already (FRESH_DEBIAN=1, ../shared/tools/fresh-debian), it is tried right here,
# before the test packages below are installed, instead of in a root nested in this one.
if [ "$ci" -eq 1 ]; then
  if [ "${FRESH_DEBIAN:-}" = 1 ]; then
    "$root/scripts/first-command-check.sh"
  else
    "$root/scripts/check-new-machine.sh"
  fi
fi

"$root/scripts/install-deps.sh" --test
"$root/scripts/build.sh"
ctest_log="$build_dir/ctest-output.log"
(cd "$build_dir" && ctest --output-on-failure -j "$(nproc)" --timeout 600) 2>&1 | tee "$ctest_log"
if [ "$ci" -eq 1 ] && grep -q "The following tests did not run" "$ctest_log"; then
  echo "test: tests were skipped; in CI every test must run (is a test dependency missing?)" >&2
  exit 1
fi
if [ "${NATTER_HARDENING:-1}" != 0 ]; then
  "$root/scripts/sanitize.sh"
  "$root/scripts/fuzz.sh" "${FUZZ_SECONDS:-30}"
fi
