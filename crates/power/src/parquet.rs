//! Meter readings from Parquet (feature `parquet`): the long layout, one row per reading, with
//! a meter column (text or integer), a timestamp column (a Parquet timestamp, a date, or text
//! in the CSV reader's formats) and a value column (any number type). Column names default as
//! for CSV and are mapped with the same options.
//!
//! Timestamps that carry a zone are instants; their local day (for day and night, weekdays,
//! daily energy) comes from that zone when it is a fixed offset or a China zone name, and from
//! the default offset (`--utc-offset`, +08:00) when it is UTC: Parquet's own timestamp type can
//! only say "adjusted to UTC", so UTC is how most writers store local readings.
//!
//! Only the three columns are decoded (a projection), batch by batch; a text meter column is
//! read as a dictionary (as Parquet stores it), so consecutive rows of one meter compare by
//! key, and each batch's columns are typed once, not per cell. A file is first read as if
//! grouped by meter (each meter's rows together, as meter data systems write them), in one
//! pass, exactly as the CSV reader reads a grouped file; when a meter comes back, files of up
//! to `memory_rows` rows are grouped by meter in memory, and larger ones are split by a hash of
//! the meter id into partition files of fixed-width records on disk and grouped one partition
//! at a time, so memory is bounded by a partition as for CSV. Rows with a null or unreadable
//! cell are counted and named by their row number (1-based, in file order) and column.

use std::borrow::Cow;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Date32Type, Float32Type, Float64Type, Int32Type, Int64Type, TimestampMicrosecondType,
    TimestampMillisecondType, TimestampNanosecondType, TimestampSecondType, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, ArrowPrimitiveType};
use arrow_buffer::NullBuffer;
use arrow_schema::{DataType, TimeUnit};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{
    ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReaderBuilder,
};

use crate::fastcsv::Grouped;
use crate::input::{ReadError, ReadStats, ReadingsOptions, SeriesSink, emit, io, partition_dir};
use crate::series::MeterRows;
use crate::time::{Stamp, parse, parse_offset};

/// Rows decoded per batch: a batch's columns (128 KiB each) stay in the processor's cache
/// while its runs are read; 64 Ki rows measured about a tenth slower (docs/PERFORMANCE.md).
const BATCH: usize = 16 * 1024;

type Rows = crate::input::Rows;

fn header(path: &Path, what: String) -> ReadError {
    ReadError::Header {
        path: path.to_path_buf(),
        what,
    }
}

fn bad_file(path: &Path, e: impl std::fmt::Display) -> ReadError {
    // A Parquet file that cannot be decoded is a broken input, reported like an unreadable one.
    ReadError::Io {
        path: path.to_path_buf(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
    }
}

/// How a timestamp column's values become instants.
#[derive(Clone, Copy)]
enum Clock {
    /// Parquet timestamps: units per second, and the offset for local days (instants are UTC
    /// when the column names a zone; local wall time at the default offset when it does not).
    /// `offset` None: the zone is UTC, the storage convention of Parquet's own timestamp type
    /// (which cannot name a zone), so local days come from the default offset.
    Ticks {
        per_second: i64,
        offset: Option<i32>,
        naive: bool,
    },
    /// Days since the epoch, local midnight at the default offset.
    Days,
    /// Text in the CSV formats.
    Text,
}

/// The offset of a column's time zone: fixed offsets, UTC and China's zone names (no daylight
/// saving); other named zones are refused rather than guessed.
fn zone_offset(path: &Path, column: &str, tz: &str) -> Result<i32, ReadError> {
    match tz {
        "Asia/Shanghai" | "Asia/Chongqing" | "Asia/Harbin" | "Asia/Urumqi" | "PRC"
        | "Asia/Hong_Kong" | "Asia/Macau" | "Asia/Taipei" => Ok(8 * 3600),
        "UTC" | "Etc/UTC" | "GMT" | "Z" => Ok(0),
        other => parse_offset(other).ok_or_else(|| {
            header(
                path,
                format!(
                    "column {column}: time zone {other} is not supported; store UTC or a fixed offset (+08:00)"
                ),
            )
        }),
    }
}

fn clock(path: &Path, column: &str, t: &DataType) -> Result<Clock, ReadError> {
    Ok(match t {
        DataType::Timestamp(unit, tz) => {
            let per_second = match unit {
                TimeUnit::Second => 1,
                TimeUnit::Millisecond => 1_000,
                TimeUnit::Microsecond => 1_000_000,
                TimeUnit::Nanosecond => 1_000_000_000,
            };
            match tz {
                Some(z) => Clock::Ticks {
                    per_second,
                    offset: Some(zone_offset(path, column, z)?).filter(|o| *o != 0),
                    naive: false,
                },
                None => Clock::Ticks {
                    per_second,
                    offset: None,
                    naive: true,
                },
            }
        }
        DataType::Date32 => Clock::Days,
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Clock::Text,
        other => {
            return Err(header(
                path,
                format!("column {column}: a {other} cannot be read as a timestamp"),
            ));
        }
    })
}

/// The value of cell `i` of a text, integer or dictionary-of-text column as text (borrowed
/// from the batch when it is text: no copy per row).
fn text_at(a: &ArrayRef, i: usize) -> Option<Cow<'_, str>> {
    if a.is_null(i) {
        return None;
    }
    match a.data_type() {
        DataType::Utf8 => Some(Cow::Borrowed(a.as_string::<i32>().value(i))),
        DataType::LargeUtf8 => Some(Cow::Borrowed(a.as_string::<i64>().value(i))),
        DataType::Utf8View => Some(Cow::Borrowed(a.as_string_view().value(i))),
        DataType::Int32 => Some(Cow::Owned(
            a.as_primitive::<Int32Type>().value(i).to_string(),
        )),
        DataType::Int64 => Some(Cow::Owned(
            a.as_primitive::<Int64Type>().value(i).to_string(),
        )),
        DataType::UInt32 => Some(Cow::Owned(
            a.as_primitive::<UInt32Type>().value(i).to_string(),
        )),
        DataType::UInt64 => Some(Cow::Owned(
            a.as_primitive::<UInt64Type>().value(i).to_string(),
        )),
        DataType::Dictionary(_, _) => {
            let d = a.as_any_dictionary();
            let key = *d.normalized_keys().get(i)?;
            text_at(d.values(), key)
        }
        _ => None,
    }
}

