#!/usr/bin/env python3
"""How many of the onsets `minewatch power scan` reports fall on a day other meters share
(issue 18: a step the class takes together is a season's or the calendar's): per region, the
onsets of legitimate meters and of miners, on a day at least three meters share and on a day of
their own, and the shared days with the most onsets.

Usage: python3 bench/power_onsets.py SEED...   (regions target/bench/realistic-1312-365-SEED;
MINEWATCH=PATH scans with another build)
"""
import collections
import os
import sys

import powerbench

os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
binary = os.environ.get('MINEWATCH', './target/release/minewatch')
total = collections.Counter()
days = collections.Counter()
for s in sys.argv[1:]:
    d = powerbench.region(s)
    truth = powerbench.truth(d)
    rows = powerbench.scan(binary, d)
    on_day = collections.Counter(o['onset'] for o in rows if o.get('onset'))
    for o in rows:
        if o.get('onset'):
            mining = truth[o['meter_id']]['mining'] == 'true'
            shared = on_day[o['onset']] >= 3
            total[('miners' if mining else 'legitimate', 'shared' if shared else 'own')] += 1
            if shared:
                days[o['onset']] += 1
for who in ('legitimate', 'miners'):
    print(f"{who}: onset on a day three or more meters share {total[(who, 'shared')]}, "
          f"on a day of its own {total[(who, 'own')]}")
print('shared days with the most onsets: ' +
      ', '.join(f'{day} {n}' for day, n in days.most_common(6)))
