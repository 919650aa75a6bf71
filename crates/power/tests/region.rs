//! End to end on generated regions: the planted miners rank on top.

use minewatch_power::customers::read_customers;
use minewatch_power::eval::{metrics, read_truth};
use minewatch_power::generate::{RegionConfig, generate};
use minewatch_power::read::{ReadingsOptions, read_readings};
use minewatch_power::score::{ScoreConfig, Scorer, read_weather};

#[test]
fn planted_miners_rank_on_top() {
    let d = tempfile::tempdir().unwrap();
    let cfg = RegionConfig {
        meters: 600,
        days: 120,
        miner_share: 0.05,
        seed: 11,
        area_size: 100,
        ..RegionConfig::default()
    };
    generate(&cfg, d.path()).unwrap();
    let (reg, _) = read_customers(&d.path().join("customers.csv")).unwrap();
    let (weather, _) = read_weather(&d.path().join("weather.csv")).unwrap();
    let mut scorer = Scorer::new(ScoreConfig::default(), &reg, Some(&weather));
    let solar = |m: &str| reg.get(m).is_some_and(|c| c.solar);
    let st = read_readings(
        &[d.path().join("readings.csv")],
        &ReadingsOptions::default(),
        &solar,
        &mut scorer,
    )
    .unwrap();
    assert_eq!(st.skipped_total(), 0);
    let out = scorer.finish();
    let truth = read_truth(&d.path().join("truth.csv"), true).unwrap();
    let m = metrics(&out, &truth);
    eprintln!("{m:?}");
    let kinds: std::collections::HashMap<String, String> =
        std::fs::read_to_string(d.path().join("truth.csv"))
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                (f[0].to_string(), format!("{}/{}", f[1], f[3]))
            })
            .collect();
    for s in out.iter().take(45) {
        eprintln!(
            "{} {:.3} {} {} {:.1}kW T={:.2} {}",
            s.meter_id,
            s.score,
            truth[&s.meter_id],
            kinds[&s.meter_id],
            s.mining_kw,
            s.features.temp_corr,
            s.reasons
                .iter()
                .map(|r| r.code)
                .collect::<Vec<_>>()
                .join(",")
        );
    }
    for s in out.iter().filter(|s| truth[&s.meter_id] && !s.suspected) {
        eprintln!(
            "MISSED {} {:.3} {} {:.1}kW",
            s.meter_id, s.score, kinds[&s.meter_id], s.mining_kw
        );
    }
    assert!(m.auc > 0.9, "{m:?}");
}

#[test]
fn stolen_power_shows_in_the_area_balance() {
    use minewatch_power::areas::{AreaConfig, Balancer};
    let d = tempfile::tempdir().unwrap();
    // Enough miners that several areas hold one wired ahead of its meter.
    let cfg = RegionConfig {
        meters: 400,
        days: 60,
        miner_share: 0.15,
        seed: 5,
        area_size: 40,
        ..RegionConfig::default()
    };
    generate(&cfg, d.path()).unwrap();
    let (reg, _) = read_customers(&d.path().join("customers.csv")).unwrap();
    let mut bal = Balancer::default();
    let solar = |m: &str| reg.get(m).is_some_and(|c| c.solar);
    let mut meters = Vec::new();
    read_readings(
        &[d.path().join("readings.csv")],
        &ReadingsOptions::default(),
        &solar,
        &mut meters,
    )
    .unwrap();
    for s in &meters {
        bal.add_meter(s, &reg);
    }
    let fopts = ReadingsOptions {
        meter_column: Some("area_id".into()),
        ..ReadingsOptions::default()
    };
    let mut feeders = Vec::new();
    read_readings(
        &[d.path().join("feeders.csv")],
        &fopts,
        &|_| false,
        &mut feeders,
    )
    .unwrap();
    for s in &feeders {
        bal.add_feeder(s);
    }
    let areas = bal.finish(&AreaConfig::default(), &reg, &Default::default());
    assert_eq!(areas.len(), 10);
    // Which areas truly hold stolen load (active in the period)?
    let truth = std::fs::read_to_string(d.path().join("truth.csv")).unwrap();
    let mut theft_areas = std::collections::BTreeSet::new();
    for l in truth.lines().skip(1) {
        let f: Vec<&str> = l.split(',').collect();
        if f[6] == "true" && f[8].parse::<u32>().unwrap() >= 14 {
            theft_areas.insert(f[7].to_string());
        }
    }
    assert!(!theft_areas.is_empty());
    eprintln!("theft areas {theft_areas:?}");
    let mut found = 0;
    for a in &areas {
        eprintln!(
            "{} abnormal={} loss={} unbilled={}kW onset={:?}",
            a.area_id, a.abnormal, a.loss_rate, a.unbilled_kw, a.onset
        );
        if a.abnormal {
            // No area without stolen load is accused.
            assert!(theft_areas.contains(&a.area_id), "{}", a.area_id);
            assert!(!a.candidates.is_empty());
            found += 1;
        }
    }
    // Most areas with stolen load are found (a small theft in a large area hides in its losses).
    assert!(
        found * 10 >= theft_areas.len() * 7,
        "{found} of {}",
        theft_areas.len()
    );
}

