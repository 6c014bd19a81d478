#!/usr/bin/env bash
# Live Wireshark test: a real natter-server and real natter clients on 127.0.0.1, all speaking
# protocol 2, captured with tshark, then dissected with natter.lua through check_capture.sh.
#
#   live_capture_test.sh --server natter-server --client natter --poke natter_wire_poke
#                        --plugin natter.lua --checker check_capture.sh [--out DIR]
#                        [--identity-keys natter_identity_keys]
#
# The chat: bob and carol stay online (--stay), alice pipes a broadcast, a whisper and a UTF-8
# line, then natter_wire_poke (a real v2 client with awkward writes) sends message 3 cut across
# two segments, a frame cut into 1-byte segments, several frames in one segment, a frame cut
# across two segments, and finally a frame with a flipped MAC byte, after which the server closes
# its connection. Every client and the server write the v2 key log (NATTER_V2_SESSION lines);
# every client runs with --trace.
#
# Asserted: both key logs hold the same lines; through check_capture.sh every TCP payload is
# labelled natter, each connection's four handshake messages are labelled, the server's
# fingerprint is shown, no client's static X25519 key appears anywhere, with or without the key
# log, and no client's Ed25519 key appears in the capture or in its dissection without the key
# log (message 3 carries both encrypted; a decrypted presence message may name an Ed25519 key on
# purpose); bob's, carol's and alice's keys are read from their identity files with
# --identity-keys (without it only poke's, which it prints, are checked); no message text is visible without the key log, with it
# every frame the clients traced is decrypted with a good MAC and padding (exactly those, no
# more), no counter gap is flagged, the split and coalesced frames are where they were written,
# the tampered frame is flagged and its text never shown; and for each connection the --trace
# lines (frame number, length, counter, ciphertext size) equal the dissector's fields frame by
# frame.
#
# End-to-end bodies: alice alone runs with --e2e-keylog. Her key log is format 2 (a pairwise line
# names its direction) and 0600; with the server's hop key log and hers, the dissector shows her
# whisper's text in her request and bob's delivery, her room text in her request and both
# deliveries (natter.e2e.text), every body of the capture opens, none fails its AEAD; with the
# hop key log alone the same packets show the envelope (kind, from, to, body size) and the texts
# appear nowhere (-V -x); and with her key log less the whisper's line, the dissector says "no
# e2e key for pairwise ID #N alice->bob" for bob's delivery ("->bob" for alice's own request).
#
# Exit 0 pass, 1 fail, 2 usage, 77 (CTest skip) when tshark is missing or may not capture
# (not root and no capture permission). Everything is bounded by `timeout`; the trap stops
# whatever this script started. Artifacts stay in --out DIR (default: a temporary directory,
# removed at the end).
set -u
export LC_ALL=C.UTF-8

server="" client="" poke="" plugin="" checker="" out="" identity_keys=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --server) server=$2; shift 2 ;;
    --client) client=$2; shift 2 ;;
    --poke) poke=$2; shift 2 ;;
    --plugin) plugin=$2; shift 2 ;;
    --checker) checker=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --identity-keys) identity_keys=$2; shift 2 ;;
    *) echo "live_capture_test: unknown argument $1 (see the header of $0)" >&2; exit 2 ;;
  esac
done
if [[ -z "$server" || -z "$client" || -z "$poke" || -z "$plugin" || -z "$checker" ]]; then
  echo "usage: $0 --server BIN --client BIN --poke BIN --plugin natter.lua --checker check_capture.sh [--out DIR]" >&2
  exit 2
fi
if ! command -v tshark >/dev/null 2>&1; then
  echo "SKIP: tshark is not installed (Debian package: tshark)"
  exit 77
fi

started=$EPOCHREALTIME
if [[ -n "$out" ]]; then
  rm -rf "$out"
  mkdir -p "$out"
  d=$(cd "$out" && pwd)
  keep=1
else
  d=$(mktemp -d)
  keep=0
