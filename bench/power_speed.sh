#!/usr/bin/env bash
# `minewatch power scan` against the same load features in pandas (bench/power_pandas.py), on
# the same generated readings, each pinned to one core, run in pairs; peak memory of both.
# RUNS=5 for more pairs.
#
# Usage: bash bench/power_speed.sh [METERS] [DAYS]     (default 2000 365; needs pandas)
set -euo pipefail
cd "$(dirname "$0")/.."
METERS=${1:-2000}
DAYS=${2:-365}
cargo build --release -q
BIN=$PWD/target/release/minewatch
DIR=target/bench/region-$METERS-$DAYS
if [ ! -f "$DIR/readings.csv" ]; then
  "$BIN" power generate --meters "$METERS" --days "$DAYS" --seed 3 --out "$DIR"
fi
ROWS=$(( $(wc -l < "$DIR/readings.csv") - 1 ))
cat "$DIR/readings.csv" > /dev/null
# Each pair RUNS times (default 3; the machines are shared and noisy), minewatch and pandas one
# right after the other, so that both meet the same load: the median time of each, the largest
# peak memory, and the median of the pairs' ratios.
RUNS=${RUNS:-3}
one() { /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1; }
# Lines "minewatch_secs minewatch_kib pandas_secs pandas_kib", one a pair.
CSV=$(for _ in $(seq "$RUNS"); do
  echo "$(one taskset -c 1 "$BIN" power scan "$DIR/readings.csv" --customers "$DIR/customers.csv" -q --format jsonl)" \
       "$(one taskset -c 1 python3 bench/power_pandas.py "$DIR/readings.csv")"
done)
# The same readings as Parquet (needs pyarrow; minewatch built with the parquet feature).
PQ=""
if python3 -c "import pyarrow" 2>/dev/null; then
  [ -f "$DIR/readings.parquet" ] || python3 bench/csv_to_parquet.py "$DIR/readings.csv" "$DIR/readings.parquet"
  cargo build --release -q --features parquet --target-dir target/parquet
  PQ=$(for _ in $(seq "$RUNS"); do
    echo "$(one taskset -c 1 target/parquet/release/minewatch power scan "$DIR/readings.parquet" --customers "$DIR/customers.csv" -q --format jsonl)" \
         "$(one taskset -c 1 python3 bench/power_pandas.py "$DIR/readings.parquet")"
  done)
fi
python3 - "$ROWS" "$CSV" "$PQ" <<'PY'
import statistics, sys
rows = int(sys.argv[1])
for fmt, text in (("CSV", sys.argv[2]), ("Parquet", sys.argv[3])):
    runs = [list(map(float, l.split())) for l in text.splitlines() if l.strip()]
    if not runs:
        continue
    for name, col in (("minewatch power scan", 0), ("pandas features", 2)):
        secs = statistics.median(r[col] for r in runs)
        kib = max(r[col + 1] for r in runs)
        print(f"{name + ', ' + fmt:30s} {secs:7.2f} s  {rows / secs / 1e6:6.2f} M readings/s  peak {kib / 1024:7.0f} MiB")
    ratios = sorted(r[2] / r[0] for r in runs)
    print(f"minewatch vs pandas on {fmt}: {statistics.median(ratios):.1f}x (pairs: {', '.join(f'{x:.1f}' for x in ratios)})")
PY
