#!/usr/bin/env bash
# Checks what the natter dissector shows for a capture, using tshark. Works on the synthetic
# capture from make_capture and on a live capture of the real server alike:
#
#   check_capture.sh --plugin natter.lua --pcap FILE [--keylog FILE] [--e2e-keylog FILE]
#                    [--expect FILE] [--fingerprint FP]... [--json JSON]... [--secret TEXT]...
#                    [--absent HEX]... [--hidden HEX]... [--count N FILTER]...
#                    [--e2e-text TEXT]... [--e2e-count N FILTER]...
#
#   --fingerprint FP   a hello with this fingerprint must be shown
#   --json JSON        with the key log, this exact plaintext must be decrypted (MAC verified);
#                      without it, it must not appear anywhere
#   --secret TEXT      must never appear, with or without the key log (unlogged or tampered)
#   --absent HEX       these bytes (lowercase hex: a client's static X25519 key or its Ed25519
#                      key) must appear nowhere: not in the capture file, not in tshark's full
#                      output (-V -x: the tree and every hex dump), with or without the key log
#   --hidden HEX       the same, but only without the key log: for a live chat, where a
#                      decrypted message may name a user's key on purpose
#   --count N FILTER   with the key log, exactly N packets match the display filter FILTER
#   --e2e-keylog FILE  the end-to-end key log (NATTER_E2E_KEY lines): a third run with both logs
#   --e2e-text TEXT    an end-to-end text: with both key logs it is a natter.e2e.text value;
#                      with the hop key log only (and with none) it appears nowhere in tshark's
#                      output (-V -x)
#   --e2e-count N FILTER  with both key logs, exactly N packets match FILTER
#   --expect FILE      the same, one per line: "fingerprint FP", "json JSON", "secret TEXT",
#                      "absent HEX", "hidden HEX", "count N FILTER", "e2etext TEXT",
#                      "e2ecount N FILTER" ('#' lines are comments); make_capture writes one
#   --robustness       for damaged captures (make_capture --mutate): only check that the
#                      dissector neither raises a Lua error nor gives up on a frame
#
# Always checked: no Lua error, and every TCP segment with payload is labelled natter (or is
# part of a frame reassembled in a later packet). With a key log: every frame opened (MAC and
# padding good) is one of the --json texts, and a key log path that does not exist is reported
# as "key log not found: PATH", never as a connection without a key. Exit 0 pass, 1 fail, 2 usage, 77 (the CTest
# skip code) when tshark is not installed.
set -u

plugin="" pcap="" keylog="" e2e_keylog="" robustness=0
fingerprints=() jsons=() secrets=() absents=() hiddens=() counts=() e2e_texts=() e2e_counts=()

read_expect_file() {
  local line kind rest
  while IFS= read -r line || [[ -n "$line" ]]; do
    [[ -z "$line" || "$line" == \#* ]] && continue
    kind=${line%% *}
    rest=${line#* }
    case "$kind" in
      fingerprint) fingerprints+=("$rest") ;;
      json) jsons+=("$rest") ;;
      secret) secrets+=("$rest") ;;
      absent) absents+=("$rest") ;;
      hidden) hiddens+=("$rest") ;;
      count) counts+=("$rest") ;;
      e2etext) e2e_texts+=("$rest") ;;
      e2ecount) e2e_counts+=("$rest") ;;
      *) echo "check_capture: unknown line in $1: $line" >&2; exit 2 ;;
    esac
  done <"$1"
}

while [[ $# -gt 0 ]]; do
  case "$1" in
    --plugin) plugin=$2; shift 2 ;;
    --pcap) pcap=$2; shift 2 ;;
    --keylog) keylog=$2; shift 2 ;;
    --e2e-keylog) e2e_keylog=$2; shift 2 ;;
    --e2e-text) e2e_texts+=("$2"); shift 2 ;;
    --e2e-count) e2e_counts+=("$2 $3"); shift 3 ;;
    --expect) read_expect_file "$2"; shift 2 ;;
    --fingerprint) fingerprints+=("$2"); shift 2 ;;
    --json) jsons+=("$2"); shift 2 ;;
    --secret) secrets+=("$2"); shift 2 ;;
    --absent) absents+=("$2"); shift 2 ;;
    --hidden) hiddens+=("$2"); shift 2 ;;
    --count) counts+=("$2 $3"); shift 3 ;;
    --robustness) robustness=1; shift ;;
    *) echo "check_capture: unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
if [[ -z "$plugin" || -z "$pcap" ]]; then
  echo "usage: $0 --plugin natter.lua --pcap FILE [--keylog FILE] [--expect FILE] ..." >&2
  exit 2
fi
if ! command -v tshark >/dev/null 2>&1; then
  echo "SKIP: tshark is not installed (Debian package: tshark)"
  exit 77
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# A private HOME keeps the user's own preferences and personal plugins (perhaps an installed
# natter.lua, which would register the protocol twice) out of the test.
mkdir -p "$work/home"
export HOME="$work/home" XDG_CONFIG_HOME="$work/home/.config"