fn value_at(a: &ArrayRef, i: usize) -> Option<f64> {
    if a.is_null(i) {
        return None;
    }
    let v = match a.data_type() {
        DataType::Float64 => a.as_primitive::<Float64Type>().value(i),
        DataType::Float32 => f64::from(a.as_primitive::<Float32Type>().value(i)),
        DataType::Int64 => a.as_primitive::<Int64Type>().value(i) as f64,
        DataType::Int32 => f64::from(a.as_primitive::<Int32Type>().value(i)),
        DataType::UInt64 => a.as_primitive::<UInt64Type>().value(i) as f64,
        DataType::UInt32 => f64::from(a.as_primitive::<UInt32Type>().value(i)),
        DataType::Decimal128(_, scale) => {
            a.as_primitive::<arrow_array::types::Decimal128Type>()
                .value(i) as f64
                / 10f64.powi(i32::from(*scale))
        }
        _ => return None,
    };
    v.is_finite().then_some(v)
}

fn stamp_at(a: &ArrayRef, i: usize, clock: Clock, default_offset: i32) -> Option<Stamp> {
    if a.is_null(i) {
        return None;
    }
    match clock {
        Clock::Ticks {
            per_second,
            offset,
            naive,
        } => {
            let ticks = match a.data_type() {
                DataType::Timestamp(TimeUnit::Second, _) => {
                    a.as_primitive::<TimestampSecondType>().value(i)
                }
                DataType::Timestamp(TimeUnit::Millisecond, _) => {
                    a.as_primitive::<TimestampMillisecondType>().value(i)
                }
                DataType::Timestamp(TimeUnit::Microsecond, _) => {
                    a.as_primitive::<TimestampMicrosecondType>().value(i)
                }
                DataType::Timestamp(TimeUnit::Nanosecond, _) => {
                    a.as_primitive::<TimestampNanosecondType>().value(i)
                }
                _ => return None,
            };
            Some(ticks_stamp(
                ticks,
                per_second,
                offset,
                naive,
                default_offset,
            ))
        }
        Clock::Days => {
            let days = i64::from(a.as_primitive::<Date32Type>().value(i));
            Some(Stamp {
                utc: days * 86_400 - i64::from(default_offset),
                offset: default_offset,
            })
        }
        Clock::Text => text_at(a, i).and_then(|t| parse(&t, default_offset)),
    }
}

/// A batch's meter column, looked at once per batch rather than once per row. Dictionary
/// columns (how Parquet stores repeated ids, and how they are read here) are compared by key,
/// so a row of the same meter as the row before costs one integer comparison.
enum Meters<'a> {
    Dict {
        keys: &'a [i32],
        nulls: Option<&'a NullBuffer>,
        values: &'a ArrayRef,
    },
    Other(&'a ArrayRef),
}

impl<'a> Meters<'a> {
    fn of(a: &'a ArrayRef) -> Self {
        if let Some(d) = a.as_dictionary_opt::<Int32Type>() {
            return Meters::Dict {
                keys: d.keys().values(),
                nulls: d.keys().nulls(),
                values: d.values(),
            };
        }
        Meters::Other(a)
    }

    /// Whether row `i` may hold another meter than row `i - 1` of the same batch.
    #[allow(
        clippy::indexing_slicing,
        reason = "every column of a record batch has the batch's row count (arrow checks it on reading), and rows are numbered below it"
    )]
    fn changes_at(&self, i: usize) -> bool {
        match self {
            Meters::Dict { keys, nulls, .. } => {
                i == 0
                    || keys[i] != keys[i - 1]
                    || nulls.is_some_and(|n| n.is_null(i) || n.is_null(i - 1))
            }
            Meters::Other(_) => true,
        }
    }

    /// The row after the run of rows from `i` that hold the same meter as row `i` (at most
    /// `n`): for dictionary keys with no nulls, compared 64 at a time.
    #[allow(
        clippy::indexing_slicing,
        reason = "every column of a record batch has the batch's row count (arrow checks it on reading), and rows are numbered below it"
    )]
    fn run_end(&self, i: usize, n: usize) -> usize {
        let mut j = i + 1;
        if let Meters::Dict {
            keys, nulls: None, ..
        } = self
        {
            let key = keys[i];
            while j + 64 <= n && keys[j..j + 64].iter().all(|k| *k == key) {
                j += 64;
            }
        }
        while j < n && !self.changes_at(j) {
            j += 1;
        }
        j
    }

    /// The meter id of row `i`, trimmed; `None` for a null.
    fn text(&self, i: usize) -> Option<Cow<'a, str>> {
        match self {
            Meters::Dict {
                keys,
                nulls,
                values,
            } => {
                if nulls.is_some_and(|n| n.is_null(i)) {
                    return None;
                }
                text_at(values, usize::try_from(*keys.get(i)?).ok()?)
            }
            Meters::Other(a) => text_at(a, i),
        }
        .map(|t| match t {
            Cow::Borrowed(b) => Cow::Borrowed(b.trim()),
            Cow::Owned(o) => Cow::Owned(o.trim().to_string()),
        })
    }
}

/// A batch's value column: plain doubles read straight from the buffer, others cell by cell.
enum Values<'a> {
    F64(&'a [f64], Option<&'a NullBuffer>),
    Other(&'a ArrayRef),
}

impl<'a> Values<'a> {
    fn of(a: &'a ArrayRef) -> Self {
        match a.as_primitive_opt::<Float64Type>() {
            Some(p) => Values::F64(p.values(), p.nulls()),
            None => Values::Other(a),
        }
    }

