//! Series that wait for their file to prove grouped by meter.
//!
//! A file is read as if each meter's rows were together (as meter data systems export them), a
//! meter built as soon as its rows end. Whether the file really is grouped is known only at its
//! end, and a meter handed on must be whole, so the built series wait here: in memory up to a
//! budget of intervals, beyond it in a spill file (4 bytes an interval and a few dozen a meter,
//! about a tenth of the CSV text). At the end they are handed on in file order; a file found
//! not grouped drops them and is read again by the general reader. The text is read once:
//! before the spill file, the rest of a file past the budget was read a second time to check
//! its grouping before anything was handed on, which for a file larger than memory meant
//! reading it from disk twice.

use crate::series::{Series, SeriesReport};
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Built series waiting for the end of their file.
pub(crate) struct Held {
    memory: Vec<Series>,
    intervals: usize,
    budget: usize,
    /// Where a spill file goes (named for the input).
    input: PathBuf,
    /// The spill file, its writer and how many series it has.
    spill: Option<(PathBuf, BufWriter<File>, usize)>,
}

impl Held {
    /// Nothing held yet; at most `budget` intervals in memory for the file `input`.
    pub(crate) fn new(budget: usize, input: &Path) -> Held {
        Held {
            memory: Vec::new(),
            intervals: 0,
            budget,
            input: input.to_path_buf(),
            spill: None,
        }
    }

    /// Holds one more series, spilling the series in memory when they pass the budget. An
    /// error names the spill file.
    pub(crate) fn push(&mut self, s: Series) -> std::io::Result<()> {
        self.try_push(s).map_err(|e| self.named(e))
    }

    /// Hands every held series on, in the order they came: the spilled ones, then the rest.
    /// An error names the spill file.
    pub(crate) fn hand_on(mut self, f: &mut dyn FnMut(Series)) -> std::io::Result<()> {
        self.try_hand_on(f).map_err(|e| self.named(e))
    }

    fn named(&self, e: std::io::Error) -> std::io::Error {
        match &self.spill {
            Some((path, _, _)) => {
                std::io::Error::new(e.kind(), format!("spill file {}: {e}", path.display()))
            }
            None => e,
        }
    }

    fn try_push(&mut self, s: Series) -> std::io::Result<()> {
        self.intervals += s.kwh.len();
        self.memory.push(s);
        if self.intervals > self.budget {
            let (_, w, n) = match &mut self.spill {
                Some(spill) => spill,
                None => {
                    // Unique within the process too: several files may be read at once.
                    static SPILLS: AtomicUsize = AtomicUsize::new(0);
                    let path = std::env::temp_dir().join(format!(
                        "minewatch-held-{}-{}-{}",
                        std::process::id(),
                        SPILLS.fetch_add(1, Ordering::Relaxed),
                        self.input
                            .file_name()
                            .map(|n| n.to_string_lossy().into_owned())
                            .unwrap_or_default()
                    ));
                    let w = BufWriter::with_capacity(1 << 20, File::create(&path)?);
                    self.spill.insert((path, w, 0))
                }
            };
            for s in self.memory.drain(..) {
                write_series(w, &s)?;
                *n += 1;
            }
            self.intervals = 0;
        }
        Ok(())
    }

    fn try_hand_on(&mut self, f: &mut dyn FnMut(Series)) -> std::io::Result<()> {
        if let Some((path, w, n)) = &mut self.spill {
            w.flush()?;
            let mut r = BufReader::with_capacity(1 << 20, File::open(&*path)?);
            for _ in 0..*n {
                f(read_series(&mut r)?);
            }
        }
        self.memory.drain(..).for_each(f);
        Ok(())
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        if let Some((path, _, _)) = self.spill.take() {
            let _ = std::fs::remove_file(path);
        }
    }
}

