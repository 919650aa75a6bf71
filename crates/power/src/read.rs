//! Meter readings from CSV: the long layout (`meter_id,timestamp,kwh`) and the wide layout
//! (one row per meter, one column per day, as the SGCC data set lays it out).
//!
//! A long file is first read in one pass by `fastcsv` as if grouped by meter (as meter data
//! systems export), each meter handed on as its rows end; a file that proves otherwise is
//! taken back from the sink ([`SeriesSink::forget`]) and read here. Rows are grouped by meter whatever their order. Files up to `memory_rows` rows are
//! grouped in memory; larger ones are first split by a hash of the meter id into partition
//! files on disk (each line keeping its original line number), then grouped one partition at a
//! time, so memory is bounded by a partition, not by the input. Every malformed row is counted
//! by reason, and the first ones are listed with file, line and column.

pub use crate::input::{ReadError, ReadStats, ReadingsOptions, SeriesSink};
use crate::input::{Rows, emit, io, partition_dir};
use crate::series::{BuildConfig, Series, build};
use crate::time::{Stamp, parse};
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};

fn find(headers: &[String], asked: Option<&str>, defaults: &[&str]) -> Option<usize> {
    match asked {
        Some(a) => headers.iter().position(|h| h.eq_ignore_ascii_case(a)),
        None => defaults
            .iter()
            .find_map(|d| headers.iter().position(|h| h.eq_ignore_ascii_case(d))),
    }
}

/// Reads every readings file and hands each meter's series to `sink`.
pub fn read_readings(
    paths: &[PathBuf],
    opts: &ReadingsOptions,
    allow_negative: &dyn Fn(&str) -> bool,
    sink: &mut dyn SeriesSink,
) -> Result<ReadStats, ReadError> {
    let mut stats = ReadStats::default();
    for p in paths {
        read_file(p, opts, allow_negative, sink, &mut stats)?;
    }
    Ok(stats)
}

fn header_of(path: &Path) -> Result<Vec<String>, ReadError> {
    let file = std::fs::File::open(path).map_err(io(path))?;
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .from_reader(file);
    let h = r.headers().map_err(|e| ReadError::Header {
        path: path.to_path_buf(),
        what: e.to_string(),
    })?;
    Ok(h.iter()
        .map(|s| s.trim().trim_start_matches('\u{feff}').to_string())
        .collect())
}

fn read_file(
    path: &Path,
    opts: &ReadingsOptions,
    allow_negative: &dyn Fn(&str) -> bool,
    sink: &mut dyn SeriesSink,
    stats: &mut ReadStats,
) -> Result<(), ReadError> {
    #[cfg(feature = "parquet")]
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet") || e.eq_ignore_ascii_case("pq"))
    {
        return crate::parquet::read_file(path, opts, allow_negative, sink, stats);
    }
    #[cfg(not(feature = "parquet"))]
    if path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("parquet") || e.eq_ignore_ascii_case("pq"))
    {
        return Err(ReadError::Header {
            path: path.to_path_buf(),
            what: "Parquet input needs the `parquet` feature (cargo build --release --features parquet)".into(),
        });
    }
    let headers = header_of(path)?;
    let meter = find(
        &headers,
        opts.meter_column.as_deref(),
        &["meter_id", "meter", "cons_no", "id"],
    );
    let time = find(
        &headers,
        opts.time_column.as_deref(),
        &["timestamp", "time", "datetime", "date", "ts"],
    );
    let value = find(
        &headers,
        opts.value_column.as_deref(),
        &["kwh", "value", "energy", "wh", "kw", "consumption"],
    );
    let date_columns = headers.iter().filter(|h| parse(h, 0).is_some()).count();
    match (meter, time, value) {
        (Some(m), Some(t), Some(v)) => {
            read_long(path, &headers, (m, t, v), opts, allow_negative, sink, stats)
        }
        (Some(m), _, _) if date_columns >= 3 => {
            let f = &mut |s| sink.take(s);
            read_wide(path, &headers, m, opts, allow_negative, f, stats)
        }
        _ => Err(ReadError::Header {
            path: path.to_path_buf(),
            what: format!(
                "need columns for meter, timestamp and value (long layout) or a meter column and date columns (wide layout); found {}",
                headers.join(",")
            ),
        }),
    }
}