    #[allow(
        clippy::indexing_slicing,
        reason = "every column of a record batch has the batch's row count (arrow checks it on reading), and rows are numbered below it"
    )]
    fn at(&self, i: usize) -> Option<f64> {
        match self {
            Values::F64(v, nulls) => {
                (!nulls.is_some_and(|n| n.is_null(i)) && v[i].is_finite()).then(|| v[i])
            }
            Values::Other(a) => value_at(a, i),
        }
    }
}

/// A batch's timestamp column: Parquet timestamps read straight from the buffer (any unit),
/// others cell by cell.
enum Times<'a> {
    Ticks(&'a [i64], Option<&'a NullBuffer>),
    Other(&'a ArrayRef),
}

impl<'a> Times<'a> {
    fn of(a: &'a ArrayRef) -> Self {
        // The tick counts and nulls of a timestamp column of unit `T`.
        fn ticks<T: ArrowPrimitiveType<Native = i64>>(
            a: &ArrayRef,
        ) -> Option<(&[i64], Option<&NullBuffer>)> {
            a.as_primitive_opt::<T>()
                .map(|p| (&**p.values(), p.nulls()))
        }
        let ticks = match a.data_type() {
            DataType::Timestamp(TimeUnit::Second, _) => ticks::<TimestampSecondType>(a),
            DataType::Timestamp(TimeUnit::Millisecond, _) => ticks::<TimestampMillisecondType>(a),
            DataType::Timestamp(TimeUnit::Microsecond, _) => ticks::<TimestampMicrosecondType>(a),
            DataType::Timestamp(TimeUnit::Nanosecond, _) => ticks::<TimestampNanosecondType>(a),
            _ => None,
        };
        match ticks {
            Some((v, n)) => Times::Ticks(v, n),
            None => Times::Other(a),
        }
    }

    #[allow(
        clippy::indexing_slicing,
        reason = "every column of a record batch has the batch's row count (arrow checks it on reading), and rows are numbered below it"
    )]
    fn at(&self, i: usize, clock: Clock, default_offset: i32) -> Option<Stamp> {
        match (self, clock) {
            (
                Times::Ticks(v, nulls),
                Clock::Ticks {
                    per_second,
                    offset,
                    naive,
                },
            ) => {
                if nulls.is_some_and(|n| n.is_null(i)) {
                    return None;
                }
                Some(ticks_stamp(v[i], per_second, offset, naive, default_offset))
            }
            (Times::Ticks(..), _) => None,
            (Times::Other(a), clock) => stamp_at(a, i, clock, default_offset),
        }
    }
}

/// The instant of a Parquet timestamp (see [`Clock::Ticks`]).
fn ticks_stamp(
    ticks: i64,
    per_second: i64,
    offset: Option<i32>,
    naive: bool,
    default_offset: i32,
) -> Stamp {
    let secs = ticks.div_euclid(per_second);
    if naive {
        // Wall-clock time with no zone: local at the default offset, as for CSV.
        Stamp {
            utc: secs - i64::from(default_offset),
            offset: default_offset,
        }
    } else {
        Stamp {
            utc: secs,
            offset: offset.unwrap_or(default_offset),
        }
    }
}

/// The file's metadata with the meter column `mc` typed as a dictionary when it is text
/// (Parquet keeps repeated ids that way: no string per row).
fn with_dictionary_meters(
    path: &Path,
    plain: &ArrowReaderMetadata,
    mc: usize,
) -> Result<ArrowReaderMetadata, ReadError> {
    let fields: Vec<arrow_schema::FieldRef> = plain
        .schema()
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| match f.data_type() {
            DataType::Utf8 | DataType::LargeUtf8 if i == mc => {
                Arc::new(f.as_ref().clone().with_data_type(DataType::Dictionary(
                    Box::new(DataType::Int32),
                    Box::new(f.data_type().clone()),
                )))
            }
            _ => f.clone(),
        })
        .collect();
    let schema = Arc::new(arrow_schema::Schema::new_with_metadata(
        fields,
        plain.schema().metadata().clone(),
    ));
    ArrowReaderMetadata::try_new(
        plain.metadata().clone(),
        ArrowReaderOptions::new().with_schema(schema),
    )
    .map_err(|e| bad_file(path, e))
}

/// A reader of the columns `cols` of `path`, batch by batch, with the metadata read before.
fn batches(
    path: &Path,
    meta: &ArrowReaderMetadata,
    cols: &[usize],
) -> Result<parquet::arrow::arrow_reader::ParquetRecordBatchReader, ReadError> {
    let file = std::fs::File::open(path).map_err(io(path))?;
    let builder = ParquetRecordBatchReaderBuilder::new_with_metadata(file, meta.clone());
    let mask = ProjectionMask::roots(builder.parquet_schema(), cols.iter().copied());
    builder
        .with_projection(mask)
        .with_batch_size(BATCH)
        .build()
        .map_err(|e| bad_file(path, e))
}

