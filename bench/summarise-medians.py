#!/usr/bin/env python3
"""Medians of the runs bench/run-medians.sh recorded: bench/summarise-medians.py RUNS.jsonl"""
import json
import statistics
import sys

rows = [json.loads(line) for line in open(sys.argv[1] if len(sys.argv) > 1 else 'bench-runs.jsonl')]
labels = list(dict.fromkeys(r['who'] for r in rows))
fields = {
 'fanout50': ['delivered_per_server_cpu_s','delivered_per_s','server_sys_s','server_cpu_s','vs_raw_batched_frames','latency_p99_ms','undelivered'],
 'fanout500': ['delivered_per_server_cpu_s','delivered_per_s','undelivered'],
 'open500k': ['delivered_per_s','latency_p50_ms','latency_p99_ms','latency_p999_ms','server_cpu_utilisation','server_sys_s','server_cpu_s','undelivered'],
 'open250k': ['delivered_per_s','latency_p50_ms','latency_p99_ms','latency_p999_ms','server_cpu_utilisation','undelivered'],
 'open100k': ['delivered_per_s','latency_p50_ms','latency_p99_ms','latency_p999_ms','server_cpu_utilisation','undelivered'],
 'whispers': ['delivered_per_server_cpu_s','delivered_per_s','undelivered'],
 'handshakes': ['handshakes_per_server_cpu_s','handshakes_per_s','server_sys_s','server_cpu_s','latency_p50_ms','latency_p99_ms','failed'],
 'idle2000': ['server_rss_per_connection_bytes','joins_per_server_cpu_s','joins_per_s'],
}
rawf = ['box_beforenm_per_s','seal_256B_per_s','seal_16KiB_per_s','frame_per_message_writev64_per_cpu_s','frame_per_message_write_each_per_cpu_s','batch64_frame_write_per_cpu_s']
def get(name, who, scen, f):
    vals = []
    for r in rows:
        if r['name'] == name and r['who'] == who:
            for d in r['data']:
                if d.get('scenario') == scen and f in d: vals.append(d[f])
    return vals
for name, fs in fields.items():
    scen = {'fanout50':'fanout','fanout500':'fanout','open500k':'fanout','open250k':'fanout','open100k':'fanout','idle2000':'idle'}.get(name, name)
    print('==', name)
    for f in fs:
        line = f'  {f:36}'
        for who in labels:
            v = get(name, who, scen, f)
            if v: line += f' {who}: median {statistics.median(v):>12.4g}  runs {["%.4g"%x for x in v]}'
        print(line)
print('== raw (all runs)')
for f in rawf:
    v = [x for who in labels for x in get('fanout50', who, 'raw_limit', f)]
    if v: print(f'  {f:40} median {statistics.median(v):>12.4g} runs {["%.4g"%x for x in v]}')
