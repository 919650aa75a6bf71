#!/usr/bin/env bash
# `minewatch power scan` against the same load features in pandas (bench/power_pandas.py), on
# the same generated readings, each pinned to one core; peak memory of both. RUNS=5 for more
# runs of each.
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
# Each command RUNS times (default 3; the machines are shared and noisy): the median time, the
# largest peak memory.
RUNS=${RUNS:-3}
t() {
  for _ in $(seq "$RUNS"); do /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1; done |
    sort -n | awk '{ t[NR] = $1; if ($2 > m) m = $2 } END { print t[int((NR + 1) / 2)], m }'
}
MW=$(t taskset -c 1 "$BIN" power scan "$DIR/readings.csv" --customers "$DIR/customers.csv" -q --format jsonl || true)
PD=$(t taskset -c 1 python3 bench/power_pandas.py "$DIR/readings.csv")
# The same readings as Parquet (needs pyarrow; minewatch built with the parquet feature).
MWQ="- -"; PDQ="- -"
if python3 -c "import pyarrow" 2>/dev/null; then
  [ -f "$DIR/readings.parquet" ] || python3 bench/csv_to_parquet.py "$DIR/readings.csv" "$DIR/readings.parquet"
  cargo build --release -q --features parquet --target-dir target/parquet
  MWQ=$(t taskset -c 1 target/parquet/release/minewatch power scan "$DIR/readings.parquet" --customers "$DIR/customers.csv" -q --format jsonl || true)
  PDQ=$(t taskset -c 1 python3 bench/power_pandas.py "$DIR/readings.parquet")
fi
python3 - "$ROWS" "$MW" "$PD" "$MWQ" "$PDQ" <<'PY'
import sys
rows = int(sys.argv[1]); mw, pd, mwq, pdq = (a.split() for a in sys.argv[2:6])
for name, (secs, kib) in (("minewatch power scan", mw), ("pandas features", pd),
                          ("minewatch, Parquet", mwq), ("pandas, Parquet", pdq)):
    if secs == "-":
        continue
    secs = float(secs); print(f"{name:22s} {secs:7.2f} s  {rows / secs / 1e6:6.2f} M readings/s  peak {int(kib) / 1024:7.0f} MiB")
print(f"minewatch vs pandas: {float(pd[0]) / float(mw[0]):.1f}x")
if mwq[0] != "-":
    print(f"minewatch vs pandas on Parquet: {float(pdq[0]) / float(mwq[0]):.1f}x")
PY