/// Reads one Parquet readings file and hands each meter's series to `sink`.
pub fn read_file(
    path: &Path,
    opts: &ReadingsOptions,
    allow_negative: &dyn Fn(&str) -> bool,
    sink: &mut dyn SeriesSink,
    stats: &mut ReadStats,
) -> Result<(), ReadError> {
    let file = std::fs::File::open(path).map_err(io(path))?;
    // The footer is read once; every pass over the file reuses it.
    let plain = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new())
        .map_err(|e| bad_file(path, e))?;
    let schema = plain.schema().clone();
    let names: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
    let find = |asked: Option<&str>, defaults: &[&str]| match asked {
        Some(a) => names.iter().position(|h| h.eq_ignore_ascii_case(a)),
        None => defaults
            .iter()
            .find_map(|d| names.iter().position(|h| h.eq_ignore_ascii_case(d))),
    };
    let (Some(mc), Some(tc), Some(vc)) = (
        find(
            opts.meter_column.as_deref(),
            &["meter_id", "meter", "cons_no", "id"],
        ),
        find(
            opts.time_column.as_deref(),
            &["timestamp", "time", "datetime", "date", "ts"],
        ),
        find(
            opts.value_column.as_deref(),
            &["kwh", "value", "energy", "wh", "kw", "consumption"],
        ),
    ) else {
        return Err(header(
            path,
            format!(
                "need columns for meter, timestamp and value; found {}",
                names.join(",")
            ),
        ));
    };
    let name = |i: usize| names.get(i).map_or("", String::as_str);
    let clock = clock(path, name(tc), schema.field(tc).data_type())?;
    let total_rows = usize::try_from(plain.metadata().file_metadata().num_rows()).unwrap_or(0);
    let meta = with_dictionary_meters(path, &plain, mc)?;
    // The projection keeps the three columns in file order; find each again in the batch.
    let columns = (name(mc), name(tc), name(vc));
    let runs = |sink: &mut dyn Runs, stats: &mut ReadStats| {
        each_run(
            path,
            batches(path, &meta, &[mc, tc, vc])?,
            columns,
            clock,
            opts.default_offset,
            stats,
            sink,
        )
    };
    // Files are nearly always grouped by meter: read as if they were, building and handing on
    // each meter as soon as its rows end; a meter seen again takes back what was handed on and
    // sends the file to the general grouping below.
    let before = stats.clone();
    let mut grouped = OneMeter {
        g: Grouped::new(opts, allow_negative, sink),
        grouped: true,
    };
    runs(&mut grouped, stats)?;
    let Some(sink) = grouped.finish(stats) else {
        return Ok(());
    };
    *stats = before;
    let f = &mut |s| sink.take(s);
    if total_rows <= opts.memory_rows {
        let mut rows = Rows::default();
        runs(&mut rows, stats)?;
        emit(rows, opts, allow_negative, f, stats);
        return Ok(());
    }
    // Larger than memory: partition by meter on disk, then group a partition at a time.
    let parts = (total_rows / opts.memory_rows.max(1) + 1).clamp(2, 4096);
    let dir = partition_dir(path, "parquet")?;
    let writers: Vec<BufWriter<std::fs::File>> = (0..parts)
        .map(|i| std::fs::File::create(part(&dir, i)).map(BufWriter::new))
        .collect::<Result<_, _>>()
        .map_err(io(&dir))?;
    let mut sink = Parts {
        writers,
        hasher: foldhash::fast::FixedState::with_seed(11),
        meter: String::new(),
        run: MeterRows::default(),
        failed: None,
    };
    runs(&mut sink, stats)?;
    if let Some(e) = sink.failed {
        return Err(io(&dir)(e));
    }
    for w in &mut sink.writers {
        w.flush().map_err(io(&dir))?;
    }
    drop(sink);
    for i in 0..parts {
        let p = part(&dir, i);
        let mut rows: Rows = HashMap::default();
        let mut r = BufReader::with_capacity(1 << 20, std::fs::File::open(&p).map_err(io(&p))?);
        while let Some((m, s, v)) = read_record(&mut r).map_err(io(&p))? {
            rows.entry(m).or_default().push((s, v));
        }
        emit(rows, opts, allow_negative, f, stats);
        let _ = std::fs::remove_file(&p);
    }
    let _ = std::fs::remove_dir(&dir);
    Ok(())
}

/// Where the rows of a Parquet file go: a run of one meter's consecutive rows at a time.
trait Runs {
    /// The vector the readings of a run of `meter` are pushed onto; `fresh` when the run may
    /// start another meter than the run before.
    fn rows_for(&mut self, meter: &str, fresh: bool, stats: &mut ReadStats) -> &mut MeterRows;
    /// Told after each run's readings were pushed.
    fn run_done(&mut self) {}
    /// True when the reading should stop (the rest of the file is not wanted).
    fn stopped(&self) -> bool {
        false
    }
}

/// A file read as grouped by meter (see [`Grouped`]), until a meter comes back.
struct OneMeter<'a> {
    g: Grouped<'a>,
    /// Still grouped so far.
    grouped: bool,
}

impl<'a> OneMeter<'a> {
    /// After the last run: `None` when every meter was handed on; the sink back, with what it
    /// took from this file taken back, when the file is not grouped.
    fn finish(self, stats: &mut ReadStats) -> Option<&'a mut dyn SeriesSink> {
        if self.grouped {
            self.g.finish(stats);
            return None;
        }
        Some(self.g.abandon())
    }
}

impl Runs for OneMeter<'_> {
    fn rows_for(&mut self, meter: &str, fresh: bool, stats: &mut ReadStats) -> &mut MeterRows {
        if fresh && self.grouped {
            self.grouped = self.g.enter(meter.as_bytes(), stats);
        }
        if !self.grouped {
            self.g.rows.clear();
        }
        &mut self.g.rows
    }

    fn stopped(&self) -> bool {
        !self.grouped
    }
}

/// Rows in any order, grouped by meter in memory.
impl Runs for Rows {
    fn rows_for(&mut self, meter: &str, _: bool, _: &mut ReadStats) -> &mut MeterRows {
        if !self.contains_key(meter) {
            self.insert(meter.to_string(), MeterRows::default());
        }
        let Some(rows) = self.get_mut(meter) else {
            unreachable!("inserted just above")
        };
        rows
    }
}

/// Rows in any order, larger than memory: written to partition files by a hash of the meter.
struct Parts {
    writers: Vec<BufWriter<std::fs::File>>,
    hasher: foldhash::fast::FixedState,
    meter: String,
    run: MeterRows,
    /// The first write that failed; nothing is written after it.
    failed: Option<std::io::Error>,
}

impl Runs for Parts {
    fn rows_for(&mut self, meter: &str, _: bool, _: &mut ReadStats) -> &mut MeterRows {
        meter.clone_into(&mut self.meter);
        self.run.clear();
        &mut self.run
    }

