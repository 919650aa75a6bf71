#!/usr/bin/env bash
# Ranking quality of `minewatch power scan` on generated regions with known truth: several
# seeds and miner shares, with and without weather. Prints a Markdown table.
#
# Usage: bash bench/power_eval.sh [METERS] [DAYS]      (default 2000 365)
set -euo pipefail
cd "$(dirname "$0")/.."
METERS=${1:-2000}
DAYS=${2:-365}
cargo build --release -q
BIN=$PWD/target/release/minewatch
echo "| seed | miner share | weather | meters | visible miners | P@10 | P@50 | P@miners | precision | recall | FPR | AUC |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
for seed in 1 2 3; do
  for share in 0.01 0.03; do
    DIR=target/bench/eval-$seed-$share
    [ -f "$DIR/readings.csv" ] || "$BIN" power generate --meters "$METERS" --days "$DAYS" --seed "$seed" --miner-share "$share" --out "$DIR" 2>/dev/null
    for w in no yes; do
      W=(); [ "$w" = yes ] && W=(--weather "$DIR/weather.csv")
      LINE=$({ "$BIN" power scan "$DIR/readings.csv" --customers "$DIR/customers.csv" "${W[@]}" --truth "$DIR/truth.csv" --format jsonl 2>&1 >/dev/null || true; } | grep "against")
      python3 - "$seed" "$share" "$w" "$LINE" <<'PY'
import re, sys
seed, share, w, line = sys.argv[1:5]
n = re.search(r"against (\d+) labels \((\d+) positive\)", line)
pk = dict(re.findall(r"@(\d+) ([0-9.]+)", line))
p = re.search(r"precision ([0-9.]+), recall ([0-9.]+), false-positive rate ([0-9.]+); AUC ([0-9.]+)", line)
pos = n.group(2)
print(f"| {seed} | {share} | {w} | {n.group(1)} | {pos} | {pk.get('10','')} | {pk.get('50','')} | {pk.get(pos,'')} | {p.group(1)} | {p.group(2)} | {p.group(3)} | {p.group(4)} |")
PY
    done
  done
done
