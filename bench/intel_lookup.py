#!/usr/bin/env python3
"""The peer approach to trail matching, timed on minewatch's input: a set of listed domains and
a walk over each name's label suffixes, as Python trail matchers such as maltrail do it.

Usage: python3 bench/intel_lookup.py DIR   (DIR from `cargo bench -p minewatch-intel --bench
lookup -- DIR`: names.txt, domains.txt). Prints lookups per second and the hit count, which
must equal the Rust bench's.
"""
import statistics, sys, time

d = sys.argv[1]
listed = set(l.strip() for l in open(f"{d}/domains.txt") if l.strip())
names = [l.strip() for l in open(f"{d}/names.txt") if l.strip()]

def lookup(name):
    name = name.lower().rstrip(".")
    parts = name.split(".")
    for i in range(len(parts)):
        if ".".join(parts[i:]) in listed:
            return True
    return False

rates, hits = [], 0
for _ in range(5):
    t = time.perf_counter()
    hits = sum(1 for n in names if lookup(n))
    rates.append(len(names) / (time.perf_counter() - t))
print(f"python suffix-set lookups: {statistics.median(rates):.0f}/s ({hits} of {len(names)} listed)")