#[allow(clippy::too_many_arguments)]
fn read_long(
    path: &Path,
    headers: &[String],
    (mc, tc, vc): (usize, usize, usize),
    opts: &ReadingsOptions,
    allow_negative: &dyn Fn(&str) -> bool,
    sink: &mut dyn SeriesSink,
    stats: &mut ReadStats,
) -> Result<(), ReadError> {
    let size = std::fs::metadata(path).map_err(io(path))?.len();
    if size > 0 {
        // A file truncated under the map reads as zeros past the cut instead of ending the
        // process (minewatch_mapped); the loss is checked once the stream is done.
        let mapped = minewatch_mapped::MappedFile::open(path).map_err(io(path))?;
        let map = mapped.bytes();
        let header_end = memchr::memchr(b'\n', map).map_or(map.len(), |i| i + 1);
        // The reading goes front to back: the pages behind the reading position leave this
        // process's resident set (they stay in the page cache).
        let advance = |from: usize, at: usize| {
            let end = at & !((64 << 10) - 1);
            if end > from {
                mapped.release(from, end - from);
            }
            end.max(from)
        };
        // The fast stream takes files whose columns are among the first eight.
        if mc.max(tc).max(vc) < 8 {
            let before = stats.clone();
            let mut released = advance(0, 0);
            let mut release = |at: usize| released = advance(released, at);
            let streamed = crate::fastcsv::stream(
                path,
                map,
                header_end,
                headers,
                (mc, tc, vc),
                opts,
                allow_negative,
                sink,
                stats,
                &mut release,
            );
            if let Some(offset) = mapped.lost_from().or_else(|| mapped.shrunk_to()) {
                return Err(ReadError::Shrunk {
                    path: path.to_path_buf(),
                    offset,
                });
            }
            if streamed == crate::fastcsv::Streamed::Done {
                return Ok(());
            }
            // Not grouped (what was handed on is taken back): the general reader starts
            // over, and counts afresh.
            *stats = before;
        }
    }
    let f = &mut |s| sink.take(s);
    // About 40 bytes a row in the default layout: estimate before reading.
    if size / 40 > opts.memory_rows as u64 {
        return read_long_partitioned(
            path,
            headers,
            (mc, tc, vc),
            opts,
            allow_negative,
            f,
            stats,
            size,
        );
    }
    let mut rows: Rows = HashMap::default();
    each_row(path, path, true, stats, &mut |line, rec, stats| {
        if let Some((m, s, v)) = parse_row(path, line, headers, rec, (mc, tc, vc), opts, stats) {
            rows.entry(m).or_default().push((s, v));
        }
    })?;
    emit(rows, opts, allow_negative, f, stats);
    Ok(())
}

/// Hands every row of the CSV file `file` to `f` with its line number and counts it; rows the
/// CSV reader cannot read are counted as skipped under `shown` (the user's file) and passed over.
fn each_row(
    file: &Path,
    shown: &Path,
    has_headers: bool,
    stats: &mut ReadStats,
    f: &mut dyn FnMut(u64, &csv::ByteRecord, &mut ReadStats),
) -> Result<(), ReadError> {
    let reader = std::fs::File::open(file).map_err(io(file))?;
    let mut r = csv::ReaderBuilder::new()
        .has_headers(has_headers)
        .flexible(true)
        .from_reader(reader);
    let mut rec = csv::ByteRecord::new();
    loop {
        match r.read_byte_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => return Ok(()),
            Err(e) => {
                // A partition's own line numbers mean nothing to the user: say none.
                let line = if file == shown {
                    e.position().map_or(0, |p| p.line())
                } else {
                    0
                };
                stats.skip(shown, line, "-", &format!("unreadable row: {e}"));
                continue;
            }
        }
        stats.rows += 1;
        f(rec.position().map_or(0, |p| p.line()), &rec, stats);
    }
}