passed=0 failed=0
pass() { passed=$((passed + 1)); }
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }

# ts KEYLOG ARGS...: tshark with the plugin, two passes (so frames cut off by the end of the
# capture are reported), the key log preference set to KEYLOG (may be empty), the end-to-end
# key log to $E2E (empty unless set for the call).
ts() {
  local log=$1
  shift
  tshark -n -2 -r "$pcap" -X "lua_script:$plugin" -o "natter.keylog_file:$log" \
    -o "natter.e2e_keylog_file:${E2E:-}" "$@" 2>>"$work/stderr"
}

count_packets() {  # count_packets KEYLOG FILTER
  ts "$1" -Y "$2" -T fields -e frame.number | grep -c .
}

# Lua errors, errors the dissector caught itself, and fields added without a value.
no_lua_errors() {  # no_lua_errors FILE WHAT
  if grep -qi -e "lua error" -e "natter dissector error" -e "<MISSING>" "$1" "$work/stderr"; then
    fail "$2: Lua errors:"
    grep -i -e "lua error" -e "natter dissector error" -e "<MISSING>" "$1" "$work/stderr" | head -5
  else
    pass
  fi
}

if [[ $robustness -eq 1 ]]; then
  E2E=$e2e_keylog ts "$keylog" -V >"$work/robust.txt"
  no_lua_errors "$work/robust.txt" "$(basename "$pcap")"
  if grep -q "^natter encrypted chat" "$work/robust.txt"; then pass; else
    fail "$(basename "$pcap"): nothing labelled natter"
  fi
  echo "check_capture: $passed passed, $failed failed"
  [[ $failed -eq 0 ]]
  exit
fi

# absent_from FILE WHAT HEX...: none of the byte strings in a tshark -V -x output. The tree
# shows bytes as contiguous hex (or with colons); a hex dump line holds up to 16 of them after
# its offset, so the dump is joined back into one hex string per run.
absent_from() {
  local file=$1 what=$2 hex colons
  shift 2
  awk '/^[0-9a-f][0-9a-f][0-9a-f][0-9a-f]+  /{ for (i = 2; i <= 17; i++) if ($i ~ /^[0-9a-f][0-9a-f]$/) printf "%s", $i; else break }
       !/^[0-9a-f][0-9a-f][0-9a-f][0-9a-f]+  /{ print "" }' "$file" >"$work/dump-hex.txt"
  for hex in "$@"; do
    colons=$(sed 's/../&:/g; s/:$//' <<<"$hex")
    if grep -qiF -e "$hex" -e "$colons" "$file" "$work/dump-hex.txt"; then
      fail "$what: the bytes $hex appear in tshark's output"
    else
      pass
    fi
  done
}

