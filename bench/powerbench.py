"""What the power benchmarks share: where a generated region lives, its truth, and a scan of it
by a build of `minewatch` (JSON lines, one dict a meter). Imported by bench/power_sealed.py,
bench/power_moved.py and bench/power_onsets.py (run from any directory: they change to the
project root first)."""
import csv
import json
import subprocess
import sys


def region(seed):
    """The folder of the region generated for `seed` (a varied region is named like v21)."""
    return f'target/bench/realistic-1312-365-{seed}'


def truth(d):
    """The region's truth.csv by meter."""
    with open(f'{d}/truth.csv') as f:
        return {r['meter_id']: r for r in csv.DictReader(f)}


def scan(binary, d, readings=None):
    """`power scan` of the region's readings (or `readings`), with its customers and weather."""
    p = subprocess.run([binary, 'power', 'scan', readings or f'{d}/readings.csv', '--customers',
                        f'{d}/customers.csv', '--weather', f'{d}/weather.csv', '--format',
                        'jsonl'], capture_output=True, text=True)
    if p.returncode not in (0, 1):  # 1: meters suspected
        sys.exit(f'{d}: power scan failed: {p.stderr.strip()}')
    return [json.loads(line) for line in p.stdout.splitlines()]