/// Cell `i` of a row as trimmed text (None when absent or not UTF-8).
fn cell(rec: &csv::ByteRecord, i: usize) -> Option<&str> {
    rec.get(i)
        .and_then(|b| std::str::from_utf8(b).ok())
        .map(str::trim)
}

#[allow(clippy::too_many_arguments)]
fn parse_row(
    path: &Path,
    line: u64,
    headers: &[String],
    rec: &csv::ByteRecord,
    (mc, tc, vc): (usize, usize, usize),
    opts: &ReadingsOptions,
    stats: &mut ReadStats,
) -> Option<(String, Stamp, f64)> {
    let field = |i: usize| cell(rec, i);
    let Some(m) = field(mc).filter(|m| !m.is_empty()) else {
        stats.skip_in(path, line, (headers, mc), "missing meter id");
        return None;
    };
    let Some(s) = field(tc).and_then(|t| parse(t, opts.default_offset)) else {
        stats.skip_in(path, line, (headers, tc), "unreadable timestamp");
        return None;
    };
    let v = match field(vc) {
        Some("") | None => {
            stats.skip_in(path, line, (headers, vc), "missing value");
            return None;
        }
        Some(t) => match t.parse::<f64>() {
            Ok(v) if v.is_finite() => v,
            _ => {
                stats.skip_in(path, line, (headers, vc), "unreadable value");
                return None;
            }
        },
    };
    Some((m.to_string(), s, v))
}

#[allow(clippy::too_many_arguments)]
fn read_long_partitioned(
    path: &Path,
    headers: &[String],
    cols: (usize, usize, usize),
    opts: &ReadingsOptions,
    allow_negative: &dyn Fn(&str) -> bool,
    f: &mut dyn FnMut(Series),
    stats: &mut ReadStats,
    size: u64,
) -> Result<(), ReadError> {
    let parts = ((size / 40 / opts.memory_rows.max(1) as u64) + 1).clamp(2, 4096) as usize;
    let dir = partition_dir(path, "partitions")?;
    let hasher = foldhash::fast::FixedState::with_seed(7);
    let mut writers: Vec<BufWriter<std::fs::File>> = (0..parts)
        .map(|i| std::fs::File::create(dir.join(format!("part-{i}.csv"))).map(BufWriter::new))
        .collect::<Result<_, _>>()
        .map_err(io(&dir))?;
    let file = std::fs::File::open(path).map_err(io(path))?;
    let reader = BufReader::with_capacity(1 << 20, file);
    // Lines are copied as they are, prefixed with their number: a quoted field with a newline
    // in a meter file would be malformed anyway and is reported as such in the partition pass.
    for (n, line) in reader.split(b'\n').enumerate().skip(1) {
        let line = line.map_err(io(path))?;
        if line.is_empty() {
            continue;
        }
        let meter = line.split(|&c| c == b',').nth(cols.0).unwrap_or_default();
        let p = (hasher.hash_one(meter.trim_ascii()) % (parts as u64).max(1)) as usize;
        let Some(w) = writers.get_mut(p) else {
            continue;
        };
        write!(w, "{},", n + 1).map_err(io(&dir))?;
        w.write_all(&line).map_err(io(&dir))?;
        w.write_all(b"\n").map_err(io(&dir))?;
    }
    for w in &mut writers {
        w.flush().map_err(io(&dir))?;
    }
    drop(writers);
    let shifted = (cols.0 + 1, cols.1 + 1, cols.2 + 1);
    let mut h2 = vec!["line".to_string()];
    h2.extend_from_slice(headers);
    for i in 0..parts {
        let pf = dir.join(format!("part-{i}.csv"));
        let mut rows: Rows = HashMap::default();
        each_row(&pf, path, false, stats, &mut |_, rec, stats| {
            // The original line number travels in the partition's first column.
            let line = cell(rec, 0).and_then(|s| s.parse().ok()).unwrap_or(0);
            if let Some((m, s, v)) = parse_row(path, line, &h2, rec, shifted, opts, stats) {
                rows.entry(m).or_default().push((s, v));
            }
        })?;
        emit(rows, opts, allow_negative, f, stats);
        let _ = std::fs::remove_file(&pf);
    }
    let _ = std::fs::remove_dir(&dir);
    Ok(())
}

