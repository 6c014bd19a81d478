#!/usr/bin/env bash
# Builds the libFuzzer harnesses of tests/fuzz with clang, AddressSanitizer and UBSan, and runs
# each for SECONDS (default 60). Fails if any harness reports a crash, a leak, a sanitizer error,
# a timeout or running out of memory; the input that did it is kept in BUILD/fuzz-artifacts/.
#
#   scripts/fuzz.sh [SECONDS]            all harnesses, SECONDS each
#   FUZZ_TARGETS="frame" scripts/fuzz.sh 3600    one harness for an hour
#   FUZZ_ARGS="-jobs=4 -workers=4" ...   extra libFuzzer flags (parallel runs, -max_len=..., ...)
#   FUZZ_BUILD_DIR=/tmp/f ...            build directory (default ./build-fuzz)
#
# New interesting inputs accumulate in BUILD/fuzz-corpus/<target>/ and are reused by the next
# run, so repeated runs go deeper; the committed seeds in tests/fuzz/corpus/ are never modified.
# To replay a crash: BUILD/tests/fuzz/<target>_fuzz BUILD/fuzz-artifacts/<target>-crash-...
set -euo pipefail
seconds="${1:-60}"
root="$(cd "$(dirname "$0")/.." && pwd)"
build_dir="${FUZZ_BUILD_DIR:-$root/build-fuzz}"
targets="${FUZZ_TARGETS:-frame handshake message noise session_v2 e2e e2e_engine}"

command -v clang++ >/dev/null || { echo "fuzz: clang++ not found (apt-get install clang libclang-rt-14-dev)" >&2; exit 1; }

# Only the libraries and the harnesses are built: no tests, no Wireshark tools. The libraries get
# coverage instrumentation (fuzzer-no-link) from NATTER_FUZZ; -fno-sanitize-recover turns every
# UBSan report into a crash the fuzzer stops on.
cmake -S "$root" -B "$build_dir" -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DNATTER_FUZZ=ON -DNATTER_BUILD_TESTS=OFF -DNATTER_SANITIZE=address,undefined \
  -DCMAKE_CXX_FLAGS="-fno-sanitize-recover=all" >/dev/null
build_targets=()
for t in $targets; do build_targets+=(--target "${t}_fuzz"); done
cmake --build "$build_dir" -j "$(nproc)" "${build_targets[@]}"

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1"
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1"
failed=()
for t in $targets; do
  work="$build_dir/fuzz-corpus/$t"
  artifacts="$build_dir/fuzz-artifacts"
  mkdir -p "$work" "$artifacts"
  echo "fuzz: $t for ${seconds}s"
  log="$build_dir/fuzz-$t.log"
  # shellcheck disable=SC2086  # FUZZ_ARGS is a list of flags
  if "$build_dir/tests/fuzz/${t}_fuzz" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
       -print_final_stats=1 -artifact_prefix="$artifacts/$t-" ${FUZZ_ARGS:-} \
       "$work" "$root/tests/fuzz/corpus/$t" >"$log" 2>&1; then
    runs="$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)"
    cover="$(grep -o 'cov: [0-9]*' "$log" | tail -1)"
    echo "fuzz: $t ok: ${runs:-?} executions, $cover, corpus $(find "$work" -type f | wc -l) inputs"
  else
    echo "fuzz: $t FAILED; last lines of $log:" >&2
    tail -40 "$log" >&2
    failed+=("$t")
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: failures in: ${failed[*]}" >&2
  exit 1
fi
echo "fuzz: all harnesses ran ${seconds}s without a finding"
