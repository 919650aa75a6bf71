//! The web UI in a real headless Chromium driven over WebDriver (Debian's chromium and
//! chromium-driver): log in, open the dashboard, filter the cases, open one, advance it, record
//! an inspection, upload evidence, switch the language, log out; every change goes through
//! the REST API from the page's script. Screenshots go to target/screenshots, and to docs/screenshots when
//! MINEWATCH_SCREENSHOTS=docs. Skips with a notice when the browser is not installed.

use std::net::TcpListener as StdListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{ClientBuilder, Locator};
use minewatch_server::{AppState, app, auth};
use minewatch_store::ingest::{IngestReport, ingest_file};
use minewatch_store::testing::write;
use minewatch_store::users::{self, Role};
use minewatch_store::{Store, cases, registry};
use serde_json::json;

const CHROMIUM: &str = "/usr/bin/chromium";
const DRIVER: &str = "/usr/bin/chromedriver";

/// The text of element `id` once `done` holds for it (or whatever it is after ten seconds).
async fn text_until(client: &fantoccini::Client, id: &str, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let text = match client.find(Locator::Id(id)).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        };
        if done(&text) || Instant::now() > deadline {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The text of element `id` once it equals `want` (or whatever it is after ten seconds).
async fn text_when(client: &fantoccini::Client, id: &str, want: &str) -> String {
    text_until(client, id, |t| t == want).await
}

/// The page's address once `done` holds for it (or whatever it is after ten seconds).
async fn url_until(client: &fantoccini::Client, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let url = client.current_url().await.unwrap().to_string();
        if done(&url) || Instant::now() > deadline {
            return url;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The text of an element once it is on the page.
async fn text_of(client: &fantoccini::Client, at: Locator<'_>) -> String {
    el(client, at).await.unwrap().text().await.unwrap()
}

/// The element once it is on the page (ten seconds at most).
async fn el(
    client: &fantoccini::Client,
    at: Locator<'_>,
) -> Result<fantoccini::elements::Element, fantoccini::error::CmdError> {
    client
        .wait()
        .at_most(Duration::from_secs(10))
        .for_element(at)
        .await
}

/// Types into an element once it is there.
async fn fill(client: &fantoccini::Client, at: Locator<'_>, text: &str) {
    el(client, at).await.unwrap().send_keys(text).await.unwrap();
}

/// Clicks an element once it is there.
async fn click(client: &fantoccini::Client, at: Locator<'_>) {
    el(client, at).await.unwrap().click().await.unwrap();
}

fn free_port() -> u16 {
    StdListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

struct Driver(Child);
impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A meter as `power scan` writes it for suspects: daily energy with a step of `kw` at `onset`.
fn power_line(m: &str, kw: f64, onset: &str) -> String {
    let values: Vec<f64> = (0..40)
        .map(|d| if d < 40 - 20 { 12.0 } else { 12.0 + kw * 24.0 })
        .collect();
    json!({"meter_id": m, "score": 0.8, "suspected": true, "onset": onset, "mining_kw": kw,
           "window_start": "2024-02-01", "window_end": "2024-02-29",
           "daily_kwh": {"start": "2024-01-21", "values": values},
           "reasons": [{"code": "flat", "en": "load factor 0.91: the curve is flat", "zh": "负荷率0.91"}]})
    .to_string()
}

fn store_with_cases(dir: &Path) -> String {
    let target = dir.join("ui.db").display().to_string();
    let files = [
        write(
            dir,
            "sites.csv",
            "site_id,name,address,region_code,owner\nS1,Farm,No. 1 Road,150202,Wang\nS2,Barn,No. 2 Road,511802,Zhao\nS3,Shop,No. 3 Road,150602,Li\n",
        ),
        write(dir, "meters.csv", "meter_id,site_id\nM1,S1\nM2,S2\nM3,S3\n"),
        write(dir, "subscribers.csv", "subscriber_id,site_id\nU1,S1\n"),
        write(dir, "wallets.csv", "wallet,coin,site_id\nbc1qfarm,BTC,S1\n"),
        write(
            dir,
            "leases.csv",
            "ip,start,subscriber_id\n10.0.0.5,2024-02-01,U1\n",
        ),
    ];
    let power = |m: &str, kw: f64| power_line(m, kw, "2024-02-10");
    let session = json!({"event": {"dataset": "minewatch.scan", "start": "2024-02-20T10:00:00+08:00", "end": "2024-02-20T10:05:00+08:00"},
        "source": {"ip": "10.0.0.5", "port": 40001}, "destination": {"ip": "203.0.113.1", "port": 3333},
        "mining": {"detector": "stratum", "coin": "BTC", "pool": "203.0.113.1:3333", "worker": "farm1",
                   "hashrate_hs": 1.1e14, "power_w": 3250.0, "power_w_low": 2000.0, "power_w_high": 5000.0, "confidence": 1.0}})
    .to_string();
    let trace = [
        json!({"traced": "bc1qfarm", "hop": -1, "from": "coinbase", "to": "bc1qfarm", "txid": "aa",
               "value_sat": 312_500_000, "time": 1_708_387_200, "pool": "F2Pool"}),
        json!({"traced": "bc1qfarm", "hop": 2, "from": "bc1qmid", "to": "1Exch", "txid": "bb",
               "value_sat": 300_000_000, "time": 1_708_473_600, "to_label": "Exchange A", "to_category": "exchange"}),
    ];
    let ev = write(
        dir,
        "ev.jsonl",
        &format!(
            "{}\n{}\n{}\n{session}\n{}\n{}\n",
            power("M1", 14.0),
            power("M2", 30.0),
            power("M3", 6.5),
            trace[0],
            trace[1]
        ),
    );
    let mut store = Store::open(&target).unwrap();
    for f in &files {
        registry::import(&mut store.conn, f, None).unwrap();
    }
    ingest_file(
        &mut store.conn,
        &ev,
        &minewatch_store::ingest::Rules::default(),
        &mut IngestReport::default(),
    )
    .unwrap();
    cases::fuse(&mut store.conn).unwrap();
    let hash = auth::hash_password("s3cret-pass").unwrap();
    users::add(&mut store.conn, "li.wei", Role::Coordination, "", &hash, 0).unwrap();
    target
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn log_in_filter_open_advance_and_switch_language() {
    if !Path::new(CHROMIUM).exists() || !Path::new(DRIVER).exists() {
        minewatch_model::skip::skipped(&format!(
            "{CHROMIUM} or {DRIVER} is missing (apt-get install chromium chromium-driver); the browser test skips"
        ));
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_path_buf();
    let target = tokio::task::spawn_blocking(move || store_with_cases(&d))
        .await
        .unwrap();
    let t = target.clone();
    let state = tokio::task::spawn_blocking(move || AppState::new(&t))
        .await
        .unwrap()
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app(state)).await });

    let port = free_port();
    let _driver = Driver(
        Command::new(DRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let profile = dir.path().join("profile");
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({"binary": CHROMIUM, "args": [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--window-size=1280,900", format!("--user-data-dir={}", profile.display())]}),
    );
    // Two crypto back ends meet in the workspace (ring for the synthetic TLS, aws-lc for the
    // WebDriver client's default); name one, or rustls refuses to choose.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let deadline = Instant::now() + Duration::from_secs(20);
    let client = loop {
        match ClientBuilder::rustls()
            .unwrap()
            .capabilities(caps.clone())
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
        {
            Ok(c) => break c,
            Err(e) if Instant::now() > deadline => panic!("chromedriver did not answer: {e}"),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    };
    let shots: PathBuf = match std::env::var("MINEWATCH_SCREENSHOTS").as_deref() {
        Ok("docs") => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/screenshots"),
        _ => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots"),
    };
    std::fs::create_dir_all(&shots).unwrap();
    let shot = |name: &'static str| {
        let client = client.clone();
        let path = shots.join(name);
        async move {
            let png = client.screenshot().await.unwrap();
            std::fs::write(path, png).unwrap();
        }
    };

    // Unauthenticated pages send us to the log-in form; a wrong password says so.
    client.goto(&format!("{base}/cases")).await.unwrap();
    let url = url_until(&client, |u| u.ends_with("/login")).await;
    assert!(url.ends_with("/login"), "{url}");
    fill(&client, Locator::Id("name"), "li.wei").await;
    fill(&client, Locator::Id("password"), "wrong").await;
    click(&client, Locator::Id("submit")).await;
    let err = text_when(&client, "login-msg", "用户名或密码错误。").await;
    assert_eq!(err, "用户名或密码错误。");
    // The page stays; the fields keep what was typed.
    el(&client, Locator::Id("password"))
        .await
        .unwrap()
        .clear()
        .await
        .unwrap();
    fill(&client, Locator::Id("password"), "s3cret-pass").await;
    shot("login.png").await;
    click(&client, Locator::Id("submit")).await;

    // The dashboard: regional figures, the chart, the schematic map.
    let regions = text_of(&client, Locator::Id("regions")).await;
    assert!(
        regions.contains("内蒙古自治区") && regions.contains("四川省"),
        "{regions}"
    );
    assert!(el(&client, Locator::Css("#chart svg")).await.is_ok());
    assert_eq!(
        client
            .find_all(Locator::Css("#map .tile"))
            .await
            .unwrap()
            .len(),
        2
    );
    shot("dashboard.png").await;

    // Cases, filtered to Inner Mongolia.
    client.goto(&format!("{base}/cases")).await.unwrap();
    el(&client, Locator::Id("case-table")).await.unwrap();
    assert_eq!(
        client
            .find_all(Locator::Css("a.case-link"))
            .await
            .unwrap()
            .len(),
        3
    );
    fill(&client, Locator::Id("f-region"), "15").await;
    click(&client, Locator::Id("apply")).await;
    let url = url_until(&client, |u| u.contains("region=15")).await;
    assert!(url.contains("region=15"), "the filter did not load: {url}");
    el(&client, Locator::Id("case-table")).await.unwrap();
    let links = client.find_all(Locator::Css("a.case-link")).await.unwrap();
    assert_eq!(links.len(), 2, "Inner Mongolia has two cases");
    shot("cases.png").await;

    // The case with both streams: its sessions and evidence; advance it.
    let s1 = {
        let t = target.clone();
        tokio::task::spawn_blocking(move || {
            let mut s = Store::open(&t).unwrap();
            cases::list(&mut s.conn, &cases::Filter::default())
                .unwrap()
                .into_iter()
                .find(|c| c.site_id == "S1")
                .unwrap()
                .case_id
        })
        .await
        .unwrap()
    };
    client.goto(&format!("{base}/cases/{s1}")).await.unwrap();
    assert!(
        el(&client, Locator::Css("#load-curve svg")).await.is_ok(),
        "the meter's load curve is drawn"
    );
    let evidence = text_of(&client, Locator::Id("evidence")).await;
    assert!(
        evidence.contains("stratum") && evidence.contains("power-score"),
        "{evidence}"
    );
    let trail = text_of(&client, Locator::Css("#money-trail svg")).await;
    assert!(
        trail.contains("F2Pool") && trail.contains("Exchange A"),
        "the money trail names the pool and the exchange: {trail}"
    );
    client
        .execute(
            "document.getElementById('money-trail').scrollIntoView()",
            vec![],
        )
        .await
        .unwrap();
    shot("money-trail.png").await;
    client
        .execute("window.scrollTo(0, 0)", vec![])
        .await
        .unwrap();
    click(&client, Locator::Css("#to option[value='verified']")).await;
    fill(&client, Locator::Id("reason"), "site visit: 16 machines").await;
    shot("case.png").await;
    click(&client, Locator::Id("do-advance")).await;
    assert_eq!(text_when(&client, "state", "已核实").await, "已核实");
    let history = text_of(&client, Locator::Id("history")).await;
    assert!(
        history.contains("li.wei") && history.contains("site visit: 16 machines"),
        "{history}"
    );

    // An inspection outcome through its form.
    fill(
        &client,
        Locator::Css("#inspection input[name='machines']"),
        "16",
    )
    .await;
    click(&client, Locator::Css("#inspection button")).await;
    let inspections = text_until(&client, "inspections", |t| t.contains("16")).await;
    assert!(
        inspections.contains("16"),
        "the inspection did not appear: {inspections}"
    );

    // Evidence handed in through the upload page: the API's answer is shown in place.
    client.goto(&format!("{base}/upload")).await.unwrap();
    let upload = dir.path().join("more.jsonl");
    std::fs::write(
        &upload,
        power_line("M9", 7.0, "2024-03-01") + "\n{not json\n",
    )
    .unwrap();
    el(&client, Locator::Id("file"))
        .await
        .unwrap()
        .send_keys(&upload.display().to_string())
        .await
        .unwrap();
    click(&client, Locator::Id("do-upload")).await;
    let said = text_until(&client, "upload-msg", |t| !t.is_empty()).await;
    assert!(
        said.contains("1 new") && said.contains("1 refused") && said.contains("line 2"),
        "{said}"
    );
    shot("upload.png").await;
    client.goto(&format!("{base}/cases/{s1}")).await.unwrap();

    // English.
    click(&client, Locator::Id("lang")).await;
    assert_eq!(text_when(&client, "state", "verified").await, "verified");
    let title = client.title().await.unwrap();
    assert!(title.starts_with("Case"), "{title}");
    shot("case-en.png").await;

    // A tablet held upright: the case list and the case page fit without scrolling sideways.
    client.set_window_size(768, 1024).await.unwrap();
    for (page, name) in [
        (format!("{base}/cases"), "cases-tablet.png"),
        (format!("{base}/cases/{s1}"), "case-tablet.png"),
    ] {
        client.goto(&page).await.unwrap();
        el(&client, Locator::Css("main h2")).await.unwrap();
        let overflow = client
            .execute(
                "return document.documentElement.scrollWidth - document.documentElement.clientWidth",
                vec![],
            )
            .await
            .unwrap();
        assert!(
            overflow.as_i64().unwrap_or(1) <= 0,
            "{page} is wider than a tablet by {overflow}px"
        );
        shot(name).await;
    }
    client.set_window_size(1280, 900).await.unwrap();

    // Log out: back to the log-in page, and the cookie no longer opens anything.
    click(&client, Locator::Id("logout")).await;
    let url = url_until(&client, |u| u.ends_with("/login")).await;
    assert!(url.ends_with("/login"), "log-out led to {url}");
    client.goto(&format!("{base}/cases")).await.unwrap();
    let url = url_until(&client, |u| u.ends_with("/login")).await;
    assert!(url.ends_with("/login"), "a dead cookie opened {url}");

    // The changes are in the audit chain, which holds.
    let t = target.clone();
    tokio::task::spawn_blocking(move || {
        let mut s = Store::open(&t).unwrap();
        let log = minewatch_store::audit::latest(&mut s.conn, 50).unwrap();
        // The page's change went through the API.
        assert!(log.iter().any(|e| e.action == "case.advance"
            && e.actor == "li.wei"
            && e.detail.contains("\"via\":\"api\"")));
        assert!(
            log.iter()
                .any(|e| e.action == "evidence.upload" && e.actor == "li.wei")
        );
        assert!(
            log.iter()
                .any(|e| e.action == "logout" && e.actor == "li.wei")
        );
        assert_eq!(
            minewatch_store::audit::verify(&mut s.conn)
                .unwrap()
                .broken_at,
            None
        );
    })
    .await
    .unwrap();
    client.close().await.unwrap();
}
