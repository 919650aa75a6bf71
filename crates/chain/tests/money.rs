//! Following the money on the project's own chain: a pool's coinbase paid out to miners, two of
//! a miner's addresses spent together (one cluster), a CoinJoin that must not merge its inputs,
//! and coins reaching a tagged exchange.

use bitcoin::Network;
use minewatch_chain::blocks::{BlockOptions, read_blocks};
use minewatch_chain::graph::{cluster, payouts, trace};
use minewatch_chain::index::{Index, IndexReport};
use minewatch_chain::pools::Pools;
use minewatch_chain::synth::{address, blk_file, payout_chain};
use minewatch_chain::tags::Tags;

fn addr(n: u8) -> String {
    address(n)
}

/// Reads every block file in `dir` into `index`: what the index made of them.
fn index_all(index: &mut Index, pools: &Pools, dir: &std::path::Path) -> IndexReport {
    let mut rep = IndexReport::default();
    read_blocks(
        &[dir.to_path_buf()],
        pools,
        &BlockOptions::default(),
        &mut |info, b| index.add(&info, b, Network::Bitcoin, &mut rep).unwrap(),
    )
    .unwrap();
    rep
}

#[test]
fn payouts_clusters_and_traces() {
    let blocks = payout_chain();
    let refs: Vec<&bitcoin::Block> = blocks.iter().collect();
    let d = tempfile::tempdir().unwrap();
    std::fs::write(
        d.path().join("blk00000.dat"),
        blk_file(&refs, [0xf9, 0xbe, 0xb4, 0xd9], [0; 8]),
    )
    .unwrap();
    let pools =
        Pools::from_json(r#"[{"id":1,"name":"PoolX","addresses":[],"tags":["/poolx/"]}]"#).unwrap();
    let db = d.path().join("chain.db");
    let mut index = Index::open(&db).unwrap();
    let rep = index_all(&mut index, &pools, d.path());
    assert_eq!((rep.added, rep.skipped, rep.unknown_prevouts), (3, 0, 0));
    // A second run adds nothing: the index resumes.
    let again = index_all(&mut index, &pools, d.path());
    assert_eq!((again.added, again.skipped), (0, 3));

    // Blocks are committed in batches of whole blocks: until a batch is committed, nothing of it
    // is in the store for anyone else (a killed run leaves nothing half-written; the next run
    // adds those blocks again), and the end of a run commits what is left.
    let batched = d.path().join("batched.db");
    let mut fresh = Index::open(&batched).unwrap();
    let r1 = index_all(&mut fresh, &pools, d.path());
    let others = |p: &std::path::Path| -> i64 {
        rusqlite::Connection::open(p)
            .unwrap()
            .query_row("SELECT COUNT(*) FROM blocks", [], |r| r.get(0))
            .unwrap()
    };
    assert_eq!(
        (r1.added, fresh.blocks().unwrap(), others(&batched)),
        (3, 3, 0)
    );
    fresh.flush().unwrap();
    assert_eq!(others(&batched), 3);

    let c = cluster(index.db(), &addr(11), 1000).unwrap();
    assert_eq!(c.addresses, {
        let mut v = vec![addr(11), addr(17)];
        v.sort();
        v
    });
    let cj_cluster = cluster(index.db(), &addr(12), 1000).unwrap();
    assert_eq!(
        cj_cluster.addresses,
        vec![addr(12)],
        "a CoinJoin merges nothing"
    );
    assert_eq!(cj_cluster.coinjoins_skipped, 1);

    let mut tags = Tags::default();
    let tf = d.path().join("tags.csv");
    std::fs::write(
        &tf,
        format!("address,label,category\n{},Exchange A,exchange\n", addr(30)),
    )
    .unwrap();
    tags.load(&tf).unwrap();
    let t = trace(index.db(), &addr(11), 3, &tags, 1000).unwrap();
    assert_eq!(
        t.reached,
        vec![(
            "Exchange A".to_string(),
            "exchange".to_string(),
            14 * 100_000_000i64 - 2000
        )]
    );
    assert!(
        t.edges
            .iter()
            .any(|e| e.hop == -1 && e.from.contains(&addr(1)))
    );
    let pool_trace = trace(index.db(), &addr(1), 1, &tags, 1000).unwrap();
    assert_eq!(pool_trace.mined_sat, 100 * 100_000_000i64 + 5000);
    // Txids come out as people read them: the transactions' own ids.
    let ids: std::collections::HashSet<String> = blocks
        .iter()
        .flat_map(|b| b.txdata.iter().map(|t| t.compute_txid().to_string()))
        .collect();
    assert!(
        t.edges
            .iter()
            .chain(&pool_trace.edges)
            .all(|e| ids.contains(&e.txid)),
        "{:?}",
        t.edges.first()
    );
    assert!(
        pool_trace
            .edges
            .iter()
            .any(|e| e.pool.as_deref() == Some("PoolX"))
    );

    let p = payouts(index.db(), "PoolX", 5).unwrap();
    assert_eq!(p.len(), 8);
    assert!(
        p.iter()
            .filter(|x| x.address != addr(1))
            .all(|x| x.payments == 1 && x.total_sat == 7 * 100_000_000i64)
    );
}
