//! Reads a block directory with blocks_iterator in height order with previous outputs, and
//! prints blocks, transactions and total fees: the same work `minewatch chain blocks` does.

fn main() {
    let dir = std::env::args().nth(1).expect("usage: chain-peer BLOCKS_DIR");
    // Default settings: height order, previous outputs kept, the last `max_reorg` (6) blocks
    // held back as possibly stale.
    let conf = blocks_iterator::Config::new(&dir, bitcoin::Network::Bitcoin);
    let (mut blocks, mut txs, mut fees) = (0u64, 0u64, 0u64);
    for b in blocks_iterator::iter(conf) {
        blocks += 1;
        txs += b.block().txdata.len() as u64;
        fees += b.fee().unwrap_or(0);
    }
    println!("blocks {blocks} txs {txs} fees {fees}");
}
