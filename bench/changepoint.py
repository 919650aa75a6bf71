#!/usr/bin/env python3
"""Change points of minewatch's PELT against the `ruptures` library (PyPI) on the same series.

Usage: python3 bench/changepoint.py [--minewatch target/release/minewatch] [--shared ../shared/data]

Series: ElectricDevices from shared/data/power/sktime_ucr (UCR archive via sktime 1.2.0, BSD-3),
with change points documented at 1090, 4436, 5712, 7923. Its segments are z-normalised, so they
differ in variance, not mean: both tools run the Gaussian mean-and-variance cost (ruptures
`model="normal"`, minewatch `--model normal`) with the same penalty and minimum segment length.
F1 counts a detected point as right when it is within MARGIN samples of a documented one.
"""
import argparse, json, os, subprocess, sys, time

TRUTH = [1090, 4436, 5712, 7923]
MARGIN = 100

def f1(found, truth=TRUTH, margin=MARGIN):
    used, tp = set(), 0
    for t in truth:
        hit = [f for f in found if abs(f - t) <= margin and f not in used]
        if hit:
            used.add(hit[0]); tp += 1
    p = tp / len(found) if found else 0.0
    r = tp / len(truth)
    return (2 * p * r / (p + r) if p + r else 0.0), p, r

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minewatch", default="target/release/minewatch")
    ap.add_argument("--shared", default="../shared/data")
    a = ap.parse_args()
    path = os.path.join(a.shared, "power", "sktime_ucr", "ElectricDevices.csv")
    if not os.path.exists(path):
        print(f"NOTICE: {path} not present; nothing to compare"); return 0
    import numpy as np, ruptures as rpt
    x = np.loadtxt(path, delimiter=",")[:, 1]
    print(f"| penalty | tool | change points | precision | recall | F1 | seconds |")
    print("|---|---|---|---|---|---|---|")
    for pen in [50, 100, 200]:
        out = json.loads(subprocess.run([a.minewatch, "power", "changepoints", path, "--model", "normal",
                                         "--penalty", str(pen), "--min-size", "20"], capture_output=True, text=True, check=True).stdout)
        cps = out["change_points"]
        f, p, r = f1(cps)
        print(f"| {pen} | minewatch | {len(cps)} | {p:.2f} | {r:.2f} | {f:.2f} | {out['seconds']:.3f} |")
        t = time.time()
        rc = rpt.Pelt(model="normal", min_size=20, jump=5).fit(x).predict(pen=pen)[:-1]
        secs = time.time() - t
        f, p, r = f1(rc)
        print(f"| {pen} | ruptures (jump=5) | {len(rc)} | {p:.2f} | {r:.2f} | {f:.2f} | {secs:.3f} |")
        sys.stdout.flush()

if __name__ == "__main__":
    sys.exit(main())