#[test]
fn a_file_found_not_grouped_at_its_end_scores_and_balances_as_the_grouped_one() {
    use minewatch_power::areas::{AreaConfig, Balancer};
    use minewatch_power::customers::Register;
    use minewatch_power::read::SeriesSink;
    use minewatch_power::series::Series;
    // Scorer and balance together, as `power areas` feeds them.
    struct Both<'a> {
        bal: Balancer,
        scorer: Scorer<'a>,
        reg: &'a Register,
        forgotten: usize,
    }
    impl SeriesSink for Both<'_> {
        fn take(&mut self, s: Series) {
            self.bal.add_meter(&s, self.reg);
            self.scorer.add(&s);
        }
        fn forget(&mut self, n: usize) {
            self.bal.forget_meters(n);
            self.scorer.forget(n);
            self.forgotten += n;
        }
    }
    let d = tempfile::tempdir().unwrap();
    let cfg = RegionConfig {
        meters: 120,
        days: 40,
        miner_share: 0.1,
        seed: 9,
        area_size: 30,
        ..RegionConfig::default()
    };
    generate(&cfg, d.path()).unwrap();
    let (reg, _) = read_customers(&d.path().join("customers.csv")).unwrap();
    // The same rows with the first meter's first reading moved to the end: the meters have
    // been handed on when the file turns out not grouped.
    let text = std::fs::read_to_string(d.path().join("readings.csv")).unwrap();
    let mut lines: Vec<&str> = text.lines().collect();
    let first = lines.remove(1);
    lines.push(first);
    let moved = d.path().join("moved.csv");
    std::fs::write(&moved, lines.join("\n") + "\n").unwrap();
    let mut feeders = Vec::new();
    let fopts = ReadingsOptions {
        meter_column: Some("area_id".into()),
        ..ReadingsOptions::default()
    };
    read_readings(
        &[d.path().join("feeders.csv")],
        &fopts,
        &|_| false,
        &mut feeders,
    )
    .unwrap();
    let run = |file: &std::path::Path| {
        let mut both = Both {
            bal: Balancer::default(),
            scorer: Scorer::new(ScoreConfig::default(), &reg, None),
            reg: &reg,
            forgotten: 0,
        };
        let st = read_readings(
            &[file.to_path_buf()],
            &ReadingsOptions::default(),
            &|_| false,
            &mut both,
        )
        .unwrap();
        for f in &feeders {
            both.bal.add_feeder(f);
        }
        let quality = both.scorer.quality();
        let scores = both.scorer.finish();
        let areas = both
            .bal
            .finish(&AreaConfig::default(), &reg, &Default::default());
        (
            format!("{scores:?}"),
            format!("{areas:?}"),
            format!("{quality:?}"),
            (st.rows, st.meters),
            both.forgotten,
        )
    };
    let grouped = run(&d.path().join("readings.csv"));
    let not_grouped = run(&moved);
    assert_eq!(grouped.4, 0);
    // All but the last meter, whose rows were ending when the first came back.
    assert_eq!(not_grouped.4, 119);
    assert_eq!(grouped.3, not_grouped.3);
    assert_eq!(grouped.2, not_grouped.2);
    assert_eq!(grouped.0, not_grouped.0);
    assert_eq!(grouped.1, not_grouped.1);
}
