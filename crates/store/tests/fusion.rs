//! The registry, fusion, lifecycle, penalties and reports end to end, on every engine.
// Tests may unwrap, expect and panic: there a panic is the verdict (the library crates may not).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::path::Path;

use minewatch_store::cases::{self, Filter, State};
use minewatch_store::ingest::{IngestReport, ingest_file};
use minewatch_store::registry::{self, Kind};
use minewatch_store::report::{self, Level};
use minewatch_store::testing as common;
use minewatch_store::time::{parse_date, parse_instant};
use minewatch_store::{Store, StoreError, documents, penalties};
use serde_json::json;

const WALLET: &str = "1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa";

fn registry_files(dir: &Path) -> Vec<std::path::PathBuf> {
    vec![
        common::write(
            dir,
            "regions.csv",
            "code,name_zh,name_en\n150202,东河区,Donghe District\n150200,包头市,Baotou\n",
        ),
        common::write(
            dir,
            "sites.csv",
            "site_id,name,address,region_code,lat,lon,tariff_class,capacity_kva,owner\n\
             S1,Farmhouse,\"No. 1 Road, Donghe\",150202,40.6,110.0,residential,20,Wang\n\
             S2,Shop,No. 2 Road,150202,40.6,110.1,commercial,50,Li\n\
             S3,Barn,No. 3 Road,511802,30.0,103.0,agricultural,80,Zhao\n\
             S4,Bad,No. 4 Road,15-02,40,110,residential,10,Nobody\n",
        ),
        common::write(
            dir,
            "subscribers.csv",
            "subscriber_id,name,phone,site_id\nU1,Wang Wu,13800000001,S1\nU2,Li Si,13800000002,S2\n",
        ),
        common::write(
            dir,
            "ip-assignments.csv",
            "ip,start,end,subscriber_id\n\
             10.0.0.5,2024-03-01T00:00:00+08:00,2024-03-02T00:00:00+08:00,U1\n\
             10.0.0.5,2024-03-02T00:00:00+08:00,,U2\n\
             10.0.0.999,2024-03-01,,U1\n\
             10.0.0.6,2024-03-05,2024-03-01,U1\n",
        ),
        common::write(
            dir,
            "meters.csv",
            "meter_id,site_id,customer_id\nM1,S1,C1\nM3,S3,C3\n",
        ),
        common::write(
            dir,
            "wallets.csv",
            &format!("wallet,coin,site_id\n{WALLET},BTC,S3\n"),
        ),
    ]
}

fn scan_line(ip: &str, port: u16, start: &str, wallet: Option<&str>, worker: &str) -> String {
    json!({
        "@timestamp": start,
        "event": {"kind": "alert", "dataset": "minewatch.scan", "start": start, "end": start},
        "source": {"ip": ip, "port": port},
        "destination": {"ip": "203.0.113.1", "port": 3333},
        "mining": {"detector": "stratum", "dialect": "bitcoin", "coin": "BTC", "pool": "203.0.113.1:3333",
                   "worker": worker, "wallet": wallet, "hashrate_hs": 1.0e14, "power_w": 3000.0,
                   "power_w_low": 1500.0, "power_w_high": 6000.0, "confidence": 1.0},
        "input": {"file": "x.pcap", "first_packet": 1}
    })
    .to_string()
}

fn power_line(
    meter: &str,
    suspected: bool,
    onset: Option<&str>,
    kw: f64,
    window: (&str, &str),
) -> String {
    json!({
        "meter_id": meter, "score": if suspected { 0.8 } else { 0.1 }, "suspected": suspected,
        "reasons": [{"code": "flat", "en": "load factor 0.91: the curve is flat", "zh": "负荷率0.91"}],
        "onset": onset, "mining_kw": kw, "hashrate_ths": 400.0,
        "window_start": window.0, "window_end": window.1,
        "features": {"mean_kw": kw * 1.1}
    })
    .to_string()
}

fn evidence_file(dir: &Path) -> std::path::PathBuf {
    let lines = [
        scan_line("10.0.0.5", 40001, "2024-03-01T10:00:00+08:00", None, "rig1"),
        scan_line(
            "10.0.0.5",
            40002,
            "2024-03-05T10:00:00+08:00",
            None,
            "shoprig",
        ),
        scan_line(
            "10.9.9.9",
            40003,
            "2024-03-05T11:00:00+08:00",
            Some(WALLET),
            "barn",
        ),
        scan_line(
            "172.16.0.1",
            40004,
            "2024-03-05T12:00:00+08:00",
            None,
            "nobody",
        ),
        power_line(
            "M1",
            true,
            Some("2024-02-15"),
            14.0,
            ("2024-02-01", "2024-02-29"),
        ),
        power_line("M3", true, None, 30.0, ("2024-02-01", "2024-02-29")),
        power_line("M9", true, None, 5.0, ("2024-02-01", "2024-02-29")),
        power_line("M2", false, None, 0.0, ("2024-02-01", "2024-02-29")),
        "this is not json".to_string(),
    ];
    common::write(dir, "evidence.jsonl", &(lines.join("\n") + "\n"))
}

