//! minewatch-present's tests: documents made from a store's facts, in both languages, and the
//! charts as SVG.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use minewatch_model::lang::Lang;
use minewatch_present::{chart, html};
use minewatch_store::documents::{Doc, facts};
use minewatch_store::ingest::{IngestReport, Rules, ingest_file};
use minewatch_store::testing::write;
use minewatch_store::{Store, cases, registry};

#[test]
fn documents_name_the_case_and_its_site_in_both_languages() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let mut st = Store::open(&d.join("s.db").display().to_string()).unwrap();
    for (name, text) in [
        (
            "sites.csv",
            "site_id,name,address,region_code,owner\nS1,Farm <A>,No. 1 Road,150202,Wang\n",
        ),
        ("meters.csv", "meter_id,site_id\nM1,S1\n"),
    ] {
        registry::import(&mut st.conn, &write(d, name, text), None).unwrap();
    }
    let line = r#"{"meter_id":"M1","score":0.8,"suspected":true,"onset":"2024-02-10","mining_kw":12.0,"window_start":"2024-02-01","window_end":"2024-02-29","reasons":[]}"#;
    let ev = write(d, "power.jsonl", &format!("{line}\n"));
    ingest_file(
        &mut st.conn,
        &ev,
        &Rules::default(),
        &mut IngestReport::default(),
    )
    .unwrap();
    cases::fuse(&mut st.conn).unwrap();
    let id = cases::list(&mut st.conn, &cases::Filter::default()).unwrap()[0].case_id;
    let f = facts(&mut st.conn, id).unwrap();
    let zh = html::document(&f, Doc::Notice, Lang::Zh);
    assert!(
        zh.starts_with("<!DOCTYPE html><html lang=\"zh-CN\">"),
        "{zh}"
    );
    assert!(
        zh.contains("整改通知书") && zh.contains("No. 1 Road"),
        "{zh}"
    );
    // Text from the registry is escaped.
    assert!(
        zh.contains("Farm &lt;A&gt;") && !zh.contains("Farm <A>"),
        "{zh}"
    );
    assert!(zh.contains(&format!("案件编号 {id}")), "{zh}");
    let en = html::document(&f, Doc::Inspection, Lang::En);
    assert!(
        en.contains("inspection sheet") && en.contains("Mining machines found"),
        "{en}"
    );
}

#[test]
fn a_load_curve_is_an_svg_line_with_its_onset() {
    let values: Vec<Option<f32>> = (0..60)
        .map(|i| {
            if i == 20 {
                None
            } else {
                Some(if i < 30 { 10.0 } else { 250.0 })
            }
        })
        .collect();
    let svg =
        chart::load_curve_svg(1_704_067_200, &values, Some(1_704_067_200 + 30 * 86_400)).unwrap();
    assert!(svg.starts_with("<svg") && svg.contains("kWh/day"), "{svg}");
    // The gap breaks the line in two; the onset is a third path.
    assert!(svg.matches("<polyline").count() >= 2, "{svg}");
}
