#!/usr/bin/env bash
# Format 1 end-to-end key logs (pairwise lines without the direction, written by clients before
# format 2; docs/E2E.md §12) are still read by the dissector: a format 2 log with the directions
# cut out must open every end-to-end text the capture's expectations list.
#
#   check_e2e_keylog_format1.sh --plugin natter.lua --capture PREFIX --work DIR
#
# PREFIX.pcap, PREFIX.keylog, PREFIX.e2ekeylog (format 2) and PREFIX.expect (its "e2etext" lines)
# as make_capture writes them. Exit 0 pass, 1 fail, 2 usage, 77 (CTest skip) without tshark.
set -u
export LC_ALL=C.UTF-8
plugin="" prefix="" work=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --plugin) plugin=$2; shift 2 ;;
    --capture) prefix=$2; shift 2 ;;
    --work) work=$2; shift 2 ;;
    *) echo "check_e2e_keylog_format1: unknown argument $1" >&2; exit 2 ;;
  esac
done
[[ -n "$plugin" && -n "$prefix" && -n "$work" ]] || { echo "usage: $0 --plugin F --capture PREFIX --work DIR" >&2; exit 2; }
command -v tshark >/dev/null 2>&1 || { echo "SKIP: tshark is not installed"; exit 77; }
mkdir -p "$work"

old="$work/format1.e2ekeylog"
sed -E 's/^(NATTER_E2E_KEY pairwise [0-9a-f]{16} [0-9]+) [A-Za-z0-9_.-]+->[A-Za-z0-9_.-]+ /\1 /' \
  "$prefix.e2ekeylog" >"$old"
if grep -q -- '->' "$old" || ! grep -qE '^NATTER_E2E_KEY pairwise [0-9a-f]{16} [0-9]+ [0-9a-f]{64}$' "$old"; then
  echo "FAIL: the rewritten key log is not format 1"
  exit 1
fi
grep -h '^e2etext ' "$prefix.expect" | cut -d' ' -f2- | sort -u >"$work/format1.want"
[[ -s "$work/format1.want" ]] || { echo "FAIL: no e2etext lines in $prefix.expect"; exit 1; }
tshark -n -r "$prefix.pcap" -X "lua_script:$plugin" -o "natter.keylog_file:$prefix.keylog" \
  -o "natter.e2e_keylog_file:$old" -T fields -E occurrence=a -E aggregator=$'\x1e' -e natter.e2e.text \
  2>"$work/format1.stderr" | tr '\036' '\n' | sort -u >"$work/format1.texts"
missing=$(comm -23 "$work/format1.want" "$work/format1.texts")
if [[ -n "$missing" ]]; then
  echo "FAIL: not opened with a format 1 key log:"
  echo "$missing"
  exit 1
fi
if grep -qi "lua" "$work/format1.stderr"; then
  echo "FAIL: tshark reported a Lua problem:"
  cat "$work/format1.stderr"
  exit 1
fi
echo "check_e2e_keylog_format1: PASS ($(grep -c . "$work/format1.want") texts opened with format 1 lines)"