fn ingest(store: &mut Store, files: &[&Path]) -> IngestReport {
    let mut r = IngestReport::default();
    for f in files {
        ingest_file(
            &mut store.conn,
            f,
            &minewatch_store::ingest::Rules::default(),
            &mut r,
        )
        .unwrap();
    }
    cases::fuse(&mut store.conn).unwrap();
    r
}

fn case_of(store: &mut Store, site: &str) -> cases::Case {
    cases::list(&mut store.conn, &Filter::default())
        .unwrap()
        .into_iter()
        .find(|c| c.site_id == site)
        .unwrap_or_else(|| panic!("no case for {site}"))
}

fn snapshot(store: &mut Store) -> (Vec<String>, i64) {
    let list = cases::list(&mut store.conn, &Filter::default()).unwrap();
    let rows = list
        .into_iter()
        .map(|c| {
            format!(
                "{} {} {} {:.3} {}",
                c.case_id, c.site_id, c.state, c.power_kw, c.evidence_count
            )
        })
        .collect();
    let ev = store
        .conn
        .query_one("SELECT COUNT(*) FROM evidence", &[])
        .unwrap()
        .unwrap()
        .int(0);
    (rows, ev)
}

#[test]
fn registry_fusion_lifecycle_and_reports() {
    let dir = tempfile::tempdir().unwrap();
    let files = registry_files(dir.path());
    let evidence = evidence_file(dir.path());
    for engine in common::engines(dir.path(), "fusion") {
        let label = engine.label;
        let mut store = Store::open(&engine.target).unwrap();

        // Registry: kinds told by headers, bad rows named by file and line.
        let mut bad = Vec::new();
        for f in &files {
            let r = registry::import(&mut store.conn, f, None).unwrap();
            bad.extend(r.bad.iter().map(|b| {
                format!(
                    "{}:{}: {}",
                    Path::new(&b.file).file_name().unwrap().to_string_lossy(),
                    b.line,
                    b.message
                )
            }));
        }
        assert_eq!(bad.len(), 3, "{label}: {bad:?}");
        assert!(
            bad[0].starts_with("sites.csv:5: region_code '15-02'"),
            "{label}: {}",
            bad[0]
        );
        assert!(
            bad[1].starts_with("ip-assignments.csv:4: ip '10.0.0.999'"),
            "{label}: {}",
            bad[1]
        );
        assert!(
            bad[2].starts_with("ip-assignments.csv:5: end"),
            "{label}: {}",
            bad[2]
        );

        // Lookups: the same address belongs to U1 on the 1st and to U2 from the 2nd.
        let day1 = parse_instant("2024-03-01T12:00:00+08:00").unwrap();
        let day3 = parse_instant("2024-03-03T12:00:00+08:00").unwrap();
        let site_at = |s: &mut Store, t| {
            registry::site_of_ip(&mut s.conn, "10.0.0.5", Some(40000), t)
                .unwrap()
                .map(|a| a.site_id)
        };
        assert_eq!(site_at(&mut store, day1).as_deref(), Some("S1"), "{label}");
        assert_eq!(site_at(&mut store, day3).as_deref(), Some("S2"), "{label}");
        assert_eq!(site_at(&mut store, day1 - 86_400 * 30), None, "{label}");
        assert_eq!(
            registry::site_of_meter(&mut store.conn, "M3")
                .unwrap()
                .unwrap()
                .site_id,
            "S3"
        );
        assert_eq!(
            registry::site_of_wallet(&mut store.conn, WALLET)
                .unwrap()
                .unwrap()
                .site_id,
            "S3"
        );

        // Ingest: every line accounted for.
        let r = ingest(&mut store, &[&evidence]);
        assert_eq!(
            (r.lines, r.new, r.below_threshold, r.bad_count),
            (9, 7, 1, 1),
            "{label}: {r:?}"
        );
        assert_eq!((r.attributed, r.unattributed), (5, 2), "{label}: {r:?}");
        assert!(
            r.bad[0].message.contains("not JSON") && r.bad[0].line == 9,
            "{label}: {:?}",
            r.bad
        );

        // One case per site; the streams that agree; the meter sets the power.
        let all = cases::list(&mut store.conn, &Filter::default()).unwrap();
        assert_eq!(all.len(), 3, "{label}");
        // Pages and orders come from the store, with the count beside them.
        let by_power = Filter {
            order: cases::Order::Power,
            limit: Some(2),
            ..Filter::default()
        };
        let page = cases::list(&mut store.conn, &by_power).unwrap();
        assert_eq!(page.len(), 2, "{label}");
        assert!(page[0].power_kw >= page[1].power_kw, "{label}");
        assert_eq!(
            cases::count(&mut store.conn, &by_power).unwrap(),
            3,
            "{label}: the count ignores the limit"
        );
        let s1 = case_of(&mut store, "S1");
        assert_eq!(s1.streams, ["network", "grid"], "{label}");
        assert!(
            (s1.power_kw - 14.0).abs() < 1e-9 && s1.power_kw_low < 14.0 && s1.power_kw_high > 14.0,
            "{label}: {s1:?}"
        );
        assert!(s1.confidence > 0.99, "{label}");
        assert_eq!(
            s1.first_seen.as_deref(),
            Some("2024-02-15T00:00:00+08:00"),
            "{label}"
        );
        let s2 = case_of(&mut store, "S2");
        assert_eq!(
            (s2.streams.clone(), s2.power_kw),
            (vec!["network".to_string()], 3.0),
            "{label}"
        );
        let s3 = case_of(&mut store, "S3");
        assert_eq!(
            s3.streams,
            ["network", "grid"],
            "{label}: the wallet ties the session to S3"
        );
        assert_eq!(
            cases::unattributed_count(&mut store.conn).unwrap(),
            2,
            "{label}"
        );

        // The same file again changes nothing.
        let before = snapshot(&mut store);
        let again = ingest(&mut store, &[&evidence]);
        assert_eq!((again.new, again.known), (0, 7), "{label}");
        assert_eq!(snapshot(&mut store), before, "{label}");
        for f in &files {
            registry::import(&mut store.conn, f, None).unwrap();
        }
        assert_eq!(snapshot(&mut store), before, "{label}");

        // Lifecycle: legal steps recorded, illegal ones refused with the allowed ones named.
        let at = |d: &str| parse_date(d).unwrap();
        let id = s1.case_id;
        cases::advance(
            &mut store.conn,
            id,
            State::Verified,
            "li.wei",
            "site visit: 16 machines",
            at("2024-03-10"),
        )
        .unwrap();
        let e = cases::advance(
            &mut store.conn,
            id,
            State::Rectified,
            "li.wei",
            "skip",
            at("2024-03-11"),
        )
        .unwrap_err();
        assert!(matches!(e, StoreError::IllegalTransition { .. }), "{label}");
        assert_eq!(
            e.to_string(),
            format!("case {id} is verified; it cannot go to rectified (allowed: notified, closed)")
        );
        // Who and why are required, by the server's path as by the command line's.
        for (by, why, missing) in [(" ", "visit", "who made it"), ("li.wei", "", "a reason")] {
            let e = cases::advance(
                &mut store.conn,
                id,
                State::Notified,
                by,
                why,
                at("2024-03-11"),
            )
            .unwrap_err();
            assert!(e.to_string().contains(missing), "{label}: {e}");
        }
        assert!(
            cases::advance(
                &mut store.conn,
                id,
                State::Notified,
                "",
                "x",
                at("2024-03-11")
            )
            .is_err(),
            "{label}: no actor"
        );
        cases::advance(
            &mut store.conn,
            id,
            State::Notified,
            "li.wei",
            "notice served",
            at("2024-03-12"),
        )
        .unwrap();
        cases::advance(
            &mut store.conn,
            id,
            State::Rectified,
            "li.wei",
            "machines removed, supply cut",
            at("2024-04-01"),
        )
        .unwrap();

        // Penalty: Inner Mongolia's rule, from the onset to rectification.
        let case = cases::get(&mut store.conn, id).unwrap();
        let p = penalties::assess(&mut store.conn, &case).unwrap().unwrap();
        assert_eq!(
            (p.rule.jurisdiction.as_str(), p.rule.surcharge_per_kwh),
            ("15", 1.0),
            "{label}"
        );
        assert_eq!(
            (p.from.as_str(), p.to.as_str()),
            ("2024-02-15", "2024-04-01"),
            "{label}"
        );
        assert!(
            (p.amount - 14.0 * 24.0 * 46.0).abs() < 1e-6,
            "{label}: {p:?}"
        );
        // Sichuan bills the whole account's consumption.
        let c3 = case_of(&mut store, "S3");
        let p3 = penalties::assess(&mut store.conn, &c3).unwrap();
        let p3 = p3.unwrap();
        assert_eq!(
            (p3.rule.jurisdiction.as_str(), p3.rule.whole_account),
            ("51", true),
            "{label}"
        );
        assert!(
            (p3.billed_kw - 33.0).abs() < 1e-9,
            "{label}: the account's mean load, not the mining load: {p3:?}"
        );

        // Old evidence arriving late is history; new evidence after rectification is a relapse.
        let late = common::write(
            dir.path(),
            "late.jsonl",
            &power_line("M1", true, None, 14.0, ("2024-03-01", "2024-03-20")),
        );
        ingest(&mut store, &[&late]);
        assert_eq!(
            cases::get(&mut store.conn, id).unwrap().state,
            State::Rectified,
            "{label}"
        );
        let relapse = common::write(
            dir.path(),
            "relapse.jsonl",
            &power_line("M1", true, None, 12.0, ("2024-04-01", "2024-04-30")),
        );
        ingest(&mut store, &[&relapse]);
        let case = cases::get(&mut store.conn, id).unwrap();
        assert_eq!(case.state, State::Relapsed, "{label}");
        let hist = cases::history(&mut store.conn, id).unwrap();
        let last = hist.last().unwrap();
        assert_eq!(
            (last.actor.as_str(), last.to.as_str()),
            ("minewatch", "relapsed"),
            "{label}"
        );
        assert!(
            last.reason.contains("after rectification on 2024-04-01"),
            "{label}: {}",
            last.reason
        );
        assert_eq!(
            last.at, "2024-04-01T00:00:01+08:00",
            "{label}: dated when mining was seen again"
        );

        // Reports: provinces, cities and counties; Sichuan's one case open.
        let rep = report::regions(
            &mut store.conn,
            None,
            &[Level::Province, Level::City, Level::County],
            None,
        )
        .unwrap();
        let p15 = rep
            .regions
            .iter()
            .find(|r| r.level == Level::Province && r.code == "15")
            .unwrap();
        assert_eq!(
            (p15.name_en.as_str(), p15.open_cases),
            ("Inner Mongolia", 2),
            "{label}"
        );
        assert_eq!(p15.cases["relapsed"], 1, "{label}");
        let city = rep.regions.iter().find(|r| r.code == "1502").unwrap();
        assert_eq!(city.name_en, "Baotou", "{label}");
        assert!(
            p15.peak_kw > 0.0 && p15.months.iter().any(|m| m.month == "2024-02"),
            "{label}"
        );
        // Close S3 as dismissed: Sichuan is cleared to zero and its power leaves every month.
        let s3id = case_of(&mut store, "S3").case_id;
        cases::advance(
            &mut store.conn,
            s3id,
            State::Closed,
            "zhao",
            "site visit: grain dryer, no miners",
            at("2024-03-20"),
        )
        .unwrap();
        let rep = report::regions(&mut store.conn, None, &[Level::Province], Some("51")).unwrap();
        assert_eq!(rep.regions.len(), 1, "{label}");
        assert!(
            rep.regions[0].cleared && rep.regions[0].months.iter().all(|m| m.power_kw == 0.0),
            "{label}: {:?}",
            rep.regions[0]
        );

        // What the documents say: the case, its site and the surcharge basis
        // (`minewatch-present` makes the pages; its tests read them).
        let f = documents::facts(&mut store.conn, id).unwrap();
        assert_eq!(f.case.case_id, id, "{label}");
        assert!(f.site.address.contains("No. 1 Road, Donghe"), "{label}");
        assert!(!f.evidence.is_empty(), "{label}");
        assert!(
            f.surcharge
                .as_ref()
                .is_some_and(|p| p.rule.source.contains("内发改价费字")),
            "{label}"
        );

        assert_eq!(
            registry::import(&mut store.conn, &files[0], Some(Kind::Regions))
                .unwrap()
                .imported,
            2
        );
    }
}

