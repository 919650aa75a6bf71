#!/usr/bin/env bash
# `minewatch chain blocks` against blocks_iterator (crates.io, MIT; driven by the minimal harness
# in bench/chain-peer) on the same synthetic block directory: time and peak memory, as ratios.
# Both read every block in height order with its previous outputs and compute fees; their block,
# transaction and fee totals are printed to check they did the same work.
#
# Usage: bash bench/chain_speed.sh [BLOCKS]   (default 7500 blocks, about 1.1 GB; needs hyperfine
#                                             and GNU time)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-7500}
cargo build --release -q
(cd bench/chain-peer && cargo build --release -q)
BIN=target/release/minewatch
PEER=bench/chain-peer/target/release/chain-peer
DIR=target/bench/chain-$N
if [ ! -d "$DIR/blocks" ]; then
  "$BIN" chain generate --out "$DIR" --blocks "$N" --txs 1000 --users 200000
  mkdir -p "$DIR/blocks" && mv "$DIR"/blk*.dat "$DIR/blocks/"
fi
du -sb "$DIR/blocks"
"$PEER" "$DIR/blocks"
# blocks_iterator holds back the last 6 blocks (max_reorg): compare the same prefix.
"$BIN" chain blocks "$DIR/blocks" --format csv -q | python3 -c "
import sys, csv
r = sorted(csv.DictReader(sys.stdin), key=lambda x: int(x['height']))[:-6]
print('minewatch blocks', len(r), 'txs', sum(int(x['txs']) for x in r), 'fees', sum(int(x['fees_sat']) for x in r))"
cat "$DIR"/blocks/* > /dev/null
hyperfine --warmup 1 --runs 3 -N --export-json target/bench/chain.json \
  -n minewatch "$BIN chain blocks $DIR/blocks --format csv -q" \
  -n blocks_iterator "$PEER $DIR/blocks" --output=null
for c in "$BIN chain blocks $DIR/blocks --format csv -q" "$PEER $DIR/blocks"; do
  /usr/bin/time -f "%M KB peak, %e s: $c" $c > /dev/null
done
# Decoding against a PyPI parser (pip install blockchain-parser), on the first block file only:
# the package reads blocks in file order and computes ids and output values, no fees.
if python3 -c "import blockchain_parser" 2>/dev/null; then
  ONE=target/bench/chain-one/blocks
  mkdir -p "$ONE" && ln -sf "$PWD/$DIR/blocks/blk00000.dat" "$ONE/blk00000.dat"
  "$BIN" chain blocks "$ONE" --format csv -q | python3 -c "
import sys, csv
r = list(csv.DictReader(sys.stdin)); print('minewatch blocks', len(r), 'txs', sum(int(x['txs']) for x in r))"
  python3 bench/chain_pypi.py "$ONE"
  hyperfine --warmup 1 --runs 3 -N --export-json target/bench/chain-pypi.json \
    -n minewatch "$BIN chain blocks $ONE --format csv -q" \
    -n blockchain-parser "python3 bench/chain_pypi.py $ONE" --output=null
  for c in "$BIN chain blocks $ONE --format csv -q" "python3 bench/chain_pypi.py $ONE"; do
    /usr/bin/time -f "%M KB peak, %e s: $c" $c > /dev/null
  done
else
  echo "blockchain-parser (PyPI) is not installed: the decoding comparison skips"
fi