fi
pids=()
cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  [[ $keep -eq 1 ]] || rm -rf "$d"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# A private HOME: no personal Wireshark plugins or preferences, no natter identities of the user.
mkdir -p "$d/home"
export HOME="$d/home" XDG_CONFIG_HOME="$d/home/.config"
unset NATTER_KEYLOGFILE

failed=0
fail() { failed=$((failed + 1)); echo "FAIL: $*"; }
die() { echo "FAIL: $*"; exit 1; }
step() { printf '[%5.1fs] %s\n' "$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')" "$*"; }

# wait_for FILE PATTERN SECONDS: until grep -q PATTERN FILE (extended regex), or fail.
wait_for() {
  local i
  for ((i = 0; i < $3 * 20; i++)); do
    grep -qE -- "$2" "$1" 2>/dev/null && return 0
    sleep 0.05
  done
  return 1
}
alive() { kill -0 "$1" 2>/dev/null; }

# ---------------------------------------------------------------------------------- server
timeout 60 "$server" --listen 127.0.0.1 --port 0 --port-file "$d/port" --state-dir "$d/server-state" \
  --keylog "$d/server.keylog" --no-console </dev/null >"$d/server.log" 2>&1 &
server_pid=$!
pids+=("$server_pid")
wait_for "$d/port" '^[0-9]+' 5 || die "the server did not start: $(cat "$d/server.log")"
port=$(tr -dc 0-9 <"$d/port")
wait_for "$d/server.log" 'server key fingerprint: ' 5 || die "no server fingerprint in the log"
server_fp=$(sed -n 's/.*server key fingerprint: \([0-9a-f:-]*\).*/\1/p' "$d/server.log" | head -1)
step "server on 127.0.0.1:$port, fingerprint $server_fp"

# ---------------------------------------------------------------------------------- tshark
timeout 60 tshark -n -i lo -f "tcp port $port" -w "$d/capture.pcapng" </dev/null \
  >"$d/tshark.out" 2>"$d/tshark.err" &
tshark_pid=$!
pids+=("$tshark_pid")
for ((i = 0; i < 200; i++)); do
  grep -q "Capturing on" "$d/tshark.err" 2>/dev/null && break
  alive "$tshark_pid" || break
  sleep 0.05
done
# tshark prints "Capturing on" before dumpcap has opened the device: a refusal comes just after.
sleep 0.3
if ! grep -q "Capturing on" "$d/tshark.err" 2>/dev/null || ! alive "$tshark_pid" ||
  grep -qiE "permission|not permitted|privilege" "$d/tshark.err"; then
  if [[ $EUID -ne 0 ]] && grep -qiE "permission|not permitted|privilege" "$d/tshark.err"; then
    echo "SKIP: may not capture on lo (not root, no capture permission):"
    cat "$d/tshark.err"
    exit 77
  fi
  die "tshark did not start capturing: $(cat "$d/tshark.err")"
fi
step "tshark capturing (tcp port $port)"

# ---------------------------------------------------------------------------------- clients
# run_client NAME ARGS...: a natter client with its own identity, the key log and --trace.
run_client() {
  local name=$1
  shift
  mkdir -p "$d/$name"
  XDG_CONFIG_HOME="$d/$name" NATTER_KEYLOGFILE="$d/clients.keylog" \
    timeout 30 "$client" --name "$name" --accept-new --trace "$@" "127.0.0.1:$port"
}
for who in bob carol; do
  run_client "$who" --stay </dev/null >"$d/$who.out" 2>"$d/$who.err" &
  pids+=("$!")
  eval "${who}_pid=$!"
  wait_for "$d/$who.out" "joined as $who" 5 || die "$who did not join: $(cat "$d/$who.err")"
done
step "bob and carol online"

alice_lines=("hello everyone, from alice" "/w bob a whisper from alice to bob"
  "h$(printf '\xc3\xa9')llo $(printf '\xe2\x98\x83') utf-8 from alice")
