#!/usr/bin/env python3
"""Cold-start figures of `minewatch power scan` over many generated regions, exact and pooled
(issue 18): per region precision at K (K = the region's visible miners), recall, false-positive
rate and precision at the threshold, whether each goal holds (P@K >= 0.9, recall >= 0.9, FPR <=
1 %), the figures pooled over all regions, and per kind the miners found and the legitimate
sites flagged. `power scan --truth` prints the same per region rounded to two places; a table
of ten regions needs the counts behind them.

Positives as `power scan --truth` counts them (power::eval::read_truth): a miner that ran at
least 14 days of the period and is wired behind the meter (not `stolen`).

Usage: python3 bench/power_sealed.py [--daily] [--window DAYS:FIRST] [SEEDS...]   (default: the
sealed seeds 1001-1010; a seed may name a varied region as v21). With --window 90:2024-06-01,
each seed's region over that period instead of the year (generated on first use into
target/bench/window-1312-DAYS-FIRST-SEED: a quarter's readings are what many inquiries start
from). With --daily, each region's hourly readings
are first summed to one reading a day (written once to daily.csv beside them), as many meter
data systems deliver them. Regions are target/bench/realistic-1312-365-SEED, made by
bench/power_realistic.sh (or `minewatch power generate ... --mix realistic`). Scans with
target/release/minewatch, or the build named by MINEWATCH=PATH.
"""
import collections
import datetime
import os
import sys

import powerbench

os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
args = sys.argv[1:]
daily = '--daily' in args
window = None
if '--window' in args:
    i = args.index('--window')
    days, start = args[i + 1].split(':')
    window = (int(days), start)
    del args[i:i + 2]
seeds = [a for a in args if a != '--daily'] or [str(s) for s in range(1001, 1011)]
binary = os.environ.get('MINEWATCH', './target/release/minewatch')


def daily_readings(d):
    """The region's readings summed by local day (the timestamps carry +08:00), written once."""
    out = f'{d}/daily.csv'
    if os.path.exists(out):
        return out
    sums = {}
    with open(f'{d}/readings.csv') as f:
        next(f)
        for line in f:
            meter, ts, kwh = line.rstrip('\n').split(',')
            key = (meter, ts[:10])
            sums[key] = sums.get(key, 0.0) + (float(kwh) if kwh else float('nan'))
    with open(out + '.tmp', 'w') as o:
        o.write('meter_id,timestamp,kwh\n')
        for (meter, day), v in sums.items():
            o.write(f"{meter},{day}T00:00:00+08:00,{'' if v != v else round(v, 3)}\n")
    os.replace(out + '.tmp', out)
    return out


def scan(d):
    return powerbench.scan(binary, d, daily_readings(d) if daily else None)


pool = collections.Counter()
by_miner, by_miner_found = collections.Counter(), collections.Counter()
found, visible = collections.Counter(), collections.Counter()
flagged, sites = collections.Counter(), collections.Counter()
goals = collections.Counter()
# Miners switched on mid-period (at once, or machine by machine) that were flagged: with an onset
# reported, with that onset within three days of the truth's (back-billing starts there), with
# the mining kW within a fifth of the truth's.
dating = collections.defaultdict(collections.Counter)
print('seed  miners  P@K            recall         FPR                precision  goals')
for s in seeds:
    d = powerbench.region(s, window, binary)
    truth = powerbench.truth(d)
    rows = []
    outs = scan(d)
    for o in outs:
        t = truth[o['meter_id']]
        positive = (t['mining'] == 'true' and t['miner_kind'] != 'stolen'
                    and int(t['active_days'] or 0) >= 14)
        rows.append((o['score'], o['meter_id'], o['suspected'], positive, t))
    k = sum(r[3] for r in rows)
    negatives = len(rows) - k
    # Ranked as the scan ranks them: score, then meter.
    top = sorted(rows, key=lambda r: (-r[0], r[1]))[:k]
    hits = sum(r[3] for r in top)
    tp = sum(r[2] and r[3] for r in rows)
    fp = sum(r[2] and not r[3] for r in rows)
    pak, recall, fpr = hits / k, tp / k, fp / negatives
    met = [pak >= 0.9, recall >= 0.9, fpr <= 0.01]
    goals.update({'P@K': met[0], 'recall': met[1], 'FPR': met[2], 'all three': all(met)})
    pool.update({'positives': k, 'negatives': negatives, 'tp': tp, 'fp': fp})
    for o in outs:
        t = truth[o['meter_id']]
        if t['miner_kind'] in ('onset', 'staircase') and o['suspected'] and \
                int(t['active_days'] or 0) >= 14:
            c = dating[t['miner_kind']]
            c['flagged'] += 1
            if o.get('onset'):
                c['dated'] += 1
                off = abs((datetime.date.fromisoformat(o['onset'])
                           - datetime.date.fromisoformat(t['onset'])).days)
                c['within 3 days'] += off <= 3
            c['kW within 20 %'] += abs(o['mining_kw'] - float(t['mining_kw'])) <= \
                0.2 * float(t['mining_kw'])
    for _, _, suspected, positive, t in rows:
        if positive:
            key = f"{t['miner_kind']} in {t['site_kind']}"
            visible[key] += 1
            found[key] += suspected
            by_miner[t['miner_kind']] += 1
            by_miner_found[t['miner_kind']] += suspected
        elif t['mining'] != 'true':
            sites[t['site_kind']] += 1
            flagged[t['site_kind']] += suspected
    print(f'{s:>5}  {k:>6}  {pak:.3f} ({hits}/{k})  {recall:.3f} ({tp}/{k})  '
          f'{fpr:.4f} ({fp}/{negatives})  {tp / max(1, tp + fp):.3f}      '
          + ' '.join(n for n, ok in zip(('P@K', 'recall', 'FPR'), met) if ok))
n = len(seeds)
print(f"goals held, of {n} regions: " + ', '.join(f'{g} {goals[g]}' for g in
                                                  ('P@K', 'recall', 'FPR', 'all three')))
tp, fp = pool['tp'], pool['fp']
print(f"pooled: recall {tp / pool['positives']:.3f} ({tp}/{pool['positives']}), precision "
      f"{tp / max(1, tp + fp):.3f}, false-positive rate {fp / pool['negatives']:.4f} "
      f"({fp}/{pool['negatives']})")
print('missed, by miner and site (missed/visible): ' + ', '.join(
    f'{key} {visible[key] - found[key]}/{visible[key]}'
    for key in sorted(visible, key=lambda x: (found[x] - visible[x], x)) if found[key] < visible[key]))
print('false alarms, by legitimate site (flagged/sites): ' + ', '.join(
    f'{key} {flagged[key]}/{sites[key]}'
    for key in sorted(sites, key=lambda x: (-flagged[x], x)) if flagged[key]))
print('found, by kind of miner (found/visible): ' + ', '.join(
    f'{k} {by_miner_found[k]}/{by_miner[k]}' for k in sorted(by_miner)))
print('flagged, by kind of legitimate site (flagged/sites): ' + ', '.join(
    f'{k} {flagged[k]}/{sites[k]}' for k in sorted(sites)))
for kind, c in sorted(dating.items()):
    print(f"{kind} miners flagged {c['flagged']}: onset reported {c['dated']}, within 3 days of "
          f"the truth {c['within 3 days']}, mining kW within 20 % {c['kW within 20 %']}")
