#!/usr/bin/env python3
"""An independent implementation of the multi-input clustering heuristic, written from its
definition, to cross-check `minewatch chain clusters`; and clustering accuracy against the
synthetic economy's ownership truth.

Definition used: every non-coinbase transaction's input addresses have one owner; the relation
is closed transitively; a transaction with at least three inputs and at least three outputs of
one equal value (CoinJoin-shaped) joins nothing.

Usage: python3 bench/cluster_check.py [--blocks 300] [--txs 60] [--users 3000]
Prints whether the two partitions are identical, and a Markdown table of pairwise precision and
recall with the change heuristic off and on.
"""
import argparse, collections, csv, io, sqlite3, subprocess, sys, tempfile, os

def py_clusters(db):
    con = sqlite3.connect(db)
    parent = {}
    def find(x):
        root = x
        while parent.setdefault(root, root) != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root
    for (a,) in con.execute("SELECT DISTINCT address FROM outputs WHERE address IS NOT NULL"):
        find(a)
    equal = {tx for (tx,) in con.execute(
        "SELECT tx FROM outputs GROUP BY tx, value HAVING COUNT(*) >= 3")}
    inputs = collections.defaultdict(set)
    for tx, a in con.execute(
            "SELECT spent_by, address FROM outputs WHERE spent_by IS NOT NULL AND address IS NOT NULL"):
        inputs[tx].add(a)
    for tx, addrs in inputs.items():
        n_in = con.execute("SELECT n_in FROM txs WHERE id = ?", (tx,)).fetchone()[0]
        if n_in >= 3 and tx in equal:
            continue
        addrs = sorted(addrs)
        for b in addrs[1:]:
            ra, rb = find(addrs[0]), find(b)
            if ra != rb:
                parent[rb] = ra
    groups = collections.defaultdict(list)
    for a in list(parent):
        groups[find(a)].append(a)
    return {frozenset(g) for g in groups.values()}

def mw_clusters(mw, db, change):
    args = [mw, "chain", "clusters", "--db", db, "--format", "csv"] + (["--change"] if change else [])
    out = subprocess.run(args, capture_output=True, text=True, check=True)
    groups = collections.defaultdict(list)
    for row in csv.DictReader(io.StringIO(out.stdout)):
        groups[row["cluster"]].append(row["address"])
    return {frozenset(g) for g in groups.values()}, out.stderr

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--minewatch", default="target/release/minewatch")
    ap.add_argument("--blocks", type=int, default=300)
    ap.add_argument("--txs", type=int, default=60)
    ap.add_argument("--users", type=int, default=3000)
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([a.minewatch, "chain", "generate", "--out", d, "--blocks", str(a.blocks),
                        "--txs", str(a.txs), "--users", str(a.users)], check=True, capture_output=True)
        db = os.path.join(d, "chain.db")
        subprocess.run([a.minewatch, "chain", "index", d, "--db", db, "-q"], check=True, capture_output=True)
        mine, _ = mw_clusters(a.minewatch, db, False)
        ref = py_clusters(db)
        print(f"partitions identical: {mine == ref} ({len(mine)} clusters, "
              f"{sum(len(g) for g in mine)} addresses)")
        print("\n| change heuristic | clusters | pairwise precision | pairwise recall |")
        print("|---|---|---|---|")
        truth = os.path.join(d, "owners.csv")
        for change in (False, True):
            groups, err = mw_clusters(a.minewatch, db, change) if change else (mine, None)
            if err is None:
                err = subprocess.run([a.minewatch, "chain", "clusters", "--db", db, "--truth", truth,
                                      "--format", "csv"], capture_output=True, text=True).stderr
            else:
                err = subprocess.run([a.minewatch, "chain", "clusters", "--db", db, "--truth", truth,
                                      "--change", "--format", "csv"], capture_output=True, text=True).stderr
            line = [l for l in err.splitlines() if "precision" in l][0]
            p = line.split("precision ")[1].split(",")[0]
            r = line.split("recall ")[1]
            print(f"| {'on' if change else 'off'} | {len(groups)} | {p} | {r} |")
        if mine != ref:
            sys.exit(1)

main()