fn read_wide(
    path: &Path,
    headers: &[String],
    mc: usize,
    opts: &ReadingsOptions,
    allow_negative: &dyn Fn(&str) -> bool,
    f: &mut dyn FnMut(Series),
    stats: &mut ReadStats,
) -> Result<(), ReadError> {
    let dates: Vec<(usize, Stamp)> = headers
        .iter()
        .enumerate()
        .filter_map(|(i, h)| parse(h, opts.default_offset).map(|s| (i, s)))
        .collect();
    let flag = headers.iter().position(|h| h.eq_ignore_ascii_case("flag"));
    each_row(path, path, true, stats, &mut |line, rec, stats| {
        let field = |i: usize| cell(rec, i);
        let Some(m) = field(mc).filter(|m| !m.is_empty()).map(str::to_string) else {
            stats.skip_in(path, line, (headers, mc), "missing meter id");
            return;
        };
        if let Some(fl) = flag.and_then(field) {
            stats.labels.push((m.clone(), fl == "1"));
        }
        let mut points = Vec::with_capacity(dates.len());
        for (i, s) in &dates {
            match field(*i) {
                // Empty cells are gaps in the SGCC data, not errors: they become missing values.
                Some("") | None => {}
                Some(t) => match t.parse::<f64>() {
                    Ok(v) if v.is_finite() => points.push((*s, v)),
                    _ => stats.skip_in(path, line, (headers, *i), "unreadable value"),
                },
            }
        }
        let cfg = BuildConfig {
            step: Some(86_400),
            register: crate::series::Register::Interval,
            allow_negative: opts.build.allow_negative || allow_negative(&m),
            ..opts.build
        };
        if let Some(s) = build(&m, points, &cfg) {
            stats.meters += 1;
            f(s);
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(not(feature = "parquet"))]
    #[test]
    fn parquet_without_the_feature_says_how_to_get_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.parquet");
        std::fs::write(&p, b"PAR1").unwrap();
        let err = read_readings(
            &[p],
            &ReadingsOptions::default(),
            &|_| false,
            &mut Vec::new(),
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("needs the `parquet` feature"), "{err}");
    }

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    fn collect(paths: &[PathBuf], opts: &ReadingsOptions) -> (Vec<Series>, ReadStats) {
        let mut v = Vec::new();
        let st = read_readings(paths, opts, &|_| false, &mut v).unwrap();
        (v, st)
    }

    #[test]
    fn long_layout_any_order_with_bad_rows_named() {
        let d = tempfile::tempdir().unwrap();
        let p = write(
            d.path(),
            "r.csv",
            "meter_id,timestamp,kwh\nb,2024-01-01T01:00:00+08:00,2\na,2024-01-01T00:00:00+08:00,1\nb,2024-01-01T00:00:00+08:00,2\na,not-a-time,1\na,2024-01-01T01:00:00+08:00,x\n,2024-01-01T01:00:00+08:00,1\na,2024-01-01T02:00:00+08:00,1\n",
        );
        let (v, st) = collect(&[p], &ReadingsOptions::default());
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].meter_id, "a");
        assert_eq!(v[0].kwh.len(), 3);
        assert!(v[0].kwh[1].is_nan());
        assert_eq!(st.rows, 7);
        assert_eq!(st.skipped_total(), 3);
        assert!(
            st.examples[0].contains("r.csv:5: column timestamp: unreadable timestamp"),
            "{:?}",
            st.examples
        );
        assert!(st.examples[1].contains(":6: column kwh: unreadable value"));
    }

    #[test]
    fn partitioned_reading_gives_the_same_series() {
        let d = tempfile::tempdir().unwrap();
        let mut text = String::from("meter_id,timestamp,kwh\n");
        for h in 0..48 {
            for m in 0..30 {
                text.push_str(
                    &format!("m{m},2024-01-01T00:00:00+08:00,{}\n", 0.5)
                        .replace("T00", &format!("T{:02}", h % 24))
                        .replace("01-01", if h < 24 { "01-01" } else { "01-02" }),
                );
            }
        }
        text.push_str("m3,garbage,1\n");
        let p = write(d.path(), "big.csv", &text);
        let (a, sa) = collect(std::slice::from_ref(&p), &ReadingsOptions::default());
        let (b, sb) = collect(
            &[p],
            &ReadingsOptions {
                memory_rows: 10,
                ..ReadingsOptions::default()
            },
        );
        let mut b = b;
        b.sort_by(|x, y| x.meter_id.cmp(&y.meter_id));
        assert_eq!(a, b);
        assert_eq!(sa.rows, sb.rows);
        assert_eq!(sa.skipped, sb.skipped);
        assert!(
            sb.examples[0].contains(&format!(":{}:", 48 * 30 + 2)),
            "{:?}",
            sb.examples
        );
    }

    /// A grouped file whose lines take every turn of the fast stream: its fast path, the lines
    /// it leaves to the general parsers, and bad rows.
    fn grouped_text() -> String {
        let mut t = String::from("meter_id,timestamp,kwh\n");
        for m in 1..=6 {
            for h in 0..30 {
                let (day, hour) = (1 + h / 24, h % 24);
                let v = format!("{}.{}", m + h % 3, h % 7);
                let line = match (m, h) {
                    (2, 5) => format!("m2,2024-03-{day:02}T{hour:02}:00:00.5+01:00,{v}\r\n"),
                    (2, 6) => format!("m2,2024-03-{day:02}T{hour:02}:00:00+02:00,{v}\n"),
                    (3, 7) => format!("m3,2024-03-{day:02}T{hour:02}:00:00+01:00,1e0\n"),
                    (3, 8) => format!("m3,2024-03-{day:02}T{hour:02}:00:00+01:00, 2.5\n"),
                    (3, 9) => format!("m3,2024-03-{day:02}T{hour:02}:00:00+01:00,\n"),
                    (3, 10) => format!("m3,2024-03-{day:02}T{hour:02}:61:00+01:00,1\n"),
                    (4, 3) => format!("m4,2024-03-{day:02}T{hour:02}:00:00+01:00,{v},extra\n"),
                    (4, 4) => format!("m4,2024-03-{day:02}T{hour:02}:00:00+01:00,+3\n"),
                    (4, 5) => {
                        format!("m4,2024-03-{day:02}T{hour:02}:00:00+01:00,1234567890.1234567\n")
                    }
                    (4, 6) => format!("m4,2024-03-{day:02}T{hour:02}:00:00+01:00,-0.25\n\n"),
                    (5, 2) => format!("m5,2024-03-{day:02}T{hour:02}:00:00+01:00,{v}\r\n"),
                    (5, 9) => format!("m5,2024-03-{day:02}T{:02}:00:00+01:00,{v}\n", hour - 2),
                    (5, 12) => format!("m5,2024-03-{day:02}T{hour:02}:00+01:00,{v}\n"),
                    (6, _) => format!("m6,2024-03-{day:02}T{hour:02}:00:00Z,{v}\n"),
                    _ => format!("m{m},2024-03-{day:02}T{hour:02}:00:00+01:00,{v}\n"),
                };
                t.push_str(&line);
            }
        }
        t
    }

    /// Series sorted by meter, as text: missing intervals (NaN) compare equal that way.
    fn by_meter(mut v: Vec<Series>) -> String {
        v.sort_by(|a, b| a.meter_id.cmp(&b.meter_id));
        format!("{v:?}")
    }

    #[test]
    fn grouped_files_stream_like_the_general_reader() {
        let d = tempfile::tempdir().unwrap();
        let text = grouped_text();
        let fast = write(d.path(), "fast.csv", &text);
        // A quoted row sends a file to the general reader.
        let quoted = write(
            d.path(),
            "quoted.csv",
            &format!("{text}\"m9\",2024-03-01T00:00:00+01:00,1\n"),
        );
        let (a, sa) = collect(&[fast], &ReadingsOptions::default());
        let (b, sb) = collect(&[quoted], &ReadingsOptions::default());
        assert_eq!(a.len(), 6);
        assert_eq!(
            a.iter().map(|s| &s.meter_id).collect::<Vec<_>>(),
            ["m1", "m2", "m3", "m4", "m5", "m6"]
        );
        let b = b.into_iter().filter(|s| s.meter_id != "m9").collect();
        assert_eq!(by_meter(a), by_meter(b));
        assert_eq!(sa.rows + 1, sb.rows);
        assert_eq!(sa.skipped, sb.skipped);
        assert_eq!(
            sa.examples,
            sb.examples
                .iter()
                .map(|e| e.replace("quoted.csv", "fast.csv"))
                .collect::<Vec<_>>()
        );
        assert_eq!(sa.skipped_total(), 2, "{:?}", sa.examples);
    }

    #[test]
    fn a_meter_that_comes_back_late_is_read_whole_and_nothing_twice() {
        let d = tempfile::tempdir().unwrap();
        let text = grouped_text();
        let small = ReadingsOptions {
            memory_rows: 40,
            ..ReadingsOptions::default()
        };
        let (a, sa) = collect(
            &[write(d.path(), "a.csv", &text)],
            &ReadingsOptions::default(),
        );
        // A small memory budget changes nothing for a grouped file: each meter is handed on
        // as it ends.
        let (b, sb) = collect(&[write(d.path(), "b.csv", &text)], &small);
        assert_eq!(format!("{a:?}"), format!("{b:?}"));
        assert_eq!((sa.rows, sa.skipped), (sb.rows, sb.skipped));
        // A meter that comes back at the end: the meters handed on before are taken back,
        // and the general reader (partitioning on disk under the small budget) gives each
        // meter whole, once.
        let late = format!("{text}m1,2024-03-03T00:00:00+01:00,7\n");
        let (c, sc) = collect(&[write(d.path(), "c.csv", &late)], &small);
        let (e, se) = collect(
            &[write(d.path(), "e.csv", &format!("{late}\"q\",x,1\n"))],
            &ReadingsOptions::default(),
        );
        assert_eq!(c.len(), 6);
        assert_eq!(
            c.iter().find(|s| s.meter_id == "m1").map(|s| s.kwh.len()),
            Some(49)
        );
        let e = e.into_iter().filter(|s| s.meter_id != "q").collect();
        assert_eq!(by_meter(c), by_meter(e));
        assert_eq!(sc.rows + 1, se.rows);
    }

    #[test]
    fn wide_layout_with_labels_and_gaps() {
        let d = tempfile::tempdir().unwrap();
        let p = write(
            d.path(),
            "sgcc.csv",
            "CONS_NO,FLAG,2014/1/1,2014/1/2,2014/1/3,2014/1/4\nA1,1,3.5,,4.0,x\nB2,0,1,1,1,1\n",
        );
        let (v, st) = collect(&[p], &ReadingsOptions::default());
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].step, 86_400);
        assert!(v[0].kwh[1].is_nan());
        assert_eq!(
            st.labels,
            vec![("A1".to_string(), true), ("B2".to_string(), false)]
        );
        assert_eq!(st.skipped_total(), 1);
    }

    #[test]
    fn a_header_without_the_columns_is_an_error() {
        let d = tempfile::tempdir().unwrap();
        let p = write(d.path(), "x.csv", "a,b\n1,2\n");
        let e = read_readings(
            &[p],
            &ReadingsOptions::default(),
            &|_| false,
            &mut Vec::new(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("x.csv: line 1"), "{e}");
    }
}
