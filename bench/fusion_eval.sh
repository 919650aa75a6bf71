#!/usr/bin/env bash
# Fusion against the truth of generated regions: runs `minewatch demo` for several seeds and
# sums what it planted and what became cases (score.json of each run).
#   bash bench/fusion_eval.sh [SEEDS] [METERS]
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=${1:-5}
meters=${2:-1000}
cargo build --release -q
out=target/bench/fusion
rm -rf "$out"
for s in $(seq 1 "$seeds"); do
  target/release/minewatch demo --out "$out/seed$s" --meters "$meters" --days 90 --seed "$s" --quiet >/dev/null
done
python3 - "$out" "$seeds" <<'PY'
import json, sys, glob
out, seeds = sys.argv[1], int(sys.argv[2])
tot = {}
streams = {}
for f in sorted(glob.glob(f"{out}/seed*/score.json")):
    s = json.load(open(f))
    for k in ("planted", "cases", "on_planted_site", "on_clean_site", "planted_without_case", "sites", "unattributed_evidence"):
        tot[k] = tot.get(k, 0) + s[k]
    for k, (n, found) in s["by_stream"].items():
        a = streams.setdefault(k, [0, 0]); a[0] += n; a[1] += found
    t = s.get("theft_in_flagged_area", [0, 0])
    tot["theft"] = tot.get("theft", 0) + t[0]; tot["theft_area"] = tot.get("theft_area", 0) + t[1]
clean = tot["sites"] - tot["planted"]
print(f"{seeds} regions, {tot['sites']} sites, {tot['planted']} planted mining sites")
print(f"cases: {tot['cases']}; on a planted site: {tot['on_planted_site']} (precision {tot['on_planted_site']/max(tot['cases'],1):.3f});"
      f" planted sites with a case: {tot['planted']-tot['planted_without_case']} (recall {(tot['planted']-tot['planted_without_case'])/max(tot['planted'],1):.3f})")
print(f"cases on clean sites: {tot['on_clean_site']} of {clean} clean sites ({100*tot['on_clean_site']/max(clean,1):.2f} %)")
for k, (n, found) in sorted(streams.items()):
    print(f"  {k}: {found} of {n} planted sites have a case")
print(f"  rigs wired ahead of the meter (no probe): {tot['theft_area']} of {tot['theft']} in a transformer area flagged for abnormal loss")
print(f"unattributed evidence kept: {tot['unattributed_evidence']}")
# Precision by the streams a case's evidence comes from.
import csv, sqlite3, collections
by = collections.defaultdict(lambda: [0, 0])
for d in sorted(glob.glob(f"{out}/seed*")):
    planted = {r["site_id"] for r in csv.DictReader(open(f"{d}/planted.csv"))}
    for site, streams, conf in sqlite3.connect(f"{d}/minewatch.db").execute(
            "SELECT site_id, streams, confidence FROM cases"):
        key = streams.replace(",", " + ")
        if streams == "grid":
            key += " (confidence >= 0.8)" if conf >= 0.8 else " (confidence < 0.8)"
        by[key][0] += 1
        by[key][1] += site in planted
# How close the meter's mining load comes to the planted one (the basis of METER_POWER_SPREAD).
import json
ratios = []
for d in sorted(glob.glob(f"{out}/seed*")):
    truth = {r["meter_id"]: r for r in csv.DictReader(open(f"{d}/power/truth.csv"))}
    for line in open(f"{d}/suspects.jsonl"):
        sus = json.loads(line)
        t = truth.get(sus["meter_id"])
        if sus["suspected"] and t and t["mining"] == "true" and float(t["mining_kw"] or 0) > 0 and sus["mining_kw"] > 0:
            ratios.append(sus["mining_kw"] / float(t["mining_kw"]))
ratios.sort()
if ratios:
    within = sum(1 for x in ratios if 0.85 <= x <= 1.15)
    print(f"meter mining load / planted load on {len(ratios)} suspected miners: median {ratios[len(ratios) // 2]:.3f}, "
          f"10th-90th percentile {ratios[len(ratios) // 10]:.3f}-{ratios[len(ratios) * 9 // 10]:.3f}, within ±15 %: {within}")
print("cases by the streams that agree: cases, on a planted site, precision")
for k, (n, t) in sorted(by.items()):
    print(f"  {k}: {n}, {t}, {t / n:.2f}")
PY
