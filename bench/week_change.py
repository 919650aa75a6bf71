#!/usr/bin/env python3
"""Week-on-week change of the load above the floor (`features.week_change` of each meter's
scored window in `power scan --format jsonl`) on the tuning regions: the smallest per
legitimate kind, and the smallest among the rigs flagged with the reason
`steady_floor_under_load` (the path that asks for it). The figures DETECTION.md gives for
session 16.

Usage: python3 bench/week_change.py [SEED...]   (default 1..8; regions as
`bash bench/power_realistic.sh 1312 365 SEED` writes them)
"""
import csv, json, os, subprocess, sys

os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
seeds = sys.argv[1:] or [str(s) for s in range(1, 9)]
legit, rigs = {}, None
for s in seeds:
    d = f'target/bench/realistic-1312-365-{s}'
    truth = {r['meter_id']: r for r in csv.DictReader(open(f'{d}/truth.csv'))}
    out = subprocess.run(['./target/release/minewatch', 'power', 'scan', f'{d}/readings.csv',
                          '--customers', f'{d}/customers.csv', '--weather', f'{d}/weather.csv',
                          '--format', 'jsonl', '-q'], capture_output=True, text=True).stdout
    for line in out.splitlines():
        j = json.loads(line)
        wc, t = j['features'].get('week_change'), truth[j['meter_id']]
        if wc is None:
            continue
        if t['mining'] != 'true':
            k = t['site_kind']
            legit[k] = min(legit.get(k, (9.0, '')), (wc, f'{s}:{j["meter_id"]}'))
        elif j['suspected'] and any(r['code'] == 'steady_floor_under_load' for r in j['reasons']):
            if rigs is None or wc < rigs[0]:
                rigs = (wc, f'{s}:{j["meter_id"]} {t["miner_kind"]} in {t["site_kind"]}')
for k, (wc, m) in sorted(legit.items(), key=lambda x: x[1][0]):
    print(f'{k:22s} smallest week_change {wc:.4f}  ({m})')
print(f'rigs flagged by steady_floor_under_load: smallest {rigs[0]:.4f} ({rigs[1]})' if rigs else 'no rig flagged by that path')
