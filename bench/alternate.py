#!/usr/bin/env python3
"""Runs commands in alternation (A B C A B C ...) and reports, per command, the median of the
runs' wall time and of their CPU time (user + system of the process and its children, from
`wait4`), so that a machine's drift and noise fall on every contender alike. hyperfine runs
each command's runs back to back and reports CPU time only as a mean; the issue asks for
medians of alternating runs.

Usage: alternate.py RUNS WARMUP JSON_OUT NAME=COMMAND...   (exit status of the commands ignored:
the scan exits 1 when it finds miners)
"""
import json, os, shlex, statistics, subprocess, sys, time

runs, warmup, out = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
cmds = [a.split('=', 1) for a in sys.argv[4:]]


def once(cmd):
    start = time.perf_counter()
    p = subprocess.Popen(shlex.split(cmd), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, _, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - start
    return wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss


for _ in range(warmup):
    for _, c in cmds:
        once(c)
res = {n: {'wall': [], 'cpu': [], 'rss_kib': []} for n, _ in cmds}
for _ in range(runs):
    for n, c in cmds:
        w, cpu, rss = once(c)
        res[n]['wall'].append(w)
        res[n]['cpu'].append(cpu)
        res[n]['rss_kib'].append(rss)
summary = {n: {'command': c, 'wall_median': statistics.median(res[n]['wall']),
               'cpu_median': statistics.median(res[n]['cpu']),
               'peak_rss_kib': max(res[n]['rss_kib']), 'runs': res[n]} for n, c in cmds}
json.dump(summary, open(out, 'w'), indent=1)