if [[ $((${#absents[@]} + ${#hiddens[@]})) -gt 0 ]]; then
  od -An -tx1 -v "$pcap" | tr -d ' \n' >"$work/pcap-hex.txt"
  for hex in "${absents[@]}" "${hiddens[@]}"; do
    if grep -qiF -- "$hex" "$work/pcap-hex.txt"; then fail "the bytes $hex are in the capture file"; else pass; fi
  done
fi

# ------------------------------------------------------------------------- without the key log
ts "" -V -x >"$work/plain.txt"
absent_from "$work/plain.txt" "without key log" "${absents[@]}" "${hiddens[@]}"
no_lua_errors "$work/plain.txt" "without key log"
if ! grep -q "^natter encrypted chat" "$work/plain.txt"; then
  fail "the dissector labelled nothing (is $plugin loaded?)"
fi

unlabelled=$(ts "" -Y 'tcp.len > 0 && !natter && !tcp.reassembled_in' -T fields -e frame.number |
  tr '\n' ' ')
if [[ -n "$unlabelled" ]]; then fail "TCP payload not labelled natter in frames: $unlabelled"; else pass; fi

for fp in "${fingerprints[@]}"; do
  if grep -qF "Fingerprint: $fp" "$work/plain.txt"; then pass; else fail "fingerprint $fp not shown"; fi
done

if grep -q "Plaintext:" "$work/plain.txt"; then fail "plaintext shown without a key log"; else pass; fi
for text in "${jsons[@]}" "${secrets[@]}" "${e2e_texts[@]}"; do
  if grep -qF -- "$text" "$work/plain.txt"; then
    fail "without the key log, plaintext appears: ${text:0:80}"
  else
    pass
  fi
done

# ---------------------------------------------------------------------------- with the key log
if [[ -n "$keylog" ]]; then
  ts "$keylog" -V -x >"$work/keys.txt"
  no_lua_errors "$work/keys.txt" "with key log"
  absent_from "$work/keys.txt" "with key log" "${absents[@]}"
  # Field output holds each plaintext in full (-V cuts long labels); the frames of one packet
  # are joined by an ASCII record separator, turned into one plaintext per line.
  ts "$keylog" -T fields -E occurrence=a -E aggregator=$'\x1e' -e natter.session.plaintext |
    tr '\036' '\n' >"$work/plaintexts.txt"
  for text in "${jsons[@]}"; do
    if grep -qxF -- "$text" "$work/plaintexts.txt"; then pass; else fail "not decrypted: ${text:0:80}"; fi
  done
  # One pass (plain `tshark -r`) must decrypt too, not only the two-pass run.
  tshark -n -r "$pcap" -X "lua_script:$plugin" -o "natter.keylog_file:$keylog" \
    -T fields -E occurrence=a -E aggregator=$'\x1e' -e natter.session.plaintext \
    2>>"$work/stderr" | tr '\036' '\n' >"$work/plaintexts1.txt"
  if cmp -s "$work/plaintexts.txt" "$work/plaintexts1.txt"; then pass; else
    fail "one-pass and two-pass dissection decrypt differently"
  fi

  # Opened = MAC verified and padding good: exactly the expected texts, no more.
  verified=$(ts "$keylog" -T fields -E occurrence=a -E aggregator=$'\x1e' -e natter.session.plaintext_length |
    tr '\036' '\n' | grep -c .)
  if [[ "$verified" -eq "${#jsons[@]}" ]]; then pass; else
    fail "$verified frames opened (MAC and padding good), expected ${#jsons[@]}"
  fi

  # A key log path that does not exist is named as such.
  missing="$work/no-such-dir/keylog"
  ts "$missing" -V >"$work/missing.txt"
  if grep -qF "key log not found: $missing" "$work/missing.txt" &&
    ! grep -q "No key for connection" "$work/missing.txt"; then pass; else
    fail "a missing key log is not reported as \"key log not found: $missing\""
  fi

  for text in "${secrets[@]}"; do
    if grep -qF -- "$text" "$work/keys.txt" "$work/plaintexts.txt"; then
      fail "secret appears with the key log: $text"
    else
      pass
    fi
  done
  # The hop key log opens the frames, not the end-to-end bodies inside them.
  for text in "${e2e_texts[@]}"; do
    if grep -qF -- "$text" "$work/keys.txt" "$work/plaintexts.txt"; then
      fail "with only the hop key log, an end-to-end text appears: $text"
    else
      pass
    fi
  done

  if [[ ${#jsons[@]} -gt 0 ]]; then
    n=$(count_packets "$keylog" json)
    if [[ "$n" -gt 0 ]]; then pass; else fail "the JSON dissector was not given the plaintext"; fi
  fi
fi

for spec in "${counts[@]}"; do
  want=${spec%% *}
  filter=${spec#* }
  got=$(count_packets "$keylog" "$filter")
  if [[ "$got" -eq "$want" ]]; then pass; else fail "$got packets match '$filter', expected $want"; fi
done

# ------------------------------------------------------------- with both key logs (end-to-end)
if [[ -n "$e2e_keylog" ]]; then
  if [[ -z "$keylog" ]]; then echo "check_capture: --e2e-keylog needs --keylog" >&2; exit 2; fi
  E2E=$e2e_keylog ts "$keylog" -V -x >"$work/e2e.txt"
  no_lua_errors "$work/e2e.txt" "with both key logs"
  absent_from "$work/e2e.txt" "with both key logs" "${absents[@]}"
  E2E=$e2e_keylog ts "$keylog" -T fields -E occurrence=a -E aggregator=$'\x1e' -e natter.e2e.text |
    tr '\036' '\n' >"$work/e2e-texts.txt"
  for text in "${e2e_texts[@]}"; do
    if grep -qxF -- "$text" "$work/e2e-texts.txt"; then pass; else fail "end-to-end text not shown: $text"; fi
  done
  for text in "${secrets[@]}"; do
    if grep -qF -- "$text" "$work/e2e.txt" "$work/e2e-texts.txt"; then
      fail "secret appears with both key logs: $text"
    else
      pass
    fi
  done
  for spec in "${e2e_counts[@]}"; do
    want=${spec%% *}
    filter=${spec#* }
    got=$(E2E=$e2e_keylog count_packets "$keylog" "$filter")
    if [[ "$got" -eq "$want" ]]; then pass; else
      fail "with both key logs, $got packets match '$filter', expected $want"
    fi
  done
  # A missing end-to-end key log is named as such.
  missing="$work/no-such-dir/e2e-keylog"
  E2E=$missing ts "$keylog" -V >"$work/e2e-missing.txt"
  if [[ ${#e2e_texts[@]} -eq 0 ]] || grep -qF "key log not found: $missing" "$work/e2e-missing.txt"; then pass; else
    fail "a missing end-to-end key log is not reported as \"key log not found: $missing\""
  fi
fi

echo "check_capture: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
