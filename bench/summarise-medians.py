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
kd = ['all_sessions_s','all_can_read_s','sender_cpu_s','member_cpu_us_each','members_cpu_s','server_cpu_s','bench_cpu_s',
      'sender_wire_bytes','sender_body_base64_bytes','wire_bytes_written','wire_bytes_read','wire_bytes_per_member','unread']
fields.update({'kd100': kd, 'kd300': kd, 'kd1000': kd,
               'joinstorm1000': ['until_last_welcome_s','until_presence_delivered_s','slowest_join_ms','server_cpu_s',
                                 'bench_cpu_s','joins_per_server_cpu_s','presence_delivered','pin_saves','pin_bytes_written',
                                 'pinning_wall_s','pinning_cpu_s']})
rawf = ['box_beforenm_per_s','seal_256B_per_s','seal_16KiB_per_s','frame_per_message_writev64_per_cpu_s','frame_per_message_write_each_per_cpu_s','batch64_frame_write_per_cpu_s']
def get(name, who, scen, f):
    vals = []
    for r in rows:
        if r['name'] == name and r['who'] == who:
            for d in r['data']:
                if d.get('scenario') == scen and f in d: vals.append(d[f])
    return vals
def other_cpu_s(r):
    """CPU-seconds other processes took during a run: the machine's busy time less the server's
    and the bench's own over their measured intervals (so the bench's set-up, its joins, counts
    as "other" too: an upper bound)."""
    if 'machine_busy_ticks' not in r: return None
    own = sum(d.get('server_cpu_s', 0) + d.get('bench_cpu_s', 0) for d in r['data'])
    return r['machine_busy_ticks'] / 100 - own
def ab_e2e():
    """Issue 13's A/B (-s plain,e2e): medians per scenario, and e2e/plain of the medians."""
    if not any(r['name'] in ('plain', 'e2e') for r in rows): return
    print('== end-to-end A/B (plain vs e2e; same server)')
    for scen in ('fanout', 'whispers'):
        for f in ('delivered_per_server_cpu_s', 'delivered_bytes_per_server_cpu_s', 'wire_bytes_per_delivery'):
            med = {}
            line = f'  {scen:9}{f:34}'
            for mode in ('plain', 'e2e'):
                v = []
                for r in rows:
                    if r['name'] != mode: continue
                    for d in r['data']:
                        if d.get('scenario') != scen: continue
                        if f == 'wire_bytes_per_delivery' and d.get('delivered'): v.append(d['delivered_wire_bytes'] / d['delivered'])
                        elif f in d: v.append(d[f])
                if v:
                    med[mode] = statistics.median(v)
                    line += f' {mode}: median {med[mode]:>10.4g} runs {["%.4g" % x for x in v]}'
            if len(med) == 2: line += f'  e2e/plain {med["e2e"] / med["plain"]:.3f}'
            print(line)
    for mode in ('plain', 'e2e'):
        loads = [r.get('load') for r in rows if r['name'] == mode]
        others = [x for x in (other_cpu_s(r) for r in rows if r['name'] == mode) if x is not None]
        cores = [other_cpu_s(r) / r['elapsed_s'] for r in rows if r['name'] == mode and 'elapsed_s' in r]
        print(f'  {mode}: load average before each run {loads}; other processes\' CPU-s during each run {["%.1f" % x for x in others]}'
              + (f'; cores they kept busy (of the machine\'s) {["%.2f" % x for x in cores]}' if cores else ''))
for name, fs in fields.items():
    scen = {'fanout50':'fanout','fanout500':'fanout','open500k':'fanout','open250k':'fanout','open100k':'fanout','idle2000':'idle',
            'kd100':'key_distribution','kd300':'key_distribution','kd1000':'key_distribution',
            'joinstorm1000':'join_storm'}.get(name, name)
    print('==', name)
    for f in fs:
        line = f'  {f:36}'
        for who in labels:
            v = get(name, who, scen, f)
            if v: line += f' {who}: median {statistics.median(v):>12.4g}  runs {["%.4g"%x for x in v]}'
        print(line)
ab_e2e()
print('== raw (all runs)')
for f in rawf:
    v = [x for who in labels for x in get('fanout50', who, 'raw_limit', f)]
    if v: print(f'  {f:40} median {statistics.median(v):>12.4g} runs {["%.4g"%x for x in v]}')
