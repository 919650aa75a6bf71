#!/usr/bin/env bash
# Runs fuzz targets for SECONDS each (default 300), JOBS at a time (default 2), on stable Rust
# (RUSTC_BOOTSTRAP lets cargo-fuzz use the sanitizer flags). Crashers land in artifacts/; each
# one found is kept as a regression test in the crate it broke.
#   bash fuzz/run.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")"
SECS=${1:-300}
shift || true
JOBS=${JOBS:-2}
export RUSTC_BOOTSTRAP=1
TARGETS=("$@")
if [ ${#TARGETS[@]} -eq 0 ]; then
  TARGETS=(capture_reader packet_decoder stratum_parser flow_inspector http_message dns_message
    tls_client_hello sv2_frames pcapng_blocks meter_csv block_files)
fi
cargo fuzz build -O
run() {
  mkdir -p "corpus/$1"
  echo "== $1"
  cargo fuzz run -O "$1" "corpus/$1" -- -max_total_time="$SECS" -rss_limit_mb=2048 \
    -max_len=65536 2>&1 | grep -E "^#[0-9]+ +DONE|SUMMARY|ERROR|Done [0-9]+ runs" | tail -3
}
i=0
for t in "${TARGETS[@]}"; do
  run "$t" &
  i=$((i + 1))
  if [ $((i % JOBS)) -eq 0 ]; then wait; fi
done
wait