/// Thousands of cases touched at once take the streaming path; its figures must be the ones
/// the per-case rules give.
#[test]
fn many_cases_at_once_fuse_like_one_at_a_time() {
    use std::fmt::Write as _;
    let dir = tempfile::tempdir().unwrap();
    let n = 2600;
    let (mut sites, mut subs, mut leases, mut lines) = (
        String::from("site_id,region_code\n"),
        String::from("subscriber_id,site_id\n"),
        String::from("ip,start,subscriber_id\n"),
        String::new(),
    );
    for i in 0..n {
        let _ = writeln!(sites, "S{i},150202");
        let _ = writeln!(subs, "U{i},S{i}");
        let _ = writeln!(leases, "10.9.{}.{},2024-03-01,U{i}", i / 250, i % 250 + 1);
        for k in 0..(1 + i % 3) {
            let _ = writeln!(
                lines,
                "{}",
                scan_line(
                    &format!("10.9.{}.{}", i / 250, i % 250 + 1),
                    40_000 + k as u16,
                    &format!("2024-03-0{}T10:00:00+08:00", 2 + k),
                    None,
                    &format!("rig{k}")
                )
            );
        }
    }
    let files = [
        common::write(dir.path(), "sites.csv", &sites),
        common::write(dir.path(), "subscribers.csv", &subs),
        common::write(dir.path(), "leases.csv", &leases),
    ];
    let ev = common::write(dir.path(), "many.jsonl", &lines);
    for engine in common::engines(dir.path(), "many") {
        let mut store = Store::open(&engine.target).unwrap();
        for f in &files {
            registry::import(&mut store.conn, f, None).unwrap();
        }
        let r = ingest(&mut store, &[&ev]);
        assert_eq!(r.attributed, r.new, "{}", engine.label);
        let all = cases::list(&mut store.conn, &Filter::default()).unwrap();
        assert_eq!(all.len(), n, "{}", engine.label);
        for c in all.iter().step_by(97) {
            let f = cases::fuse_pieces(&cases::pieces(&mut store.conn, c.case_id).unwrap());
            assert_eq!(c.evidence_count, f.count, "{}", engine.label);
            assert!(
                (c.power_kw - f.power_kw.0).abs() < 1e-9,
                "{}: {c:?} {f:?}",
                engine.label
            );
            let i: i64 = c.site_id[1..].parse().unwrap();
            assert_eq!(c.evidence_count, 1 + i % 3, "{}", engine.label);
            assert!(
                (c.power_kw - 3.0 * (1 + i % 3) as f64).abs() < 1e-9,
                "{}: one rig per worker name",
                engine.label
            );
        }
    }
}