# alice alone writes the end-to-end key log: bob's and carol's copies of her bodies open with it
# too, and so do the sender keys they hand her (she opens those).
printf '%s\n' "${alice_lines[@]}" | run_client alice --e2e-keylog "$d/alice.e2ekeylog" >"$d/alice.out" 2>"$d/alice.err"
rc=$?
[[ $rc -eq 0 ]] || fail "alice exited with $rc: $(tail -3 "$d/alice.err")"
step "alice sent ${#alice_lines[@]} lines"

secret="poke-tampered-$RANDOM$RANDOM never readable"
timeout 20 "$poke" --port "$port" --name poke --to carol --keylog "$d/clients.keylog" \
  --secret "$secret" >"$d/poke.out" 2>"$d/poke.err"
rc=$?
[[ $rc -eq 0 ]] || fail "natter_wire_poke exited with $rc: $(cat "$d/poke.err")"
step "natter_wire_poke: split, coalesced and tampered frames sent; the server closed it"
grep -q "^closed-by-server" "$d/poke.out" || fail "natter_wire_poke did not see the server close"

wait_for "$d/carol.out" "poke left" 5 || fail "carol did not see poke leave"
wait_for "$d/bob.out" "a whisper from alice" 5 || fail "bob did not get alice's whisper"
grep -q "poke: a whisper for carol" "$d/carol.out" || fail "carol did not get poke's whisper"
grep -q "closing poke.*bad MAC" "$d/server.log" || fail "the server did not log the tampered frame"

# Stop the server: it says bye to bob and carol, who (--stay) wait to reconnect; SIGTERM then
# ends them at once, as it would a logger's service manager.
kill -TERM "$server_pid"
wait "$server_pid" 2>/dev/null
for who in bob carol; do
  pid_var=${who}_pid
  wait_for "$d/$who.out" "reconnecting" 5 || wait_for "$d/$who.err" "reconnecting" 1 ||
    fail "$who did not say it is reconnecting after the server stopped"
  kill -TERM "${!pid_var}" 2>/dev/null
  for ((i = 0; i < 100; i++)); do alive "${!pid_var}" || break; sleep 0.05; done
  alive "${!pid_var}" && fail "$who did not exit on SIGTERM while waiting to reconnect"
done
sleep 0.3  # the last FIN/ACK segments
kill -TERM "$tshark_pid" 2>/dev/null
wait "$tshark_pid" 2>/dev/null
step "server, clients and tshark stopped"

[[ -s "$d/capture.pcapng" ]] || die "no capture written: $(cat "$d/tshark.err")"
packets=$(tshark -n -r "$d/capture.pcapng" 2>/dev/null | grep -c .)
[[ "$packets" -gt 20 ]] || die "only $packets packets captured"

# ---------------------------------------------------------------------------------- key logs
sort "$d/server.keylog" >"$d/server.keylog.sorted"
sort "$d/clients.keylog" >"$d/clients.keylog.sorted"
lines=$(grep -c '^NATTER_V2_SESSION [0-9a-f]\{64\} [0-9a-f]\{64\} [0-9a-f]\{64\}$' "$d/server.keylog")
[[ "$lines" -eq 4 ]] || fail "the server key log has $lines NATTER_V2_SESSION lines, expected 4 (bob, carol, alice, poke)"
grep -q NATTER_SESSION_KEY "$d/server.keylog" "$d/clients.keylog" && fail "a protocol 1 key log line was written"
# Each line is named by its connection id, the client's ephemeral key: poke's is the one it printed.
poke_conn=$(sed -n 's/^connection-id //p' "$d/poke.out")
grep -q "^NATTER_V2_SESSION $poke_conn " "$d/server.keylog" || fail "poke's connection id is not in the server key log"
cmp -s "$d/server.keylog.sorted" "$d/clients.keylog.sorted" ||
  fail "the clients' key log differs from the server's"

