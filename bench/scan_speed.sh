#!/usr/bin/env bash
# Packet rate of `minewatch scan` against ndpiReader (and against just reading the file) on the
# same capture, each pinned to one core, as ratios. Also peak memory and --threads scaling.
#
# Usage: bash bench/scan_speed.sh [MB]      (default 400; needs hyperfine, ndpiReader, GNU time)
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${1:-400}
cargo build --release -q
BIN=target/release/minewatch
mkdir -p target/bench
CAP=target/bench/background.pcap
if [ ! -f "$CAP" ] || [ "$(stat -c %s "$CAP")" -lt $((MB * 1000000)) ]; then
  "$BIN" synth --out target/bench --background-mb "$MB"
fi
BYTES=$(stat -c %s "$CAP")
# Packet count from the scan's own summary line.
# Packet count from the scan's own summary line (the scan exits 1: it finds the mixed-in miners).
PACKETS=$( { "$BIN" scan --format jsonl "$CAP" 2>&1 >/dev/null || true; } | sed -n 's/.* file(s), \([0-9]*\) packets.*/\1/p')
echo "capture: $CAP, $BYTES bytes, $PACKETS packets"
cat "$CAP" > /dev/null   # warm the page cache for every contender alike
hyperfine --warmup 2 --runs 10 -N --export-json target/bench/scan.json \
  -n read "taskset -c 1 cat $CAP" \
  -i -n minewatch "taskset -c 1 $BIN scan -q --format jsonl $CAP" \
  -n ndpiReader "taskset -c 1 ndpiReader -i $CAP -q" \
  -n minewatch-2-threads "$BIN scan -q --format jsonl --threads 2 $CAP" \
  --output=null
python3 - "$PACKETS" "$BYTES" <<'PY'
import json, sys
packets, size = int(sys.argv[1]), int(sys.argv[2])
r = {x["command"]: x for x in json.load(open("target/bench/scan.json"))["results"]}
mw, nd, rd = r["minewatch"]["median"], r["ndpiReader"]["median"], r["read"]["median"]
for name, x in r.items():
    t = x["median"]
    print(f"{name:22s} median {t:8.3f} s  {packets / t / 1e6:7.2f} Mpkt/s  {size * 8 / t / 1e9:7.2f} Gbit/s")
print(f"minewatch vs ndpiReader packet rate: {nd / mw:.1f}x")
print(f"minewatch time vs reading the file: {mw / rd:.1f}x")
print(f"2 threads vs 1: {mw / r['minewatch-2-threads']['median']:.2f}x")
PY
for cmd in "$BIN scan -q --format jsonl $CAP" "ndpiReader -i $CAP -q"; do
  /usr/bin/time -f "peak RSS %M KiB: $cmd" $cmd > /dev/null 2> >(grep "peak RSS" >&2) || true
done