#[test]
fn a_registered_wallets_trace_draws_its_money_trail() {
    let dir = tempfile::tempdir().unwrap();
    let files = registry_files(dir.path());
    let step = |hop: i64,
                from: &str,
                to: &str,
                txid: &str,
                sat: i64,
                pool: Option<&str>,
                label: Option<(&str, &str)>| {
        json!({"traced": WALLET, "hop": hop, "from": from, "to": to, "txid": txid, "value_sat": sat,
               "time": 1_709_251_200 + hop * 600, "pool": pool,
               "to_label": label.map(|l| l.0), "to_category": label.map(|l| l.1)})
        .to_string()
    };
    let trace = common::write(
        dir.path(),
        "trace.jsonl",
        &[
            step(
                -1,
                "coinbase",
                WALLET,
                "aa",
                312_500_000,
                Some("F2Pool"),
                None,
            ),
            step(1, WALLET, "bc1qmid", "bb", 300_000_000, None, None),
            step(
                2,
                "bc1qmid",
                "1Exch",
                "cc",
                290_000_000,
                None,
                Some(("Exchange A", "exchange")),
            ),
        ]
        .join("\n"),
    );
    for engine in common::engines(dir.path(), "trail") {
        let label = engine.label;
        let mut store = Store::open(&engine.target).unwrap();
        for f in &files {
            registry::import(&mut store.conn, f, None).unwrap();
        }
        let r = ingest(&mut store, &[&trace]);
        assert_eq!((r.new, r.context), (2, 1), "{label}: {r:?}");
        let case = case_of(&mut store, "S3");
        let trail = cases::money_trail(&mut store.conn, case.case_id).unwrap();
        let got: Vec<(bool, &str, Option<&str>, i64, i64)> = trail
            .iter()
            .map(|s| {
                (
                    s.inflow,
                    s.party.as_str(),
                    s.category.as_deref(),
                    s.hop,
                    s.value_sat,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (true, "F2Pool", None, -1, 312_500_000),
                (false, "Exchange A", Some("exchange"), 2, 290_000_000)
            ],
            "{label}"
        );
        assert!(trail.iter().all(|s| s.wallet == WALLET), "{label}");
    }
}