# ---------------------------------------------------------------------------------- expectations
# Only the server's key travels in clear (its hello); a client's identity is in message 3,
# encrypted, so no client fingerprint can be shown.
fps=("$server_fp")
poke_port=$(sed -n 's/^local-port //p' "$d/poke.out")
# Every client's keys: the X25519 static must appear nowhere; the Ed25519 key not without the
# key log (with it, the server's presence messages name users by it).
statics=("$(sed -n 's/^client-static //p' "$d/poke.out")")
identities=("$(sed -n 's/^client-ed25519 //p' "$d/poke.out")")
[[ -n "${statics[0]}" && -n "${identities[0]}" ]] || fail "natter_wire_poke printed no client keys"
if [[ -n "$identity_keys" ]]; then
  for who in bob carol alice; do
    if ! "$identity_keys" "$d/$who/natter/identity" >"$d/$who.keys" 2>&1; then
      fail "no keys from $who's identity file: $(cat "$d/$who.keys")"
      continue
    fi
    statics+=("$(sed -n 's/^x25519 //p' "$d/$who.keys")")
    identities+=("$(sed -n 's/^ed25519 //p' "$d/$who.keys")")
  done
fi

# Every session frame a client traced, sent or received, with its decrypted JSON. Each frame on
# the wire is between one client and the server, so this is every frame of the capture (the
# tampered one is traced without JSON).
# Handshake frames are traced with a label of their own (poke: "server hello", "client hello +
# message 1", "message 2", "message 3"); only their number and length are compared.
trace_re='^\[trace\] (-> sent|<- recv) frame ([0-9]+) len=([0-9]+) (Session (C→S|S→C) #([0-9]+) ciphertext=([0-9]+)( (.*))?|[a-zA-Z].*)$'
cat "$d/bob.err" "$d/carol.err" "$d/alice.err" "$d/poke.out" | grep -E "$trace_re" |
  sed -nE 's/^\[trace\] .* Session .* ciphertext=[0-9]+ ([[{].*)$/\1/p' >"$d/expected-json.txt"
{
  echo "# generated by live_capture_test.sh"
  for fp in "${fps[@]}"; do echo "fingerprint $fp"; done
  while IFS= read -r json; do echo "json $json"; done <"$d/expected-json.txt"
  echo "secret $secret"
  # alice's end-to-end texts: shown with both key logs, nowhere without the end-to-end one.
  echo "e2etext ${alice_lines[0]}"
  echo "e2etext ${alice_lines[1]#/w bob }"
  echo "e2etext ${alice_lines[2]}"
  echo "e2ecount 0 natter.e2e.auth_failed"
  echo "e2ecount 0 natter.e2e.sender_mismatch"
  echo "e2ecount 0 natter.e2e.keylog_missing"
  for key in "${statics[@]}"; do [[ -n "$key" ]] && echo "absent $key"; done
  for key in "${identities[@]}"; do [[ -n "$key" ]] && echo "hidden $key"; done
  echo "count 1 natter.mac_failed"
  echo "count 0 natter.internal"
  echo "count 0 natter.no_key"
  echo "count 0 natter.keylog_missing"
  echo "count 0 natter.gap"
  echo "count 0 natter.replay"
  echo "count 0 natter.bad_padding"
  echo "count 0 natter.unsupported"
  echo "count 0 natter.refused"
  echo "count 4 natter.kind == \"server hello\""
  echo "count 4 natter.kind == \"client hello + message 1\""
  echo "count 4 natter.kind == \"message 2\""
  echo "count 4 natter.kind == \"message 3\""
  # Message 3 cut across two writes: reassembled.
  echo "count 1 tcp.srcport == $poke_port && natter.kind == \"message 3\" && tcp.segments"
  # The join cut into 1-byte writes: six 1-byte segments reassembled in the seventh.
  echo "count 6 tcp.srcport == $poke_port && tcp.len == 1 && tcp.reassembled_in"
  echo "count 1 tcp.srcport == $poke_port && natter.session.counter == 1 && tcp.len > 1 && tcp.segments"
  # Coalesced: say #2 + whisper #3 (+ the start of #4); the end of #4 + ping #5.
  echo "count 1 tcp.srcport == $poke_port && natter.session.counter == 2 && natter.session.counter == 3"
  echo "count 1 tcp.srcport == $poke_port && natter.session.counter == 4 && natter.session.counter == 5 && tcp.segments"
  echo "count 1 tcp.srcport == $poke_port && natter.session.counter == 6 && natter.mac_failed"
} >"$d/live.expect"
step "$(grep -c '^json' "$d/live.expect") traced frames to find decrypted, ${#fps[@]} fingerprint, $(grep -c -e '^hidden' -e '^absent' "$d/live.expect") client keys to find nowhere"

