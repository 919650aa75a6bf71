#!/usr/bin/env bash
# Intel speed: lookups per second against the peer approach (a Python suffix set, as maltrail
# matches trails) on the same names, and the scan's packet rate with intel on against off.
#
# Usage: bash bench/intel_speed.sh      (needs hyperfine; uses target/bench/background.pcap from
#                                        bench/scan_speed.sh, or writes a 400 MB one)
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="$PWD/target/bench/intel"
cargo bench -q -p minewatch-intel --bench lookup -- "$OUT"
python3 bench/intel_lookup.py "$OUT"
cargo build --release -q
BIN=target/release/minewatch
CAP=target/bench/background.pcap
[ -f "$CAP" ] || "$BIN" synth --out target/bench --background-mb 400
cat "$CAP" > /dev/null
hyperfine --warmup 1 --runs 7 -N -i --export-json target/bench/intel-scan.json \
  -n intel-on "taskset -c 1 $BIN scan -q --format jsonl $CAP" \
  -n intel-off "taskset -c 1 $BIN scan -q --format jsonl --no-intel $CAP" \
  --output=null
python3 - <<'PY'
import json
r = {x["command"]: x["median"] for x in json.load(open("target/bench/intel-scan.json"))["results"]}
print(f"scan time with intel / without: {r['intel-on'] / r['intel-off']:.3f}")
PY
