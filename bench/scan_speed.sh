#!/usr/bin/env bash
# Packet rate of `minewatch scan` against ndpiReader (and against just reading the file) on the
# same capture, each pinned to one core, as ratios of CPU time (user + system). Also peak
# memory and --threads scaling. Two rows:
#   population: `minewatch synth --population-mb MB`, a capture shaped like a link's population
#              (flow lengths from a campus's published distribution, DNS, port probes, lone
#              datagrams, IP fragments, thousands of mining probes and sessions, all overlapping
#              in time; where each proportion comes from: crates/net/src/synth/population.rs);
#   real:      every capture in ../shared/data/net/pcap replayed COPIES times
#              (`minewatch synth --replay`, each copy readdressed and overlapping in time:
#              the captures' own mix of short and long flows, mining and not).
# (`minewatch synth --background-mb MB`, long flows one after another with a dozen miners, was
# the synthetic row until session 20; docs/PERFORMANCE.md keeps its figures.)
#
# Usage: bash bench/scan_speed.sh [MB] [COPIES]   (default 400 280; needs ndpiReader from
# Debian's libndpi-bin, GNU time, python3)
set -euo pipefail
cd "$(dirname "$0")/.."
MB=${1:-400}
COPIES=${2:-280}
cargo build --release -q -p minewatch
BIN=target/release/minewatch
mkdir -p target/bench
SYN=target/bench/population.pcap
if [ ! -f "$SYN" ] || [ "$(stat -c %s "$SYN")" -lt $((MB * 1000000)) ]; then
  "$BIN" synth --out target/bench --population-mb "$MB"
fi
REAL=target/bench/real/replay.pcapng
SHARED=../shared/data/net/pcap
if [ -d "$SHARED" ] && [ ! -f "$REAL" ]; then
  "$BIN" synth --replay "$SHARED" --copies "$COPIES" --out target/bench/real
fi

bench() {
  local name=$1 cap=$2
  local bytes packets
  bytes=$(stat -c %s "$cap")
  # Packet count from the scan's own summary line (the scan exits 1: it finds miners).
  packets=$( { "$BIN" scan --format jsonl "$cap" 2>&1 >/dev/null || true; } | sed -n 's/.* file(s), \([0-9]*\) packets.*/\1/p')
  echo "== $name: $cap, $bytes bytes, $packets packets"
  cat "$cap" > /dev/null   # warm the page cache for every contender alike
  # Alternating runs (read, minewatch, ndpiReader, two threads, then again), medians of wall
  # and of CPU time (user + system) per command: bench/alternate.py.
  python3 bench/alternate.py 11 2 "target/bench/scan-$name.json" \
    "read=taskset -c 1 cat $cap" \
    "minewatch=taskset -c 1 $BIN scan -q --format jsonl $cap" \
    "ndpiReader=taskset -c 1 ndpiReader -i $cap -q" \
    "minewatch-2-threads=$BIN scan -q --format jsonl --threads 2 $cap"
  python3 - "$packets" "$bytes" "target/bench/scan-$name.json" <<'PY'
import json, sys
packets, size, path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
r = json.load(open(path))
for name, x in r.items():
    t = x["wall_median"]
    print(f"{name:22s} wall {t:7.3f} s  cpu {x['cpu_median']:7.3f} s  {packets / t / 1e6:6.2f} Mpkt/s  {size * 8 / t / 1e9:6.2f} Gbit/s")
mw, nd, rd = (r[k]["cpu_median"] for k in ("minewatch", "ndpiReader", "read"))
print(f"minewatch vs ndpiReader, CPU time: {nd / mw:.2f}x")
print(f"minewatch vs reading the file, CPU time: {mw / rd:.1f}x")
print(f"2 threads vs 1 (wall): {r['minewatch']['wall_median'] / r['minewatch-2-threads']['wall_median']:.2f}x")
PY
  for cmd in "$BIN scan -q --format jsonl $cap" "$BIN scan -q --format jsonl --threads 2 $cap" "ndpiReader -i $cap -q"; do
    /usr/bin/time -f "peak RSS %M KiB: $cmd" $cmd > /dev/null 2> >(grep "peak RSS" >&2) || true
  done
}

bench population "$SYN"
if [ -f "$REAL" ]; then
  bench real "$REAL"
else
  echo "NOTICE: $SHARED is not here: no real-traffic row"
fi
