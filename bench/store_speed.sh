#!/usr/bin/env bash
# Store throughput: registry import, ingest (parse, attribute, store, fuse into cases) and the
# regional report, on SQLite and PostgreSQL, beside a plain Python sqlite3 peer doing the least
# work that gives the same cases (bench/store_peer.py). Prints wall times, peak memory and the
# ratio to the peer. Needs GNU time; PostgreSQL via scripts/pg-cluster.sh.
#   bash bench/store_speed.sh [SITES] [DETECTIONS]
set -euo pipefail
cd "$(dirname "$0")/.."
sites=${1:-100000}
dets=${2:-1000000}
dir=target/bench/store/s${sites}-d${dets}
mw=target/release/minewatch
cargo build --release -q
[ -f "$dir/detections.jsonl" ] || python3 bench/store_gen.py --sites "$sites" --detections "$dets" --out "$dir"
run() { # label, command...
  local label=$1; shift
  /usr/bin/time -f "%e %M" -o "$dir/time.txt" "$@" >/dev/null 2>"$dir/err.txt" || { cat "$dir/err.txt"; exit 1; }
  read -r secs kb < "$dir/time.txt"
  printf "%-34s %8.1f s %8.0f MiB\n" "$label" "$secs" "$((kb / 1024))"
  echo "$secs" > "$dir/last.txt"
}
echo "sites $sites, detections $dets (+ $((sites / 100)) power rows)"
rm -f "$dir/peer.db"*
run "peer (python sqlite3)" python3 bench/store_peer.py "$dir" "$dir/peer.db"
peer=$(cat "$dir/last.txt")
engines=("$dir/mw.db")
if url=$(scripts/pg-cluster.sh start 2>/dev/null); then
  psql -q "$url" -c "DROP DATABASE IF EXISTS mw_bench" -c "CREATE DATABASE mw_bench" >/dev/null
  engines+=("${url%/*}/mw_bench")
fi
for db in "${engines[@]}"; do
  case $db in postgres*) name=postgresql ;; *) name=sqlite; rm -f "$db"* ;; esac
  run "$name registry import" $mw registry import "$dir/sites.csv" "$dir/subscribers.csv" "$dir/ip-assignments.csv" "$dir/meters.csv" --db "$db"
  reg=$(cat "$dir/last.txt")
  run "$name ingest (store, attribute)" $mw ingest --no-fuse "$dir/detections.jsonl" "$dir/suspects.jsonl" --db "$db"
  ing=$(cat "$dir/last.txt")
  run "$name fuse into cases" $mw cases fuse --db "$db"
  fus=$(cat "$dir/last.txt")
  run "$name ingest again (all known)" $mw ingest "$dir/detections.jsonl" "$dir/suspects.jsonl" --db "$db"
  run "$name report regions" $mw report regions --db "$db" --format csv
  awk -v n="$dets" -v i="$ing" -v f="$fus" -v r="$reg" -v p="$peer" -v e="$name" 'BEGIN {
    printf "%s: %.0f detections/s ingested; import + ingest + fuse %.1f s = %.2fx the peer\n", e, n / i, r + i + f, (r + i + f) / p }'
done
