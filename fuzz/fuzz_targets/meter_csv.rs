//! Meter readings files built from rows: meters from a few ids (so runs are grouped, then not),
//! timestamps on an hourly grid with offsets, zones, off-grid seconds, repeats and jumps, and
//! values in every shape a meter export has (decimals, exponents, signs, blanks, NaN, commas,
//! quotes, stray bytes); read by `power::read::read_readings`, the grouped fast path first.
#![no_main]
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Value {
    Decimal(u32, u8),
    Float(f64),
    Negative(u16),
    Text(String),
    Blank,
}

#[derive(Arbitrary, Debug)]
enum Time {
    Next,
    Repeat,
    Jump(i32),
    OffGrid(u8),
    Zone(i8),
    Spaced,
    Raw(String),
}

#[derive(Arbitrary, Debug)]
struct Row {
    meter: u8,
    time: Time,
    value: Value,
    extra: Option<String>,
}

#[derive(Arbitrary, Debug)]
struct Input {
    header: u8,
    crlf: bool,
    rows: Vec<Row>,
}

const HEADERS: [&str; 4] = [
    "meter_id,timestamp,kwh",
    "timestamp,meter_id,kwh",
    "CONS_NO,datetime,value,flag",
    "meter,time,kw",
];

fuzz_target!(|input: Input| {
    let header = HEADERS[usize::from(input.header) % HEADERS.len()];
    let cols: Vec<&str> = header.split(',').collect();
    let nl = if input.crlf { "\r\n" } else { "\n" };
    let mut text = format!("{header}{nl}");
    let mut t: i64 = 1_700_000_000;
    for r in &input.rows {
        let stamp = |secs: i64| {
            time::OffsetDateTime::from_unix_timestamp(secs.clamp(0, 4_000_000_000))
                .map(|d| {
                    format!(
                        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
                        d.year(),
                        u8::from(d.month()),
                        d.day(),
                        d.hour(),
                        d.minute(),
                        d.second()
                    )
                })
                .unwrap_or_default()
        };
        let ts = match &r.time {
            Time::Next => {
                t += 3600;
                stamp(t)
            }
            Time::Repeat => stamp(t),
            Time::Jump(d) => {
                t = t.saturating_add(i64::from(*d) * 60);
                stamp(t)
            }
            Time::OffGrid(s) => stamp(t + i64::from(*s)),
            Time::Zone(z) => format!("{}{:+03}:00", stamp(t), z % 15),
            Time::Spaced => stamp(t).replace('T', " "),
            Time::Raw(s) => s.replace(['\n', '\r'], ""),
        };
        let value = match &r.value {
            Value::Decimal(i, f) => format!("{i}.{f}"),
            Value::Float(f) => format!("{f:e}"),
            Value::Negative(n) => format!("-{n}"),
            Value::Text(s) => s.replace(['\n', '\r'], ""),
            Value::Blank => String::new(),
        };
        let meter = format!("M{:03}", r.meter % 6);
        let fields: Vec<String> = cols
            .iter()
            .map(|c| match *c {
                "meter_id" | "CONS_NO" | "meter" => meter.clone(),
                "timestamp" | "datetime" | "time" => ts.clone(),
                "flag" => r.extra.clone().unwrap_or_default().replace(['\n', '\r'], ""),
                _ => value.clone(),
            })
            .collect();
        text.push_str(&fields.join(","));
        text.push_str(nl);
    }
    let Ok(dir) = tempfile::tempdir() else { return };
    let p = dir.path().join("readings.csv");
    if std::fs::write(&p, text).is_err() {
        return;
    }
    let mut sink: Vec<minewatch_power::series::Series> = Vec::new();
    let _ = minewatch_power::read::read_readings(
        &[p],
        &minewatch_power::read::ReadingsOptions::default(),
        &|_| false,
        &mut sink,
    );
});