# ---------------------------------------------------------------------------------- the checker
bash "$checker" --plugin "$plugin" --pcap "$d/capture.pcapng" --keylog "$d/server.keylog" \
  --e2e-keylog "$d/alice.e2ekeylog" --expect "$d/live.expect" >"$d/check.txt" 2>&1
rc=$?
cat "$d/check.txt"
[[ $rc -eq 0 ]] || fail "check_capture.sh failed ($rc)"
step "check_capture.sh done"

# The clients' key log decrypts exactly the same frames as the server's.
plaintexts() {
  tshark -n -r "$d/capture.pcapng" -X "lua_script:$plugin" -o "natter.keylog_file:$1" \
    -T fields -E occurrence=a -E aggregator=$'\x1e' -e natter.session.plaintext 2>/dev/null |
    tr '\036' '\n'
}
plaintexts "$d/server.keylog" >"$d/plaintexts-server-keylog.txt"
plaintexts "$d/clients.keylog" >"$d/plaintexts-clients-keylog.txt"
if ! cmp -s "$d/plaintexts-server-keylog.txt" "$d/plaintexts-clients-keylog.txt"; then
  fail "the clients' key log and the server's decrypt differently"
fi

# ---------------------------------------------------------------------------------- end-to-end bodies
# The end-to-end key log alice wrote: format 2 (a pairwise line names its direction), 0600.
e2elog="$d/alice.e2ekeylog"
[[ "$(stat -c %a "$e2elog" 2>/dev/null)" == 600 ]] || fail "alice's end-to-end key log is not mode 600"
pairwise_re='^NATTER_E2E_KEY pairwise [0-9a-f]{16} [0-9]+ [A-Za-z0-9_.-]+->[A-Za-z0-9_.-]+ [0-9a-f]{64}$'
room_re='^NATTER_E2E_KEY room [0-9a-f]{16} [0-9]+ [0-9a-f]{64}$'
bad_lines=$(grep -cvE -e "$pairwise_re" -e "$room_re" "$e2elog")
[[ "$bad_lines" -eq 0 ]] || fail "$bad_lines lines of alice's end-to-end key log are not format 2"
grep -qE '^NATTER_E2E_KEY pairwise [0-9a-f]{16} [0-9]+ alice->bob ' "$e2elog" || fail "no alice->bob line in the e2e key log"
grep -qE '^NATTER_E2E_KEY room ' "$e2elog" || fail "no room line in the e2e key log"

