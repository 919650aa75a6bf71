#!/usr/bin/env python3
"""Which meters' scores a change to `minewatch power scan` moves (issue 18): scans each region
with two builds and prints how many legitimate meters and miners moved, and the legitimate
meters that moved most (the false alarms a change is one step from making).

Usage: python3 bench/power_moved.py OLD_BINARY NEW_BINARY SEED...   (a seed may name a varied
region as v21; regions are target/bench/realistic-1312-365-SEED, as bench/power_sealed.py reads
them; hourly readings, with weather)
"""
import collections
import os
import sys

import powerbench

os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
old, new, seeds = sys.argv[1], sys.argv[2], sys.argv[3:]


def scan(binary, d):
    return {o['meter_id']: o for o in powerbench.scan(binary, d)}


moved = collections.Counter()
legit = []
for s in seeds:
    d = powerbench.region(s)
    truth = powerbench.truth(d)
    a, b = scan(old, d), scan(new, d)
    for m, o in a.items():
        if abs(o['score'] - b[m]['score']) > 1e-9:
            mining = truth[m]['mining'] == 'true'
            moved['miners' if mining else 'legitimate meters'] += 1
            if not mining:
                legit.append((b[m]['score'], o['score'], s, m, truth[m]['site_kind']))
print('scores moved: ' + ', '.join(f'{k} {v}' for k, v in sorted(moved.items())))
print('legitimate meters that moved, highest new score first:')
for new_score, old_score, s, m, kind in sorted(legit, reverse=True)[:15]:
    print(f'  {s:>5} {m} {kind:22} {old_score:.3f} -> {new_score:.3f}')
