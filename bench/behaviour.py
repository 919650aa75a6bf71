#!/usr/bin/env python3
"""Precision and recall of the behaviour detector on encrypted sessions (real TLS 1.3).

Usage: python3 bench/behaviour.py [--minewatch target/release/minewatch] [--sessions 100]
       [--minutes 30] [--seed 7] [--background target/bench/background.pcap]

Writes `minewatch synth --encrypted N` (N TLS mining sessions, N long-lived TLS look-alikes),
scans it without and with the coins' block times, and prints a Markdown table per look-alike
kind. With --background, also counts behaviour detections on ordinary synthetic traffic.
"""
import argparse, collections, json, os, subprocess, tempfile

def scan(mw, files, extra):
    out = subprocess.run([mw, "scan", "--format", "jsonl", "--quiet", *extra, *files],
                         capture_output=True, text=True)
    if out.returncode not in (0, 1):
        raise SystemExit(out.stderr)
    return [json.loads(l) for l in out.stdout.splitlines() if l.strip()]

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minewatch", default="target/release/minewatch")
    ap.add_argument("--sessions", type=int, default=100)
    ap.add_argument("--minutes", type=int, default=30)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--background")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([a.minewatch, "synth", "--encrypted", str(a.sessions), "--minutes",
                        str(a.minutes), "--seed", str(a.seed), "--out", d], check=True,
                       capture_output=True)
        truth = [json.loads(l) for l in open(os.path.join(d, "truth.jsonl"))]
        pcap = os.path.join(d, "encrypted.pcapng")
        blocks = ["--block-times", os.path.join(d, "btc.txt"),
                  "--block-times", os.path.join(d, "xmr.txt")]
        print("| block times | kind | sessions | flagged | of which block rhythm (coin right) |")
        print("|---|---|---|---|---|")
        for label, extra in (("no", []), ("yes", blocks)):
            det = scan(a.minewatch, [pcap], extra)
            by = {(x["source"]["ip"], x["source"]["port"]): x for x in det}
            rows = collections.defaultdict(lambda: [0, 0, 0, 0])
            tp = fp = fn = 0
            for t in truth:
                kind = t["name"].rsplit("-", 1)[0]
                x = by.get((t["client_ip"], t["client_port"]))
                r = rows[kind]
                r[0] += 1
                if x:
                    r[1] += 1
                    if x["mining"].get("coin_source") == "block-rhythm":
                        r[2] += 1
                        r[3] += str(x["mining"].get("coin", "")).lower() == (t.get("coin") or "")
                if t["mining"] and x: tp += 1
                elif t["mining"]: fn += 1
                elif x: fp += 1
            for kind, (n, f, rh, ok) in sorted(rows.items()):
                print(f"| {label} | {kind} | {n} | {f} | {rh} ({ok}) |")
            p = tp / (tp + fp) if tp + fp else 1.0
            r = tp / (tp + fn) if tp + fn else 1.0
            print(f"| {label} | **all** | {len(truth)} | precision {p:.3f} | recall {r:.3f} |")
        if a.background:
            det = scan(a.minewatch, [a.background], [])
            flows = sum(1 for x in det if x["mining"]["detector"] == "behaviour")
            print(f"\nbehaviour detections on {a.background}: {flows}")

main()
