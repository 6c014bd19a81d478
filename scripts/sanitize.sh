#!/usr/bin/env bash
# Builds natter with sanitizers, in build directories of their own, and runs the tests under them:
#   address,undefined  the whole ctest suite (unit, server unit, integration, soak)
#   thread             the tests with concurrency: the integration tests (a real server running
#                      2 I/O threads, clients on several threads) and the server unit tests
# A sanitizer report anywhere fails the run, including one from a natter-server child process:
# reports go to files (log_path) that are checked after ctest, because a server's stderr is only
# its log file and a race found there would not otherwise fail any test.
#
#   scripts/sanitize.sh                  both
#   SANITIZERS="thread" scripts/sanitize.sh    only TSan (or "address,undefined")
#   SANITIZE_BUILD_DIR=/tmp/s ...        build directories /tmp/s-asan, /tmp/s-tsan (default ./build-sanitize-*)
# No suppressions are used.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
base="${SANITIZE_BUILD_DIR:-$root/build-sanitize}"
sanitizers="${SANITIZERS:-address,undefined thread}"
jobs="$(nproc)"

configure() {  # DIR SANITIZERS
  # The Wireshark tools test the dissector, not natter's C++; they are left out here.
  # -O1 -g1: the sanitizer builds are compiled from scratch in CI, and -O1 with line tables
  # compiles far faster than -O2 -g while keeping stack traces readable (ASan's own advice).
  cmake -S "$root" -B "$1" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -DNATTER_SANITIZE="$2" \
    -DNATTER_BUILD_TESTS=ON -DNATTER_BUILD_TOOLS=OFF >/dev/null
}

# Fails (after showing them) if any process wrote a sanitizer report into DIR.
check_reports() {  # DIR WHAT
  if compgen -G "$1/*" >/dev/null; then
    echo "sanitize: $2 reports:" >&2
    for f in "$1"/*; do echo "==== $f" >&2; head -80 "$f" >&2; done
    return 1
  fi
}

status=0
for san in $sanitizers; do
  case "$san" in
    address,undefined)
      dir="$base-asan"
      configure "$dir" address,undefined
      cmake --build "$dir" -j "$jobs"
      reports="$dir/sanitizer-reports"
      rm -rf "$reports" && mkdir -p "$reports"
      echo "sanitize: ctest under ASan+UBSan"
      if ! ASAN_OPTIONS="detect_leaks=1:log_path=$reports/asan" \
           UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:log_path=$reports/ubsan" \
           ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 900; then
        status=1
      fi
      check_reports "$reports" "ASan/UBSan" || status=1
      ;;
    thread)
      dir="$base-tsan"
      configure "$dir" thread
      cmake --build "$dir" -j "$jobs" --target natter-server natter_integration_tests natter_server_tests
      reports="$dir/sanitizer-reports"
      rm -rf "$reports" && mkdir -p "$reports"
      echo "sanitize: integration and server unit tests under TSan"
      if ! TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1:log_path=$reports/tsan" \
           ctest --test-dir "$dir" --output-on-failure -j "$jobs" --timeout 900 -R '^(integration.*|server_unit)$'; then
        status=1
      fi
      check_reports "$reports" "TSan" || status=1
      ;;
    *) echo "sanitize: unknown sanitizer set '$san'" >&2; exit 2 ;;
  esac
done
if [ "$status" -ne 0 ]; then
  echo "sanitize: FAILED" >&2
  exit 1
fi
echo "sanitize: no sanitizer reports, all tests passed"
