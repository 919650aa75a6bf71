//! Clustering measured against the synthetic economy's ownership truth.

use minewatch_chain::blocks::{BlockOptions, read_blocks};
use minewatch_chain::economy::{EconomyOptions, generate, pair_scores};
use minewatch_chain::graph::{ClusterOptions, all_clusters, cluster};
use minewatch_chain::index::{Index, IndexReport};
use minewatch_chain::pools::Pools;
use minewatch_chain::synth::blk_file;

#[test]
fn multi_input_is_precise_and_change_trades_precision_for_recall() {
    let opts = EconomyOptions {
        blocks: 80,
        txs_per_block: 40,
        users: 300,
        ..EconomyOptions::default()
    };
    let mut blocks = Vec::new();
    let owners = generate(&opts, &mut |b| blocks.push(b.clone()));
    let d = tempfile::tempdir().unwrap();
    let refs: Vec<&bitcoin::Block> = blocks.iter().collect();
    std::fs::write(
        d.path().join("blk00000.dat"),
        blk_file(&refs, [0xf9, 0xbe, 0xb4, 0xd9], [0; 8]),
    )
    .unwrap();
    let mut index = Index::open(&d.path().join("c.db")).unwrap();
    let mut rep = IndexReport::default();
    read_blocks(
        &[d.path().to_path_buf()],
        &Pools::built_in(),
        &BlockOptions::default(),
        &mut |info, b| {
            index
                .add(&info, b, bitcoin::Network::Bitcoin, &mut rep)
                .unwrap()
        },
    )
    .unwrap();
    assert_eq!((rep.added, rep.unknown_prevouts), (81, 0));

    let plain = all_clusters(index.db(), ClusterOptions::default()).unwrap();
    assert!(plain.coinjoins_skipped > 0 && plain.joining_txs > 0);
    let (p, r) = pair_scores(&plain.members, &owners);
    eprintln!("multi-input: precision {p:.4} recall {r:.4}");
    assert_eq!(
        p, 1.0,
        "the multi-input heuristic never joins two owners here"
    );
    assert!(r > 0.05 && r < 1.0);
    // Reproducible, and the same as the one-address walk.
    let again = all_clusters(index.db(), ClusterOptions::default()).unwrap();
    assert_eq!(plain.members, again.members);
    let (a, c0) = &plain.members[plain.members.len() / 2];
    let walk = cluster(index.db(), a, 1_000_000).unwrap();
    let same: Vec<&String> = plain
        .members
        .iter()
        .filter(|(_, c)| c == c0)
        .map(|(x, _)| x)
        .collect();
    assert_eq!(walk.addresses.iter().collect::<Vec<_>>(), same);

    let change = all_clusters(index.db(), ClusterOptions { change: true }).unwrap();
    let (pc, rc) = pair_scores(&change.members, &owners);
    eprintln!("with change: precision {pc:.4} recall {rc:.4}");
    assert!(change.change_joins > 0);
    assert!(rc > r, "change joins add recall");
    assert!(pc < 1.0, "and cost precision when change is reused");
}
