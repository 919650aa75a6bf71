#!/usr/bin/env python3
"""Decodes every block of a block directory with the PyPI `blockchain-parser` package
(python-bitcoin-blockchain-parser, MIT), as `minewatch chain blocks` decodes them: every
transaction's id and output values. Prints blocks, transactions and the sum of all outputs so
the two tools can be checked to have done the same decoding. For docs/PERFORMANCE.md.

Usage: python3 bench/chain_pypi.py BLOCKS_DIR   (pip install blockchain-parser)
The package reads blocks in file order only (height order needs Core's LevelDB index), and
computes no fees: minewatch does more on the same input.
"""
import sys
from blockchain_parser.blockchain import Blockchain

def main(path):
    blocks = txs = sat = 0
    for block in Blockchain(path).get_unordered_blocks():
        blocks += 1
        for tx in block.transactions:
            txs += 1
            tx.txid
            sat += sum(o.value for o in tx.outputs)
    print(f"blockchain-parser blocks {blocks} txs {txs} outputs_sat {sat}")

if __name__ == "__main__":
    main(sys.argv[1])