    fn run_done(&mut self) {
        if self.failed.is_some() {
            return;
        }
        let parts = self.writers.len() as u64;
        let part = (self.hasher.hash_one(self.meter.as_str()) % parts.max(1)) as usize;
        let Some(w) = self.writers.get_mut(part) else {
            return;
        };
        for (s, v) in self.run.iter() {
            if let Err(e) = write_record(w, &self.meter, s, v) {
                self.failed = Some(e);
                return;
            }
        }
    }
}

/// Reads the batches of `reader` and hands each run of one meter's consecutive rows to
/// `sink`; rows with a missing or unreadable cell are counted and named by row and column.
fn each_run(
    path: &Path,
    reader: parquet::arrow::arrow_reader::ParquetRecordBatchReader,
    (mn, tn, vn): (&str, &str, &str),
    clock: Clock,
    default_offset: i32,
    stats: &mut ReadStats,
    sink: &mut dyn Runs,
) -> Result<(), ReadError> {
    // Rows of the file before the batch.
    let mut before: u64 = 0;
    for batch in reader {
        if sink.stopped() {
            break;
        }
        let batch = batch.map_err(|e| bad_file(path, e))?;
        let col = |n: &str| -> Result<Arc<dyn Array>, ReadError> {
            batch
                .column_by_name(n)
                .cloned()
                .ok_or_else(|| header(path, format!("column {n} missing from a row group")))
        };
        let (m, t, v) = (col(mn)?, col(tn)?, col(vn)?);
        let (meters, times, values) = (Meters::of(&m), Times::of(&t), Values::of(&v));
        let n = batch.num_rows();
        let mut meter: Option<Cow<str>> = None;
        let mut i = 0;
        while i < n {
            let fresh = meters.changes_at(i);
            if fresh {
                meter = meters.text(i).filter(|s| !s.is_empty());
            }
            let j = meters.run_end(i, n);
            stats.rows += (j - i) as u64;
            match meter.as_deref() {
                None => {
                    for k in i..j {
                        stats.skip(path, before + k as u64 + 1, mn, "missing meter id");
                    }
                }
                Some(id) => {
                    let out = sink.rows_for(id, fresh, stats);
                    let mut bad = |k: usize, cell: Cell| {
                        let (column, why) = match cell {
                            Cell::Time => (tn, "unreadable timestamp"),
                            Cell::Value => (vn, "missing or unreadable value"),
                        };
                        stats.skip(path, before + k as u64 + 1, column, why);
                    };
                    let cells = (&times, &values);
                    read_run(i..j, cells, clock, default_offset, out, &mut bad);
                    sink.run_done();
                }
            }
            i = j;
        }
        before += n as u64;
    }
    Ok(())
}

/// Which cell of a row could not be read.
#[derive(Clone, Copy)]
enum Cell {
    Time,
    Value,
}

/// The readings of the rows `range` of a batch onto `out`; rows with a cell that cannot be
/// read go to `bad`.
fn read_run(
    range: std::ops::Range<usize>,
    (times, values): (&Times, &Values),
    clock: Clock,
    default_offset: i32,
    out: &mut MeterRows,
    bad: &mut dyn FnMut(usize, Cell),
) {
    out.reserve(range.len());
    // The usual file: Parquet timestamps and doubles, no nulls. A loop per time unit, so
    // each tick count is divided by a constant.
    if let (
        Times::Ticks(t, None),
        Values::F64(v, None),
        Clock::Ticks {
            per_second,
            offset,
            naive,
        },
    ) = (times, values, clock)
    {
        let run = Ticks {
            offset,
            naive,
            default_offset,
        };
        match per_second {
            1 => run.read::<1>(t, v, range, out, bad),
            1_000 => run.read::<1_000>(t, v, range, out, bad),
            1_000_000 => run.read::<1_000_000>(t, v, range, out, bad),
            _ => run.read::<1_000_000_000>(t, v, range, out, bad),
        }
        return;
    }
    for k in range {
        let Some(stamp) = times.at(k, clock, default_offset) else {
            bad(k, Cell::Time);
            continue;
        };
        let Some(value) = values.at(k) else {
            bad(k, Cell::Value);
            continue;
        };
        out.push((stamp, value));
    }
}

/// How a column of Parquet timestamps becomes instants (see [`Clock::Ticks`]).
struct Ticks {
    offset: Option<i32>,
    naive: bool,
    default_offset: i32,
}

impl Ticks {
    /// The rows `range` of tick counts `t` (`P` a second) and values `v` onto `out`.
    #[allow(
        clippy::indexing_slicing,
        reason = "every column of a record batch has the batch's row count (arrow checks it on reading), and rows are numbered below it"
    )]
    fn read<const P: i64>(
        &self,
        t: &[i64],
        v: &[f64],
        range: std::ops::Range<usize>,
        out: &mut MeterRows,
        bad: &mut dyn FnMut(usize, Cell),
    ) {
        let mut k = range.start;
        while k < range.end {
            // The usual rows: on the meter's grid (whole seconds, one step apart), values
            // finite. As many as follow on from `k` are found in blocks of 64 (compares the
            // processor does several at a time), then one by one, and their values copied at
            // once; each row is looked at once whatever the file holds.
            if let Some((next, offset, gap)) = out.beat()
                && let Some(step) = gap.checked_mul(P)
                && let first = ticks_stamp(t[k], P, self.offset, self.naive, self.default_offset)
                && first.utc == next
                && first.offset == offset
                && t[k] % P == 0
            {
                // Rows `a..b` are all on the beat, given that row `a - 1` is (or `a == k`).
                let fits = |a: usize, b: usize| {
                    v[a..b].iter().all(|x| x.is_finite())
                        && t[if a == k { k } else { a - 1 }..b]
                            .windows(2)
                            .all(|w| w[1].wrapping_sub(w[0]) == step)
                };
                let mut e = k;
                while e + 64 <= range.end && fits(e, e + 64) {
                    e += 64;
                }
                while e < range.end && fits(e, e + 1) {
                    e += 1;
                }
                if e > k {
                    out.extend_on_beat(&v[k..e]);
                    k = e;
                    continue;
                }
            }
            let value = v[k];
            if value.is_finite() {
                let s = ticks_stamp(t[k], P, self.offset, self.naive, self.default_offset);
                out.push((s, value));
            } else {
                bad(k, Cell::Value);
            }
            k += 1;
        }
    }
}

