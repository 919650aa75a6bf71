#!/usr/bin/env python3
"""The peer for bench/store_speed.sh: the same job done the plain way with Python's sqlite3.

Loads the registry CSVs and the scan lines (json.loads, executemany), attributes each session to
a site with one SQL join on the leases at the session's time, and groups the attributed sessions
into one row per site (count, first and last sighting, largest power). No content ids, no
provenance, no lifecycle: the least work that gives the same cases.
"""
import csv, json, sqlite3, sys
from datetime import datetime

d, db = sys.argv[1], sys.argv[2]
c = sqlite3.connect(db)
c.executescript("""
PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA cache_size = -65536;
CREATE TABLE leases (ip TEXT, start INTEGER, end INTEGER, sub TEXT);
CREATE TABLE subs (sub TEXT PRIMARY KEY, site TEXT);
CREATE TABLE ev (ip TEXT, port INTEGER, t INTEGER, t_end INTEGER, power REAL, site TEXT);
""")
with open(f"{d}/ip-assignments.csv") as f:
    r = csv.reader(f); next(r)
    c.executemany("INSERT INTO leases VALUES (?, ?, ?, ?)", ((a, int(b), int(e), s) for a, b, e, s in r))
with open(f"{d}/subscribers.csv") as f:
    r = csv.reader(f); next(r)
    c.executemany("INSERT INTO subs VALUES (?, ?)", r)
c.execute("CREATE INDEX leases_ip ON leases (ip, start)")
def rows():
    with open(f"{d}/detections.jsonl") as f:
        for line in f:
            v = json.loads(line)
            t = int(datetime.fromisoformat(v["event"]["start"].replace("Z", "+00:00")).timestamp())
            te = int(datetime.fromisoformat(v["event"]["end"].replace("Z", "+00:00")).timestamp())
            yield (v["source"]["ip"], v["source"]["port"], t, te, v["mining"].get("power_w"))
c.executemany("INSERT INTO ev (ip, port, t, t_end, power) VALUES (?, ?, ?, ?, ?)", rows())
c.execute("""UPDATE ev SET site = (SELECT s.site FROM leases l JOIN subs s ON s.sub = l.sub
             WHERE l.ip = ev.ip AND l.start <= ev.t AND ev.t < l.end)""")
c.execute("""CREATE TABLE cases AS SELECT site, COUNT(*) AS n, MIN(t) AS first, MAX(t_end) AS last,
             MAX(power) AS power FROM ev WHERE site IS NOT NULL GROUP BY site""")
c.commit()
n = c.execute("SELECT COUNT(*) FROM cases").fetchone()[0]
print(f"peer: {n} cases", file=sys.stderr)
