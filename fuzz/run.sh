#!/usr/bin/env bash
# Runs every fuzz target for SECONDS each (default 300), two at a time, on stable Rust
# (RUSTC_BOOTSTRAP lets cargo-fuzz use the sanitizer flags). Crashers land in artifacts/.
set -euo pipefail
cd "$(dirname "$0")"
SECS=${1:-300}
export RUSTC_BOOTSTRAP=1
cargo fuzz build -O
run() { cargo fuzz run -O "$1" "corpus/$1" -- -max_total_time="$SECS" -rss_limit_mb=2048 -max_len=65536 2>&1 | tail -4; }
mkdir -p corpus/capture_reader corpus/packet_decoder corpus/stratum_parser corpus/flow_inspector
run capture_reader & run packet_decoder & wait
run stratum_parser & run flow_inspector & wait