/// A series as bytes, little-endian: meter id (length, bytes), start, step, offsets (count,
/// then index and seconds each), intervals (count, then each f32), the report.
fn write_series(w: &mut impl Write, s: &Series) -> std::io::Result<()> {
    w.write_all(&(s.meter_id.len() as u64).to_le_bytes())?;
    w.write_all(s.meter_id.as_bytes())?;
    w.write_all(&s.start.to_le_bytes())?;
    w.write_all(&s.step.to_le_bytes())?;
    w.write_all(&(s.offsets.len() as u64).to_le_bytes())?;
    for &(i, o) in &s.offsets {
        w.write_all(&(i as u64).to_le_bytes())?;
        w.write_all(&o.to_le_bytes())?;
    }
    w.write_all(&(s.kwh.len() as u64).to_le_bytes())?;
    let mut bytes = [0u8; 4096];
    for chunk in s.kwh.chunks(1024) {
        for (b, v) in bytes.chunks_exact_mut(4).zip(chunk) {
            b.copy_from_slice(&v.to_le_bytes());
        }
        w.write_all(&bytes[..chunk.len() * 4])?;
    }
    let r = &s.report;
    for n in [
        r.duplicates,
        r.missing,
        r.negatives,
        r.impossible,
        r.rollovers,
        r.resets,
        r.off_grid,
    ] {
        w.write_all(&n.to_le_bytes())?;
    }
    w.write_all(&[u8::from(r.cumulative)])
}

/// One series written by [`write_series`].
fn read_series(r: &mut impl Read) -> std::io::Result<Series> {
    fn u64_of(r: &mut impl Read) -> std::io::Result<u64> {
        let mut b = [0u8; 8];
        r.read_exact(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    // A spill file is ours and short-lived; a length past this means it was damaged.
    let length = |n: u64| {
        usize::try_from(n)
            .ok()
            .filter(|n| *n <= 1 << 40)
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, "spill file"))
    };
    let mut id = vec![0u8; length(u64_of(r)?)?];
    r.read_exact(&mut id)?;
    let meter_id = String::from_utf8(id)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    let start = u64_of(r)? as i64;
    let step = u64_of(r)? as i64;
    let mut offsets = Vec::new();
    for _ in 0..length(u64_of(r)?)? {
        let i = length(u64_of(r)?)?;
        let mut o = [0u8; 4];
        r.read_exact(&mut o)?;
        offsets.push((i, i32::from_le_bytes(o)));
    }
    let n = length(u64_of(r)?)?;
    let mut bytes = vec![0u8; n * 4];
    r.read_exact(&mut bytes)?;
    let kwh = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    let mut counts = [0u64; 7];
    for c in &mut counts {
        *c = u64_of(r)?;
    }
    let mut cumulative = [0u8];
    r.read_exact(&mut cumulative)?;
    Ok(Series {
        meter_id,
        start,
        step,
        offsets,
        kwh,
        // In the order write_series wrote them.
        report: SeriesReport {
            duplicates: counts[0],
            missing: counts[1],
            negatives: counts[2],
            impossible: counts[3],
            rollovers: counts[4],
            resets: counts[5],
            off_grid: counts[6],
            cumulative: cumulative[0] != 0,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn series(i: usize) -> Series {
        Series {
            meter_id: format!("电表-{i}"),
            start: 1_700_000_000 + i as i64,
            step: 3600,
            offsets: vec![(0, 8 * 3600), (i, 9 * 3600)],
            kwh: (0..100 + i)
                .map(|k| {
                    if k % 17 == 0 {
                        f32::NAN
                    } else {
                        k as f32 * 0.25
                    }
                })
                .collect(),
            report: SeriesReport {
                duplicates: i as u64,
                missing: 7,
                negatives: 1,
                impossible: 2,
                rollovers: 3,
                resets: 4,
                off_grid: 5,
                cumulative: i % 2 == 1,
            },
        }
    }

    #[test]
    fn held_series_come_back_in_order_from_memory_and_spill() {
        for budget in [0, 250, 1_000_000] {
            let mut held = Held::new(budget, Path::new("readings.csv"));
            for i in 0..20 {
                held.push(series(i)).unwrap();
            }
            let spilled = held.spill.as_ref().map_or(0, |(_, _, n)| *n);
            assert_eq!(spilled > 0, budget < 1_000_000, "budget {budget}");
            let spill = held.spill.as_ref().map(|(p, _, _)| p.clone());
            let mut back = Vec::new();
            held.hand_on(&mut |s| back.push(s)).unwrap();
            // NaN is never equal to itself: compare what they print.
            let want: Vec<Series> = (0..20).map(series).collect();
            assert_eq!(format!("{back:?}"), format!("{want:?}"), "budget {budget}");
            assert!(spill.is_none_or(|p| !p.exists()));
        }
    }

    #[test]
    fn a_dropped_hold_leaves_no_spill_file() {
        let mut held = Held::new(0, Path::new("dropped.csv"));
        held.push(series(1)).unwrap();
        let path = held.spill.as_ref().map(|(p, _, _)| p.clone()).unwrap();
        assert!(path.exists());
        drop(held);
        assert!(!path.exists());
    }
}
