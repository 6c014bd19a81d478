#!/usr/bin/env bash
# Runs the scenarios of docs/PERFORMANCE.md RUNS times for one or more servers, interleaved run
# by run (so that every server sees the same machine load), and appends one JSON line per run to
# OUT. bench/summarise-medians.py prints the medians.
#
#   bench/run-medians.sh [-n RUNS] [-o OUT] [-b NATTER_BENCH] [-s NAMES] LABEL=PATH/TO/natter-server...
#
# -s runs only the named scenarios (comma-separated, e.g. -s fanout50,handshakes; default all).
# -s plain,e2e is the end-to-end A/B of docs/PERFORMANCE.md "End-to-end bodies".
#
# e.g. comparing a change against its parent, both built with -DCMAKE_BUILD_TYPE=Release:
#   bench/run-medians.sh -o /tmp/runs.jsonl before=/tmp/old/server/natter-server now=build/server/natter-server
#   bench/summarise-medians.py /tmp/runs.jsonl
set -euo pipefail

runs=5
out="bench-runs.jsonl"
bench=$(dirname "$0")/../build/bench/natter-bench
only=""
usage="usage: $0 [-n RUNS] [-o OUT] [-b NATTER_BENCH] [-s NAME,...] LABEL=SERVER..."
while getopts "n:o:b:s:" opt; do
  case $opt in
    n) runs=$OPTARG ;;
    o) out=$OPTARG ;;
    b) bench=$OPTARG ;;
    s) only=",$OPTARG," ;;
    *) echo "$usage" >&2; exit 2 ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || { echo "$usage" >&2; exit 2; }
[ -x "$bench" ] || { echo "no natter-bench at $bench (use -b)" >&2; exit 2; }

# user + nice + system + irq + softirq + steal of all CPUs, in USER_HZ ticks (1/100 s).
machine_busy_ticks() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9; exit}' /proc/stat; }

# name|flags: the commands of docs/PERFORMANCE.md ("Figures on this machine").
scenarios=(
  "fanout50|--scenario fanout --receivers 47 --senders 4 --messages 40000 --window 1000"
  "fanout500|--no-raw --scenario fanout --receivers 497 --senders 4 --messages 2000 --window 1000"
  "open500k|--no-raw --scenario fanout --receivers 47 --senders 4 --messages 5000 --rate 10000"
  "open250k|--no-raw --scenario fanout --receivers 47 --senders 4 --messages 5000 --rate 5000"
  "open100k|--no-raw --scenario fanout --receivers 47 --senders 4 --messages 2000 --rate 2000"
  "whispers|--no-raw --scenario whispers --pairs 100 --messages 2000 --window 64"
  # Issue 13's A/B: the same traffic with and without end-to-end bodies (bench defaults: 103-way
  # fan-out of 4 × 2 000 messages, 100 whisper pairs × 2 000), run one after the other.
  "plain|--no-raw --scenario fanout,whispers"
  "e2e|--no-raw --scenario fanout,whispers --e2e"
  # The end-to-end client side against a server: a new sender in rooms of 100, 300 and 1 000,
  # and 1 000 users joining at once.
  "kd100|--no-raw --scenario key-distribution --members 100"
  "kd300|--no-raw --scenario key-distribution --members 300"
  "kd1000|--no-raw --scenario key-distribution --members 1000"
  "joinstorm1000|--no-raw --scenario join-storm --users 1000"
  "handshakes|--no-raw --scenario handshakes --handshakes 10000 --identities 1000 --concurrency 32"
  "idle2000|--no-raw --scenario idle --idle 2000"
)

for run in $(seq 1 "$runs"); do
  for entry in "${scenarios[@]}"; do
    name=${entry%%|*}
    if [ -n "$only" ] && [[ "$only" != *",$name,"* ]]; then continue; fi
    read -r -a flags <<< "${entry#*|}"
    for server in "$@"; do
      label=${server%%=*}
      path=${server#*=}
      # The machine may be shared: the load average before the run, and the CPU-seconds the
      # whole machine was busy during it (/proc/stat), from which the summary subtracts the
      # server's and the bench's own to show what other processes took.
      load=$(cut -d' ' -f1 /proc/loadavg)
      busy_before=$(machine_busy_ticks)
      started=$(date +%s.%N)
      # Every JSON line the bench prints (the raw limit and the scenario), as one array.
      data=$("$bench" --server "$path" --server-cpu 0 --bench-cpu 1 "${flags[@]}" 2>&1 |
             sed -n 's/^JSON //p' | paste -sd, -)
      busy=$(( $(machine_busy_ticks) - busy_before ))
      elapsed=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.3f", b - a }')
      echo "{\"who\":\"$label\",\"name\":\"$name\",\"run\":$run,\"load\":$load,\"machine_busy_ticks\":$busy,\"elapsed_s\":$elapsed,\"data\":[$data]}" >> "$out"
    done
  done
  echo "run $run of $runs done ($(date +%T), load $(cut -d' ' -f1-3 /proc/loadavg))"
done
