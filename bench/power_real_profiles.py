#!/usr/bin/env python3
"""Real load shapes as hard negatives for `minewatch power scan` (issue 18), and the same shapes
with a rig behind them.

BDEW's 2025 standard load profiles (`../shared/data/power/bdew_demandlib`: H25 households, G25
commerce, L25 agriculture; 15-minute energy per month for workdays, Saturdays and Sundays) are
measured from many real German sites. Each is laid out over 2024 by its calendar (Sundays
take the Sunday column; public holidays are not marked), summed to hours, scaled to a site's
yearly energy, and added as meters to a tuning region (`realistic-1312-365-1`, so that each
class has its real population to be compared with); then the same sites with a rig that draws
its power within 1 % round the clock. An average of many sites is smoother than any one of
them: the hardest case of a legitimate load for a test of steadiness. No rig is known to be
behind any of them.

Usage: python3 bench/power_real_profiles.py   (after `bash bench/power_realistic.sh 1312 365 1`;
MINEWATCH=PATH scans with another build, to compare two; DAILY=1 scans the readings summed to
one a day, as many meter data systems deliver them)
"""
import csv, datetime, json, math, os, random, subprocess, sys

os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..'))
SRC = '../shared/data/power/bdew_demandlib'
REGION = 'target/bench/realistic-1312-365-1'
OUT = 'target/bench/real-profiles'
if not os.path.exists(f'{SRC}/g25.csv'):
    print(f'NOTICE: {SRC} is not here: no real-profile row')
    sys.exit(0)
MONTHS = ['Januar', 'Februar', 'März', 'April', 'Mai', 'Juni', 'Juli', 'August', 'September',
          'Oktober', 'November', 'Dezember']
# (profile, tariff class, yearly kWh, rig kW): a household of 2,500 kWh a year, a shop or
# office of 50,000, a farm of 30,000; rigs of the sizes issue 18 names for such sites.
# The older BDEW commerce subtypes (`selp_series.csv`, one typical day per season and weekday):
# G1 workdays 8-18 h, G2 evening, G3 continuous, G4 shops and hairdressers, G5 bakeries,
# G6 weekend businesses: one kind of customer is many shapes (issue 18, the varied mix).
SITES = [('h25', 'residential', 2_500, 1.5), ('g25', 'commercial', 50_000, 3.0),
         ('l25', 'agricultural', 30_000, 3.0)] + [
         (f'g{i}', 'commercial', 50_000, 3.0) for i in range(1, 7)]


def profile(name):
    """The profile's quarter-hour `q` of `day`."""
    if name.endswith('25'):
        rows = list(csv.reader(open(f'{SRC}/{name}.csv', encoding='utf-8')))
        months, kinds = rows[0], rows[1]
        data = [r for r in rows[2:] if r and '-' in r[0]]
        assert len(data) == 96, (name, len(data))
        col = {(months[i], kinds[i]): i for i in range(1, len(months))}
        return lambda day, q: float(data[q][col[(MONTHS[day.month - 1], day_kind(day))]])
    # selp: (season, ISO weekday) -> 96 quarter hours, in file order.
    by = {}
    for r in csv.DictReader(open(f'{SRC}/selp_series.csv')):
        by.setdefault((r['period'], int(r['weekday'])), []).append(float(r[name]))
    assert all(len(v) == 96 for v in by.values()) and len(by) == 21, name
    return lambda day, q: by[(season(day), day.isoweekday())][q]


def day_kind(day):
    return 'FT' if day.weekday() == 6 else 'SA' if day.weekday() == 5 else 'WT'


def season(day):
    """BDEW's seasons: winter 1 November to 20 March, summer 15 May to 14 September."""
    md = (day.month, day.day)
    if md >= (11, 1) or md <= (3, 20):
        return 'winter'
    if (5, 15) <= md <= (9, 14):
        return 'summer'
    return 'transition'


os.makedirs(OUT, exist_ok=True)
rng = random.Random(2025)
extra, customers, truth = [], [], []
for name, cls, kwh_year, rig_kw in SITES:
    p = profile(name)
    day, hours = datetime.date(2024, 1, 1), []
    while day.year == 2024:
        for h in range(24):
            hours.append((day, h, sum(p(day, 4 * h + k) for k in range(4))))
        day += datetime.timedelta(days=1)
    scale = kwh_year / sum(v for _, _, v in hours)
    # The profile as it is, then with a single site's noise put back at two sizes (`N5`,
    # `N15`): each hour times a log-normal factor of that spread (0.15 is what the generator
    # gives every business's hours; no measured spread of single sites is public) and each
    # day times one of a third of it. From their own random streams, so the rows without
    # noise are drawn as before.
    for sigma in (0.0, 0.05, 0.15):
        noise = random.Random(f'{name}-{sigma}')
        day_factor, factors = None, []
        for d, h, _ in hours:
            if h == 0:
                day_factor = math.exp(sigma / 3 * noise.gauss(0, 1))
            factors.append(day_factor * math.exp(sigma * noise.gauss(0, 1)))
        tag = f'N{round(sigma * 100)}' if sigma else ''
        for rig in (False, True):
            meter = f'R{name.upper()}{tag}{"RIG" if rig else ""}'
            for (d, h, v), f in zip(hours, factors):
                jitter = (noise if sigma else rng).gauss(0, 1)
                kwh = v * scale * f + (rig_kw * (1 + 0.01 * jitter) if rig else 0.0)
                extra.append(f'{meter},{d.isoformat()}T{h:02d}:00:00+08:00,{kwh:.3f}\n')
            customers.append([meter, f'C{meter}', cls, 100, 'A0001', '150202', 'real profile',
                              '40.6', '110.0', 'false'])
            truth.append([meter, f'bdew_{name}', 'true' if rig else 'false',
                          'round_the_clock' if rig else '', rig_kw if rig else '', '', 'false',
                          'A0001', 366 if rig else 0])

with open(f'{OUT}/readings.csv', 'w') as out:
    with open(f'{REGION}/readings.csv') as src:
        for line in src:
            out.write(line)
    out.writelines(extra)
for name, rows in (('customers', customers), ('truth', truth)):
    with open(f'{REGION}/{name}.csv') as src, open(f'{OUT}/{name}.csv', 'w', newline='') as out:
        out.write(src.read())
        csv.writer(out).writerows(rows)
readings = f'{OUT}/readings.csv'
if os.environ.get('DAILY'):
    sums = {}
    with open(readings) as src:
        next(src)
        for line in src:
            meter, ts, kwh = line.rstrip('\n').split(',')
            key = (meter, ts[:10])
            sums[key] = sums.get(key, 0.0) + (float(kwh) if kwh else float('nan'))
    readings = f'{OUT}/daily.csv'
    with open(readings, 'w') as out:
        out.write('meter_id,timestamp,kwh\n')
        for (meter, day), v in sums.items():
            out.write(f"{meter},{day}T00:00:00+08:00,{'' if v != v else round(v, 3)}\n")
BIN = os.environ.get('MINEWATCH', './target/release/minewatch')
run = subprocess.run([BIN, 'power', 'scan', readings,
                      '--customers', f'{OUT}/customers.csv', '--weather', f'{REGION}/weather.csv',
                      '--format', 'jsonl'], capture_output=True, text=True)
for line in run.stdout.splitlines():
    s = json.loads(line)
    if s['meter_id'].startswith('R'):
        print(f"{s['meter_id']:8s} {s['tariff_class']:12s} score {s['score']:.3f} "
              f"{'flagged' if s['suspected'] else 'not flagged'}: "
              f"{', '.join(r['code'] for r in s['reasons'])}")
