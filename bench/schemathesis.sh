#!/usr/bin/env bash
# Tries the API as a client generator would: schemathesis (PyPI, 4.x) builds requests from the
# server's own OpenAPI document and runs every check (`--checks all`: no 5xx, every status and
# content type in the spec, bodies that match their schemas, schema-valid requests accepted,
# schema-violating ones refused), once with an administrator's token and once with a token
# scoped to one city. Fails on any failure.
#   pip install 'schemathesis>=4,<5'; bash bench/schemathesis.sh [MAX_EXAMPLES]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release -q -p minewatch
dir=$(mktemp -d)
port=${PORT:-18183}
trap 'kill $server 2>/dev/null; rm -rf "$dir"' EXIT
mw=target/release/minewatch
db="$dir/demo/minewatch.db"
$mw demo --out "$dir/demo" --meters 200 --days 70 --quiet >/dev/null
$mw users add --name st-admin --role admin --db "$db" >/dev/null 2>&1
$mw users add --name st-city --role coordination --region 1502 --db "$db" >/dev/null 2>&1
admin=$($mw users token --name st-admin --db "$db" 2>/dev/null)
city=$($mw users token --name st-city --db "$db" 2>/dev/null)
$mw serve --db "$db" --listen "127.0.0.1:$port" 2>"$dir/serve.log" &
server=$!
for _ in $(seq 50); do curl -s -o /dev/null "http://127.0.0.1:$port/api/openapi.json" && break; sleep 0.2; done
status=0
for who in admin city; do
  token=${!who}
  echo "== schemathesis as $who"
  # The city's run leaves the account operations out: an administrator's run disabling the
  # city's user would end it (they are refused to the city anyway, which the Rust matrix holds).
  exclude=()
  [ "$who" = city ] && exclude=(--exclude-path-regex '/api/v1/(users|tokens)/.*')
  schemathesis --config-file bench/schemathesis.toml run "http://127.0.0.1:$port/api/openapi.json" -H "Authorization: Bearer $token" \
    --checks all --max-examples "${1:-50}" --seed 1 \
    "${exclude[@]}" \
    --suppress-health-check all --report har --report-har-path "$dir/$who.har" ${ST_ARGS:-} || status=1
  [ -n "${KEEP_HAR:-}" ] && cp "$dir/$who.har" "$KEEP_HAR.$who.har"
done
exit $status
