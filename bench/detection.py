#!/usr/bin/env python3
"""Precision and recall of `minewatch scan` and of ndpiReader on the same labelled captures.

Usage: python3 bench/detection.py [--minewatch target/release/minewatch] [--shared ../shared/data]
                                  [--encrypted 50]

Labelled sets:
  * shared/data/net/pcap (real captures; labels below, from shared/data/README.md), when present;
  * the project's own scripted corpus (`minewatch synth`, truth.jsonl beside the captures);
  * the encrypted corpus (`minewatch synth --encrypted N`: TLS-sealed miners and long-lived
    look-alikes, industrial polling included), minewatch only (ndpiReader sees TLS only).
Also prints minewatch's precision per detector (`mining.detector`) over all sets.
A session counts once per capture file. A tool's flow matches a labelled session when one of
its endpoints is the session's miner endpoint. Prints a Markdown table for docs/DETECTION.md.
"""
import argparse, json, os, re, subprocess, sys, tempfile
from collections import defaultdict

SHARED_LABELS = {
    "ndpi_mining.pcapng": ["147.229.13.222:49307", "192.168.2.92:55190", "192.168.2.148:46838", "192.168.2.148:53846"],
    "ndpi42_monero_stratum.pcap": ["192.168.2.148:46838", "192.168.2.148:53846"],
    "ndpi_old_zcash.pcap": ["192.168.2.92:55190"],
    "peafowl_ethereum_jsonrpc.pcap": ["192.168.2.92:57726", "192.168.2.92:41680"],
    "ndpi_bitcoin.pcap": [], "peafowl_bitcoin.pcap": [], "ndpi_ethereum.pcap": [],
    "ndpi_monero.pcap": [], "ndpi_nano.pcapng": [], "ndpi_jsonrpc_negative.pcap": [],
    "peafowl_ethereum-js-http.pcap": [],
}

FLOW = re.compile(r"^\s*\d+\s+(TCP|UDP)\s+(\S+)\s+<->\s+(\S+)\s+\[proto:\s*[\d.]+/([^\]]+)\]")

def ep(s):
    # ndpiReader writes IPv6 as [addr]:port
    return s.replace("[", "").replace("]", "")

def minewatch_found(binary, path):
    """{miner endpoint: detector} of the sessions minewatch reports."""
    out = subprocess.run([binary, "scan", "--format", "jsonl", "-q", path], capture_output=True, text=True)
    found = {}
    for line in out.stdout.splitlines():
        d = json.loads(line)
        # DNS lookups are reported per client and name, not per session: not counted here.
        if d["mining"]["detector"] == "pool-dns":
            continue
        found[f"{d['source']['ip']}:{d['source']['port']}"] = d["mining"]["detector"]
    return found

def ndpi_found(path):
    out = subprocess.run(["ndpiReader", "-i", path, "-v", "2"], capture_output=True, text=True)
    found = []
    for line in out.stdout.splitlines():
        m = FLOW.match(line)
        if m and "Mining" in m.group(4):
            found.append({ep(m.group(2)), ep(m.group(3))})
    return found

def score(truth, found_sets):
    """truth: list of miner endpoints; found_sets: list of endpoint sets (one per flagged flow)."""
    tp = sum(1 for t in truth if any(t in f for f in found_sets))
    fp = sum(1 for f in found_sets if not any(t in f for t in truth))
    return tp, fp, len(truth) - tp

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minewatch", default="target/release/minewatch")
    ap.add_argument("--shared", default="../shared/data")
    ap.add_argument("--encrypted", type=int, default=50, help="sessions of the encrypted set (0: none)")
    a = ap.parse_args()
    have_ndpi = subprocess.run(["which", "ndpiReader"], capture_output=True).returncode == 0
    sets = []
    pcap_dir = os.path.join(a.shared, "net", "pcap")
    if os.path.isdir(pcap_dir):
        sets.append(("shared", [(os.path.join(pcap_dir, f), t) for f, t in SHARED_LABELS.items() if os.path.exists(os.path.join(pcap_dir, f))]))
    tmp = tempfile.mkdtemp()
    subprocess.run([a.minewatch, "synth", "--out", tmp], check=True, capture_output=True)
    synth = []
    for line in open(os.path.join(tmp, "truth.jsonl")):
        t = json.loads(line)
        synth.append((os.path.join(tmp, t["name"] + ".pcap"), [f"{t['client_ip']}:{t['client_port']}"] if t["mining"] else []))
    sets.append(("synth", synth))
    if a.encrypted:
        enc = tempfile.mkdtemp()
        subprocess.run([a.minewatch, "synth", "--encrypted", str(a.encrypted), "--minutes", "30",
                        "--seed", "7", "--out", enc], check=True, capture_output=True)
        truth = [json.loads(l) for l in open(os.path.join(enc, "truth.jsonl"))]
        sets.append(("encrypted", [(os.path.join(enc, "encrypted.pcapng"),
                                    [f"{t['client_ip']}:{t['client_port']}" for t in truth if t["mining"]])]))

    print("| set | capture | sessions | minewatch TP/FP/FN | ndpiReader TP/FP/FN |")
    print("|---|---|---|---|---|")
    totals = defaultdict(lambda: [0, 0, 0])
    per_detector = defaultdict(lambda: [0, 0])
    for name, files in sets:
        for path, truth in files:
            found = minewatch_found(a.minewatch, path)
            for e, det in found.items():
                per_detector[det][0 if e in truth else 1] += 1
            mw = score(truth, [{e} for e in found])
            nd = score(truth, ndpi_found(path)) if have_ndpi and name != "encrypted" else None
            for k, v in (("mw", mw), ("nd", nd)):
                if v:
                    for i in range(3):
                        totals[(name, k)][i] += v[i]
                        totals[("all", k)][i] += v[i]
            fmt = lambda v: "/".join(map(str, v)) if v else "n/a"
            print(f"| {name} | {os.path.basename(path)} | {len(truth)} | {fmt(mw)} | {fmt(nd)} |")
    print()
    print("| set | tool | TP | FP | FN | precision | recall |")
    print("|---|---|---|---|---|---|---|")
    for name in [n for n, _ in sets] + ["all"]:
        for k, label in (("mw", "minewatch"), ("nd", "ndpiReader")):
            tp, fp, fn = totals[(name, k)]
            if k == "nd" and (not have_ndpi or name == "encrypted"):
                continue
            p = tp / (tp + fp) if tp + fp else 1.0
            r = tp / (tp + fn) if tp + fn else 1.0
            print(f"| {name} | {label} | {tp} | {fp} | {fn} | {p:.2f} | {r:.2f} |")
    print()
    print("| minewatch detector | right | wrong | precision |")
    print("|---|---|---|---|")
    for det, (right, wrong) in sorted(per_detector.items()):
        print(f"| {det} | {right} | {wrong} | {right / (right + wrong):.3f} |")

if __name__ == "__main__":
    sys.exit(main())