# e2e_fields E2E_KEYLOG FILTER FIELD...: the fields of the natter packets matching FILTER, read
# with the server's hop key log and the given end-to-end key log ("" for none).
e2e_fields() {
  local log=$1 filter=$2
  shift 2
  local args=()
  for field in "$@"; do args+=(-e "$field"); done
  tshark -n -r "$d/capture.pcapng" -X "lua_script:$plugin" -o "natter.keylog_file:$d/server.keylog" \
    -o "natter.e2e_keylog_file:$log" -Y "$filter" -T fields -E occurrence=a -E separator=' ' "${args[@]}" 2>/dev/null
}
count_e2e() { e2e_fields "$1" "$2" frame.number | grep -c .; }
whisper_text=${alice_lines[1]#/w bob }
room_text=${alice_lines[0]}

# With both key logs the dissector's layer-2 fields hold the texts: the whisper in alice's request
# and in bob's delivery, the room text in alice's request and in bob's and carol's deliveries.
got=$(count_e2e "$e2elog" "natter.e2e.kind == \"whisper\" && natter.e2e.text == \"$whisper_text\"")
[[ "$got" -eq 2 ]] || fail "the whisper's text is shown in $got packets with both key logs, expected 2"
got=$(count_e2e "$e2elog" "natter.e2e.kind == \"room\" && natter.e2e.text == \"$room_text\"")
[[ "$got" -eq 3 ]] || fail "the room text is shown in $got packets with both key logs, expected 3"
got=$(count_e2e "$e2elog" "natter.e2e.direction == \"alice->bob\" && natter.e2e.text == \"$whisper_text\"")
[[ "$got" -eq 2 ]] || fail "the whisper is shown as alice->bob in $got packets, expected 2"
# Every body in the capture was sealed or opened by alice: each one opens, none is "no key".
got=$(count_e2e "$e2elog" "natter.e2e.no_key")
[[ "$got" -eq 0 ]] || fail "$got packets have an end-to-end body without a key line, expected none"

# Without the end-to-end key log: the envelope (kind, sender, recipient, size), never the text.
got=$(count_e2e "" "natter.e2e.kind == \"whisper\" && natter.e2e.from == \"alice\" && natter.e2e.to == \"bob\" && natter.e2e.body_size > 0")
[[ "$got" -eq 1 ]] || fail "bob's delivery of the whisper shows no envelope from alice to bob without the e2e key log ($got)"
got=$(count_e2e "" "natter.e2e.kind == \"whisper\" && !natter.e2e.from && natter.e2e.to == \"bob\" && natter.e2e.body_size > 0")
[[ "$got" -eq 1 ]] || fail "alice's whisper request shows no envelope to bob without the e2e key log ($got)"
got=$(count_e2e "" "natter.e2e.kind == \"room\" && natter.e2e.from == \"alice\" && natter.e2e.body_size > 0")
[[ "$got" -ge 2 ]] || fail "the room deliveries show no envelope from alice without the e2e key log ($got)"
got=$(count_e2e "" "natter.e2e.text")
[[ "$got" -eq 0 ]] || fail "$got packets show an end-to-end text without the e2e key log"
tshark -n -r "$d/capture.pcapng" -X "lua_script:$plugin" -o "natter.keylog_file:$d/server.keylog" -V -x \
  >"$d/without-e2e-keylog.txt" 2>&1
for text in "$whisper_text" "$room_text"; do
  grep -qF -- "$text" "$d/without-e2e-keylog.txt" && fail "\"$text\" is visible without the e2e key log"
done

# A key log without the whisper's line: the dissector names exactly the line it lacks.
# Its session id and n, from the tree (a frame may hold several e2e messages, so not from -T fields).
read -r wid wn < <(tshark -n -r "$d/capture.pcapng" -X "lua_script:$plugin" -o "natter.keylog_file:$d/server.keylog" \
  -o "natter.e2e_keylog_file:$e2elog" -Y "natter.e2e.text == \"$whisper_text\"" -V 2>/dev/null | awk '
  /End-to-end message: e2e whisper / { inside = 1; id = ""; next }
  /End-to-end message: / { inside = 0 }
  inside && /Session id: / { id = $NF }
  inside && /Message number n/ && id != "" { print id, $NF; exit }')
wid=${wid//:/}
grep -vE "^NATTER_E2E_KEY pairwise $wid $wn alice->bob " "$e2elog" >"$d/without-whisper.e2ekeylog"
if [[ ${#wid} -ne 16 || -z "$wn" ]] || cmp -s "$e2elog" "$d/without-whisper.e2ekeylog"; then
  fail "the whisper's session id and n ($wid #$wn) do not name a line of the e2e key log"
else
  got=$(count_e2e "$d/without-whisper.e2ekeylog" "_ws.expert.message contains \"no e2e key for pairwise $wid #$wn alice->bob\"")
  [[ "$got" -eq 1 ]] || fail "bob's delivery does not say \"no e2e key for pairwise $wid #$wn alice->bob\" ($got)"
  got=$(count_e2e "$d/without-whisper.e2ekeylog" "_ws.expert.message contains \"no e2e key for pairwise $wid #$wn ->bob\"")
  [[ "$got" -eq 1 ]] || fail "alice's request does not say \"no e2e key for pairwise $wid #$wn ->bob\" ($got)"
fi
step "end-to-end bodies: opened with alice's e2e key log, envelopes only without it"

# ---------------------------------------------------------------------------------- trace vs tshark
# Every natter frame of the capture as "stream direction frame-number length counter ciphertext"
# (- for handshake frames), from the dissector's tree; then the same from each client's trace.
tshark -n -2 -r "$d/capture.pcapng" -X "lua_script:$plugin" -o "natter.keylog_file:$d/server.keylog" \
  -Y natter -V 2>/dev/null | awk '
  function flush() { if (inpdu) print stream, dir, idx, len, ctr, ct; inpdu = 0 }
  /^[^ ]/ { flush() }
  /^Transmission Control Protocol/ { intcp = 1; next }
  intcp && /^    \[Stream index: / { stream = $3; sub(/\]/, "", stream) }
  /^natter encrypted chat/ { flush(); inpdu = 1; intcp = 0; dir = idx = len = "?"; ctr = ct = "-"; next }
  inpdu && /^    \[Direction: client/ { dir = "C→S" }
  inpdu && /^    \[Direction: server/ { dir = "S→C" }
  inpdu && /^    \[Frame number in this direction: / { idx = $NF; sub(/\]/, "", idx) }
  inpdu && /^    Length: / { len = $2 }
  inpdu && /^        Counter: / { ctr = $2 }
  inpdu && /^    \[Ciphertext length: / { ct = $NF; sub(/\]/, "", ct) }
  END { flush() }' >"$d/tshark-frames.txt"
tshark -n -r "$d/capture.pcapng" -X "lua_script:$plugin" -Y natter.connection_id \
  -T fields -e tcp.stream -e natter.connection_id -E occurrence=f 2>/dev/null |
  tr -d ':' | sort -u >"$d/streams.txt"

compare_trace() {  # compare_trace WHO TRACE_FILE CONNECTION_ID
  local who=$1 file=$2 conn=$3 stream
  stream=$(awk -v c="$conn" '$2 == c { print $1; exit }' "$d/streams.txt")
  if [[ -z "$stream" ]]; then fail "$who: connection $conn not found in the capture"; return; fi
  # "[trace] -> sent frame 3 len=168 Session C→S #1 ciphertext=128 {...}": $2 arrow, $5 frame
  # number, $6 len=, $7 label, then for session frames $9 #counter and $10 ciphertext=.
  grep -E "$trace_re" "$file" | awk -v s="$stream" '{
      dir = ($2 == "->") ? "C→S" : "S→C"
      len = $6; sub(/^len=/, "", len)
      if ($7 == "Session") { ctr = $9; sub(/^#/, "", ctr); ct = $10; sub(/^ciphertext=/, "", ct) }
      else { ctr = "-"; ct = "-" }
      print s, dir, $5, len, ctr, ct }' | sort >"$d/trace-$who.txt"
  awk -v s="$stream" '$1 == s' "$d/tshark-frames.txt" | sort >"$d/tshark-$who.txt"
  if cmp -s "$d/trace-$who.txt" "$d/tshark-$who.txt" && [[ -s "$d/trace-$who.txt" ]]; then
    echo "ok: $who's --trace matches tshark frame by frame ($(grep -c . "$d/trace-$who.txt") frames, tcp.stream $stream)"
  else
    fail "$who: --trace and tshark differ (< trace, > tshark):"
    diff "$d/trace-$who.txt" "$d/tshark-$who.txt" | head -10
  fi
}
for who in bob carol alice; do
  conn=$(sed -n 's/^\[trace\] session established, connection id \([0-9a-f]*\).*/\1/p' "$d/$who.err")
  compare_trace "$who" "$d/$who.err" "$conn"
done
compare_trace poke "$d/poke.out" "$(sed -n 's/^connection-id //p' "$d/poke.out")"
step "traces compared"

if [[ $failed -eq 0 ]]; then
  echo "live_capture_test: PASS ($packets packets captured)"
else
  echo "live_capture_test: $failed failure(s); artifacts in $d"
  keep=1
fi
[[ $failed -eq 0 ]]
