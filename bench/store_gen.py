#!/usr/bin/env python3
"""Writes a registry and evidence at scale for bench/store_speed.sh.

sites.csv, subscribers.csv (one per site), ip-assignments.csv (weekly leases over four weeks,
addresses rotating between subscribers), meters.csv, detections.jsonl (minewatch scan lines from
leased addresses at leased times, plus 1 % from addresses nobody leased) and suspects.jsonl
(power scan rows for 1 % of the meters). Deterministic for a given seed.
"""
import argparse, json, os, random

ap = argparse.ArgumentParser()
ap.add_argument("--sites", type=int, default=100_000)
ap.add_argument("--detections", type=int, default=1_000_000)
ap.add_argument("--seed", type=int, default=1)
ap.add_argument("--out", required=True)
a = ap.parse_args()
rnd = random.Random(a.seed)
os.makedirs(a.out, exist_ok=True)
counties = ["150202", "150602", "511802", "532301", "652301", "150203", "511803", "532302"]
T0 = 1_709_222_400  # 2024-03-01T00:00:00+08:00
WEEK = 7 * 86_400
def ip(n):
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"
with open(f"{a.out}/sites.csv", "w") as f:
    f.write("site_id,address,region_code,tariff_class\n")
    for i in range(a.sites):
        f.write(f"S{i},No. {i} Road,{counties[i % len(counties)]},residential\n")
with open(f"{a.out}/subscribers.csv", "w") as f:
    f.write("subscriber_id,site_id\n")
    for i in range(a.sites):
        f.write(f"U{i},S{i}\n")
with open(f"{a.out}/meters.csv", "w") as f:
    f.write("meter_id,site_id\n")
    for i in range(a.sites):
        f.write(f"M{i},S{i}\n")
with open(f"{a.out}/ip-assignments.csv", "w") as f:
    f.write("ip,start,end,subscriber_id\n")
    for w in range(4):
        for i in range(a.sites):
            f.write(f"{ip((i + w * 7919) % a.sites + 1)},{T0 + w * WEEK},{T0 + (w + 1) * WEEK},U{i}\n")
with open(f"{a.out}/detections.jsonl", "w") as f:
    for k in range(a.detections):
        i = rnd.randrange(a.sites)
        w = rnd.randrange(4)
        t = T0 + w * WEEK + rnd.randrange(WEEK - 600)
        addr = ip((i + w * 7919) % a.sites + 1) if rnd.random() > 0.01 else f"172.16.{rnd.randrange(256)}.{rnd.randrange(256)}"
        start = f"{t}"
        ev = {"event": {"dataset": "minewatch.scan",
                        "start": __import__("datetime").datetime.utcfromtimestamp(t).strftime("%Y-%m-%dT%H:%M:%SZ"),
                        "end": __import__("datetime").datetime.utcfromtimestamp(t + 300).strftime("%Y-%m-%dT%H:%M:%SZ")},
              "source": {"ip": addr, "port": 20000 + k % 40000},
              "destination": {"ip": "203.0.113.9", "port": 3333},
              "mining": {"detector": "stratum", "coin": "BTC", "pool": "203.0.113.9:3333", "worker": f"w{i % 3}",
                         "hashrate_hs": 1.0e14, "power_w": 3000.0, "power_w_low": 1500.0, "power_w_high": 6000.0,
                         "confidence": 1.0}}
        f.write(json.dumps(ev, separators=(",", ":")) + "\n")
with open(f"{a.out}/suspects.jsonl", "w") as f:
    for i in range(0, a.sites, 100):
        f.write(json.dumps({"meter_id": f"M{i}", "score": 0.8, "suspected": True, "onset": "2024-02-10",
                            "mining_kw": 12.5, "hashrate_ths": 380.0, "window_start": "2024-03-01",
                            "window_end": "2024-03-28", "reasons": [{"code": "flat", "en": "flat", "zh": "平"}]},
                           separators=(",", ":")) + "\n")
