#!/usr/bin/env bash
# `minewatch power scan` on realistic regions (`power generate --mix realistic`: the classic
# county plus aerators, greenhouse lighting, electric boilers, office server rooms and base
# stations as hard negatives, GPUs at home and rigs behind shop counters as subtle miners), for
# the sealed seeds that scoring is never tuned on (power::eval::SEALED_SEEDS), with weather.
# Prints, per seed, the summary and the false alarms and finds per kind, then the same with the
# region's registers of legitimate loads as the allow-list (what each register removed).
#
# Usage: bash bench/power_realistic.sh [METERS] [DAYS] [SEEDS...]   (default 1312 365 1001 ... 1010)
set -euo pipefail
cd "$(dirname "$0")/.."
METERS=${1:-1312}
DAYS=${2:-365}
shift 2 2>/dev/null || shift $#
SEEDS=("$@")
[ ${#SEEDS[@]} -gt 0 ] || SEEDS=(1001 1002 1003 1004 1005 1006 1007 1008 1009 1010)
cargo build --release -q -p minewatch
BIN=$PWD/target/release/minewatch
for seed in "${SEEDS[@]}"; do
  DIR=target/bench/realistic-$METERS-$DAYS-$seed
  [ -f "$DIR/registers.csv" ] || "$BIN" power generate --meters "$METERS" --days "$DAYS" --seed "$seed" \
    --miner-share 0.06 --mix realistic --out "$DIR" 2>/dev/null
  echo "== seed $seed"
  # power scan exits 1 when it suspects a meter (as grep does on a match).
  { "$BIN" power scan "$DIR/readings.csv" --customers "$DIR/customers.csv" --weather "$DIR/weather.csv" \
    --truth "$DIR/truth.csv" --format jsonl 2>&1 >/dev/null || true; } | grep -E "against|by legitimate|by miner|suspected"
  echo "-- with the registers of legitimate loads (--allow registers.csv)"
  { "$BIN" power scan "$DIR/readings.csv" --customers "$DIR/customers.csv" --weather "$DIR/weather.csv" \
    --allow "$DIR/registers.csv" --truth "$DIR/truth.csv" --format jsonl 2>&1 >/dev/null || true; } \
    | grep -E "against|by legitimate|allow-list|suspected"
done
