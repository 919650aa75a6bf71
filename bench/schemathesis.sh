#!/usr/bin/env bash
# Fuzzes the API from its own OpenAPI document with schemathesis (PyPI) and fails on any 5xx.
#   pip install schemathesis; bash bench/schemathesis.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q
dir=$(mktemp -d)
trap 'kill $server 2>/dev/null; rm -rf "$dir"' EXIT
mw=target/release/minewatch
$mw demo --out "$dir/demo" --meters 200 --days 70 --quiet >/dev/null
$mw users add --name st-admin --role admin --db "$dir/demo/minewatch.db" >/dev/null 2>&1
token=$($mw users token --name st-admin --db "$dir/demo/minewatch.db" 2>/dev/null)
$mw serve --db "$dir/demo/minewatch.db" --listen 127.0.0.1:18183 2>/dev/null &
server=$!
for _ in $(seq 50); do curl -s -o /dev/null http://127.0.0.1:18183/api/openapi.json && break; sleep 0.2; done
schemathesis run http://127.0.0.1:18183/api/openapi.json -H "Authorization: Bearer $token" \
  --checks not_a_server_error --max-examples "${1:-100}"