fn part(dir: &Path, i: usize) -> PathBuf {
    dir.join(format!("part-{i}.bin"))
}

/// A partition record: meter length (u16), meter, UTC seconds, offset, value; little-endian.
fn write_record(w: &mut impl Write, m: &str, s: Stamp, v: f64) -> std::io::Result<()> {
    let b = m.as_bytes();
    let len = u16::try_from(b.len()).unwrap_or(u16::MAX);
    w.write_all(&len.to_le_bytes())?;
    w.write_all(b.get(..usize::from(len)).unwrap_or(b))?;
    w.write_all(&s.utc.to_le_bytes())?;
    w.write_all(&s.offset.to_le_bytes())?;
    w.write_all(&v.to_le_bytes())
}

fn read_record(r: &mut impl Read) -> std::io::Result<Option<(String, Stamp, f64)>> {
    let mut len = [0u8; 2];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let mut m = vec![0u8; usize::from(u16::from_le_bytes(len))];
    r.read_exact(&mut m)?;
    let mut fixed = [0u8; 20];
    r.read_exact(&mut fixed)?;
    let utc = i64::from_le_bytes(fixed[0..8].try_into().unwrap_or_default());
    let offset = i32::from_le_bytes(fixed[8..12].try_into().unwrap_or_default());
    let v = f64::from_le_bytes(fixed[12..20].try_into().unwrap_or_default());
    Ok(Some((
        String::from_utf8_lossy(&m).into_owned(),
        Stamp { utc, offset },
        v,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::series::Series;
    use arrow_array::{
        Date32Array, Float64Array, Int64Array, RecordBatch, StringArray, TimestampSecondArray,
    };
    use arrow_schema::{Field, Schema};
    use parquet::arrow::ArrowWriter;

    /// Two meters, two days of hourly readings; one row has no value.
    fn rows() -> (Vec<String>, Vec<i64>, Vec<Option<f64>>) {
        let start = 1_709_222_400; // 2024-03-01T00:00:00+08:00
        let (mut m, mut t, mut v) = (Vec::new(), Vec::new(), Vec::new());
        for h in 0..48 {
            for (meter, kw) in [("M2", 0.4), ("M1", 3.0)] {
                m.push(meter.to_string());
                t.push(start + h * 3600);
                // Up and down, so it reads as interval energy, not a register.
                v.push(Some(kw + ((h * 7) % 5) as f64 * 0.1));
            }
        }
        v[5] = None;
        (m, t, v)
    }

    fn write(path: &Path, columns: Vec<(&str, ArrayRef)>) {
        let schema = Arc::new(Schema::new(
            columns
                .iter()
                .map(|(n, a)| Field::new(*n, a.data_type().clone(), true))
                .collect::<Vec<_>>(),
        ));
        let batch = RecordBatch::try_new(
            schema.clone(),
            columns.into_iter().map(|(_, a)| a).collect(),
        )
        .unwrap();
        let mut w =
            ArrowWriter::try_new(std::fs::File::create(path).unwrap(), schema, None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }

    /// The default layout: text meters, timestamps in seconds tagged `zone`, kWh.
    fn write_readings(path: &Path, m: &[String], t: &[i64], v: &[Option<f64>], zone: &str) {
        write(
            path,
            vec![
                (
                    "meter_id",
                    Arc::new(StringArray::from(m.to_vec())) as ArrayRef,
                ),
                (
                    "timestamp",
                    Arc::new(TimestampSecondArray::from(t.to_vec()).with_timezone(zone)),
                ),
                ("kwh", Arc::new(Float64Array::from(v.to_vec()))),
            ],
        );
    }

    /// The same rows as a CSV file, local time at +08:00; a missing value as an empty field.
    fn write_csv(path: &Path, m: &[String], t: &[i64], v: &[Option<f64>]) {
        let mut text = String::from("meter_id,timestamp,kwh\n");
        for i in 0..m.len() {
            let local = t[i] + 8 * 3600;
            let (y, mo, d) = crate::time::civil_from_days(local.div_euclid(86_400));
            let s = local.rem_euclid(86_400);
            text += &format!(
                "{},{y:04}-{mo:02}-{d:02}T{:02}:{:02}:{:02}+08:00,{}\n",
                m[i],
                s / 3600,
                s / 60 % 60,
                s % 60,
                v[i].map(|x| x.to_string()).unwrap_or_default()
            );
        }
        std::fs::write(path, text).unwrap();
    }

    /// Whether a default-layout file (timestamps in seconds, +08:00) reads as grouped by meter
    /// in one pass.
    fn read_as_grouped(path: &Path) -> bool {
        let opts = ReadingsOptions::default();
        let mut taken: Vec<Series> = Vec::new();
        let mut stats = ReadStats::default();
        let mut sink = OneMeter {
            g: Grouped::new(&opts, &|_| false, &mut taken),
            grouped: true,
        };
        let t = DataType::Timestamp(TimeUnit::Second, Some("+08:00".into()));
        let columns = ("meter_id", "timestamp", "kwh");
        let file = std::fs::File::open(path).unwrap();
        let plain = ArrowReaderMetadata::load(&file, ArrowReaderOptions::new()).unwrap();
        let meta = with_dictionary_meters(path, &plain, 0).unwrap();
        let reader = batches(path, &meta, &[0, 1, 2]).unwrap();
        let clock = clock(path, "timestamp", &t).unwrap();
        each_run(
            path,
            reader,
            columns,
            clock,
            8 * 3600,
            &mut stats,
            &mut sink,
        )
        .unwrap();
        let grouped = sink.finish(&mut stats).is_none();
        // Not grouped: what was handed on was taken back.
        assert!(grouped || taken.is_empty());
        grouped
    }

    fn read(path: &Path, memory_rows: usize) -> (Vec<Series>, ReadStats) {
        let opts = ReadingsOptions {
            memory_rows,
            ..ReadingsOptions::default()
        };
        let mut out = Vec::new();
        let st =
            crate::read::read_readings(&[path.to_path_buf()], &opts, &|_| false, &mut out).unwrap();
        out.sort_by(|a, b| a.meter_id.cmp(&b.meter_id));
        (out, st)
    }

    #[test]
    fn a_meter_whose_first_row_is_unreadable_keeps_its_other_rows() {
        // Grouped: M1's rows, then M2's, whose first value is missing. The rest of M2's rows
        // are M2's, not M1's.
        let d = tempfile::tempdir().unwrap();
        let start = 1_709_222_400;
        let (mut m, mut t, mut v) = (Vec::new(), Vec::new(), Vec::new());
        for (meter, kw) in [("M1", 3.0), ("M2", 0.4)] {
            for h in 0..30 {
                m.push(meter.to_string());
                t.push(start + h * 3600);
                v.push(Some(kw + (h % 4) as f64 * 0.1));
            }
        }
        v[30] = None;
        let path = d.path().join("r.parquet");
        write_readings(&path, &m, &t, &v, "+08:00");
        let (series, stats) = read(&path, 1_000_000);
        assert_eq!(stats.skipped_total(), 1, "{:?}", stats.examples);
        assert_eq!(series.len(), 2);
        assert_eq!((series[0].start, series[0].kwh.len()), (start, 30));
        assert_eq!((series[1].start, series[1].kwh.len()), (start + 3600, 29));
        assert!(series[1].kwh.iter().all(|k| *k < 1.0));
    }

    #[test]
    fn a_meter_that_comes_back_late_is_read_whole_and_nothing_twice() {
        // Grouped rows, then one more row of the first meter: both meters were handed on when
        // it comes back; they are taken back, and the general grouping (in memory, or on disk
        // with a budget of 10 rows) reads each meter whole, once.
        let d = tempfile::tempdir().unwrap();
        let (m, t, v) = rows();
        let mut order: Vec<usize> = (0..m.len()).collect();
        order.sort_by_key(|&i| (m[i].clone(), t[i]));
        let mut gm: Vec<String> = order.iter().map(|&i| m[i].clone()).collect();
        let mut gt: Vec<i64> = order.iter().map(|&i| t[i]).collect();
        let mut gv: Vec<Option<f64>> = order.iter().map(|&i| v[i]).collect();
        gm.push("M1".into());
        gt.push(t[t.len() - 1] + 3600);
        gv.push(Some(3.3));
        let path = d.path().join("late.parquet");
        write_readings(&path, &gm, &gt, &gv, "+08:00");
        let (small, small_stats) = read(&path, 10);
        let (large, large_stats) = read(&path, 1_000_000);
        assert_eq!(format!("{small:?}"), format!("{large:?}"));
        assert_eq!(
            small.iter().map(|s| s.kwh.len()).collect::<Vec<_>>(),
            [49, 48]
        );
        assert_eq!(
            (
                small_stats.rows,
                small_stats.meters,
                small_stats.skipped_total()
            ),
            (97, 2, 1)
        );
        assert_eq!(
            (large_stats.rows, large_stats.meters),
            (small_stats.rows, small_stats.meters)
        );
    }

    #[test]
    fn null_and_blank_meters_are_skipped_without_splitting_a_meter() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("nulls.parquet");
        let start = 1_709_222_400;
        let meters = [
            Some("A"),
            Some("A"),
            None,
            Some(" A "),
            Some(""),
            Some("A"),
            Some("B"),
        ];
        write(
            &p,
            vec![
                (
                    "meter_id",
                    Arc::new(StringArray::from(meters.to_vec())) as ArrayRef,
                ),
                (
                    "timestamp",
                    Arc::new(
                        TimestampSecondArray::from(
                            (0..7).map(|h| start + h * 3600).collect::<Vec<_>>(),
                        )
                        .with_timezone("+08:00"),
                    ),
                ),
                ("kwh", Arc::new(Float64Array::from(vec![1.0; 7]))),
            ],
        );
        assert!(read_as_grouped(&p));
        let (v, st) = read(&p, 1_000_000);
        assert_eq!(
            v.iter().map(|s| s.meter_id.as_str()).collect::<Vec<_>>(),
            ["A", "B"]
        );
        // A's rows at hours 0, 1, 3 and 5: the blank and null rows are gaps.
        assert_eq!(v[0].kwh.len(), 6);
        assert_eq!(v[0].kwh.iter().filter(|x| x.is_nan()).count(), 2);
        assert_eq!(st.skipped.get("missing meter id"), Some(&2));
        assert!(
            st.examples[0].contains(":3: column meter_id"),
            "{:?}",
            st.examples
        );
    }

    #[test]
    fn parquet_reads_like_the_same_csv_in_memory_and_partitioned() {
        let dir = tempfile::tempdir().unwrap();
        let (m, t, v) = rows();
        let pq = dir.path().join("r.parquet");
        write_readings(&pq, &m, &t, &v, "+08:00");
        let csv = dir.path().join("r.csv");
        write_csv(&csv, &m, &t, &v);
        let (from_csv, csv_stats) = read(&csv, 1_000_000);
        let (in_memory, st) = read(&pq, 1_000_000);
        let (partitioned, st2) = read(&pq, 10);
        // The same instants tagged UTC (what Parquet's own timestamp type says) fall into the
        // same local days: at the default offset, +08:00.
        let utc = dir.path().join("utc.parquet");
        write_readings(&utc, &m, &t, &v, "UTC");
        let (as_utc, _) = read(&utc, 1_000_000);
        // Each meter's rows together: streamed a meter at a time.
        let mut order: Vec<usize> = (0..m.len()).collect();
        order.sort_by_key(|&i| (m[i].clone(), t[i]));
        let grouped = dir.path().join("grouped.parquet");
        let pick = |o: &[usize]| -> (Vec<String>, Vec<i64>, Vec<Option<f64>>) {
            (
                o.iter().map(|&i| m[i].clone()).collect(),
                o.iter().map(|&i| t[i]).collect(),
                o.iter().map(|&i| v[i]).collect(),
            )
        };
        let (gm, gt, gv) = pick(&order);
        write_readings(&grouped, &gm, &gt, &gv, "+08:00");
        assert!(read_as_grouped(&grouped));
        assert!(!read_as_grouped(&pq));
        let (streamed, _) = read(&grouped, 10);
        assert_eq!(from_csv.len(), 2);
        // Gaps are NaN, which is never equal to itself: compare what they print.
        let show = |s: &[Series]| format!("{s:?}");
        assert_eq!(show(&in_memory), show(&from_csv));
        assert_eq!(show(&partitioned), show(&from_csv));
        assert_eq!(show(&as_utc), show(&from_csv));
        assert_eq!(show(&streamed), show(&from_csv));
        assert!(!from_csv[0].report.cumulative);
        assert_eq!((st.rows, st.meters, st.skipped_total()), (96, 2, 1));
        assert_eq!(st2.rows, csv_stats.rows);
        assert!(
            st.examples[0].ends_with("r.parquet:6: column kwh: missing or unreadable value"),
            "{:?}",
            st.examples
        );
    }

    #[test]
    fn rows_off_the_grid_inside_long_runs_read_as_in_csv() {
        // Grouped, long runs (whole blocks of 64 on the grid), and inside them a value that is
        // not a number, a gap, a reading 30 s off the hour and a repeated hour.
        let dir = tempfile::tempdir().unwrap();
        let start = 1_709_222_400;
        let (mut m, mut t, mut v) = (Vec::new(), Vec::new(), Vec::new());
        for (meter, kw) in [("M1", 3.0), ("M2", 0.4)] {
            for h in 0..300i64 {
                let at = match h {
                    100.. => h + 3,
                    _ => h,
                } * 3600
                    + if h == 150 { 30 } else { 0 }
                    - if h == 180 { 3600 } else { 0 };
                m.push(meter.to_string());
                t.push(start + at);
                v.push(Some(if h == 70 {
                    f64::NAN
                } else {
                    kw + ((h * 7) % 5) as f64 * 0.1
                }));
            }
        }
        let pq = dir.path().join("r.parquet");
        write_readings(&pq, &m, &t, &v, "+08:00");
        let csv = dir.path().join("r.csv");
        write_csv(&csv, &m, &t, &v);
        assert!(read_as_grouped(&pq));
        let (from_csv, csv_stats) = read(&csv, 1_000_000);
        let (from_parquet, st) = read(&pq, 1_000_000);
        assert_eq!(format!("{from_parquet:?}"), format!("{from_csv:?}"));
        assert_eq!((st.rows, st.meters, st.skipped_total()), (600, 2, 2));
        assert_eq!(csv_stats.skipped_total(), 2);
        let r = &from_csv[0].report;
        assert_eq!((r.duplicates, r.off_grid), (1, 1), "{r:?}");
    }

    #[test]
    fn integer_meters_text_times_and_dates_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let pq = dir.path().join("text.parquet");
        write(
            &pq,
            vec![
                (
                    "meter",
                    Arc::new(Int64Array::from(vec![7, 7, 7])) as ArrayRef,
                ),
                (
                    "time",
                    Arc::new(StringArray::from(vec![
                        "2024-03-01 00:00",
                        "2024-03-01 01:00",
                        "not a time",
                    ])),
                ),
                ("value", Arc::new(Float64Array::from(vec![1.0, 2.0, 3.0]))),
            ],
        );
        let (s, st) = read(&pq, 1_000_000);
        assert_eq!((s.len(), s[0].meter_id.as_str()), (1, "7"));
        assert_eq!(st.skipped_total(), 1);
        let daily = dir.path().join("daily.parquet");
        write(
            &daily,
            vec![
                (
                    "meter_id",
                    Arc::new(StringArray::from(vec!["D"; 4])) as ArrayRef,
                ),
                (
                    "date",
                    Arc::new(Date32Array::from(vec![19_783, 19_784, 19_785, 19_786])),
                ),
                (
                    "kwh",
                    Arc::new(Float64Array::from(vec![10.0, 11.0, 12.0, 13.0])),
                ),
            ],
        );
        let (s, _) = read(&daily, 1_000_000);
        assert_eq!(s.len(), 1);
    }

    /// What reading a file that must be refused says.
    fn refusal(path: &Path) -> String {
        crate::read::read_readings(
            &[path.to_path_buf()],
            &ReadingsOptions::default(),
            &|_| false,
            &mut Vec::new(),
        )
        .unwrap_err()
        .to_string()
    }

    #[test]
    fn unknown_zones_and_missing_columns_are_refused_with_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let pq = dir.path().join("berlin.parquet");
        write(
            &pq,
            vec![
                (
                    "meter_id",
                    Arc::new(StringArray::from(vec!["A"])) as ArrayRef,
                ),
                (
                    "timestamp",
                    Arc::new(TimestampSecondArray::from(vec![0]).with_timezone("Europe/Berlin")),
                ),
                ("kwh", Arc::new(Float64Array::from(vec![1.0]))),
            ],
        );
        let err = refusal(&pq);
        assert!(
            err.contains("berlin.parquet: line 1: column timestamp: time zone Europe/Berlin"),
            "{err}"
        );
        let other = dir.path().join("other.parquet");
        write(
            &other,
            vec![("x", Arc::new(Float64Array::from(vec![1.0])) as ArrayRef)],
        );
        let err = refusal(&other);
        assert!(
            err.contains("need columns for meter, timestamp and value; found x"),
            "{err}"
        );
        let junk = dir.path().join("junk.parquet");
        std::fs::write(&junk, b"not parquet at all").unwrap();
        let err = refusal(&junk);
        assert!(
            err.starts_with(&format!("{}", dir.path().join("junk.parquet").display())),
            "{err}"
        );
    }
}
