#!/usr/bin/env bash
# Lints every shell script of the project with shellcheck (all severities): scripts/, .ci/run,
# and the scripts of tests/, tools/ and bench/. Run by ctest as the test "shellcheck".
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
cd "$root"
command -v shellcheck >/dev/null ||
  { echo "shellcheck not found: scripts/install-deps.sh --test installs it" >&2; exit 1; }
mapfile -t files < <(find scripts tests tools bench -name '*.sh' -type f | sort)
files+=(.ci/run)
[ "${#files[@]}" -ge 10 ] || { echo "shellcheck: found only ${#files[@]} scripts; is this the tree?" >&2; exit 1; }
shellcheck --external-sources "${files[@]}"
echo "shellcheck: ${#files[@]} scripts clean"
