#!/usr/bin/env bash
# Requests per second and p99 latency of the API on a store of 100,000 cases, with wrk from a
# second process on loopback. Needs the store of bench/store_speed.sh (100,000 sites) and wrk.
#   bash bench/server_speed.sh [DB]
set -euo pipefail
cd "$(dirname "$0")/.."
db=${1:-target/bench/store/s100000-d1000000/mw.db}
[ -f "$db" ] || { echo "no store at $db: run bash bench/store_speed.sh 100000 1000000 first" >&2; exit 2; }
mw=target/release/minewatch
cargo build --release -q
$mw users add --name bench-admin --role admin --db "$db" >/dev/null 2>&1 || true
token=$($mw users token --name bench-admin --label bench --db "$db" 2>/dev/null)
port=18181
$mw serve --db "$db" --listen 127.0.0.1:$port 2>/dev/null &
server=$!
trap 'kill $server 2>/dev/null' EXIT
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/api/openapi.json" && break; sleep 0.2; done
id=$(curl -s -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/cases?limit=1&offset=5000" | python3 -c 'import json,sys; print(json.load(sys.stdin)["cases"][0]["case_id"])')
cases=$(sqlite3 "$db" "SELECT COUNT(*) FROM cases" 2>/dev/null || python3 -c "import sqlite3; print(sqlite3.connect('$db').execute('SELECT COUNT(*) FROM cases').fetchone()[0])")
echo "store: $cases cases; wrk -t2 -c8 -d10s on loopback"
for path in "/api/v1/me" "/api/v1/cases?limit=50" "/api/v1/cases?limit=50&region=1502&state=suspected" "/api/v1/cases/$id" "/api/v1/report/regions"; do
  out=$(wrk -t2 -c8 -d10s --latency -H "Authorization: Bearer $token" "http://127.0.0.1:$port$path")
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
  non2xx=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
  printf "%-52s %10s req/s   p99 %8s   non-2xx %s\n" "$path" "$rps" "$p99" "${non2xx:-0}"
done
