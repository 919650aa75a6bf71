//! The fast path for the common long layout: an unquoted CSV grouped by meter (every meter's
//! rows together, as meter data systems export them). The file is memory-mapped; a line that
//! continues the current meter with a timestamp shaped like the previous one is parsed in one
//! pass with no delimiter search (meter prefix, fixed-position time, decimal to the newline);
//! any other line is split on commas and goes through the general parsers, with the same
//! result. Each meter is built and handed on as soon as its rows end, so memory holds one
//! meter's rows. Any quote in the file, or a meter whose rows are not together, sends the whole
//! file to the general path (what was handed on is taken back: [`SeriesSink`]).

use crate::input::{ReadStats, ReadingsOptions, SeriesSink, build_meter};
use crate::series::MeterRows;
use crate::time::{Stamp, days_from_civil, parse};
use std::collections::HashSet;
use std::path::Path;

/// Bytes the reading goes through between two releases of the pages behind it.
const RELEASE_EVERY: usize = 64 << 20;

/// A file read as grouped by meter, for the CSV and Parquet readers alike: the meter being
/// read and its rows, the meters whose rows have ended (one seen again means the file is not
/// grouped), and how many series went to the sink, to take back if so.
pub(crate) struct Grouped<'a> {
    done: HashSet<Vec<u8>, foldhash::fast::RandomState>,
    /// The meter being read.
    pub(crate) cur: Option<Vec<u8>>,
    /// Its rows so far.
    pub(crate) rows: MeterRows,
    handed: usize,
    opts: &'a ReadingsOptions,
    allow_negative: &'a dyn Fn(&str) -> bool,
    sink: &'a mut dyn SeriesSink,
}

impl<'a> Grouped<'a> {
    /// Nothing read yet.
    pub(crate) fn new(
        opts: &'a ReadingsOptions,
        allow_negative: &'a dyn Fn(&str) -> bool,
        sink: &'a mut dyn SeriesSink,
    ) -> Self {
        Grouped {
            done: HashSet::default(),
            cur: None,
            rows: MeterRows::default(),
            handed: 0,
            opts,
            allow_negative,
            sink,
        }
    }

    /// Moves on to meter `m`, handing on the meter whose rows ended; false when `m`'s rows had
    /// already ended (the file is not grouped: see [`Grouped::abandon`]).
    pub(crate) fn enter(&mut self, m: &[u8], stats: &mut ReadStats) -> bool {
        if self.cur.as_deref() == Some(m) {
            return true;
        }
        // Checked first: a meter that is taken back anyway is not built.
        if self.done.contains(m) {
            return false;
        }
        self.end_meter(stats);
        if let Some(c) = self.cur.take() {
            self.done.insert(c);
        }
        self.cur = Some(m.to_vec());
        true
    }

    /// Builds the meter being read and hands its series on.
    fn end_meter(&mut self, stats: &mut ReadStats) {
        let Some(cur) = &self.cur else {
            return;
        };
        let meter = String::from_utf8_lossy(cur);
        if let Some(s) = build_meter(&meter, &mut self.rows, self.opts, self.allow_negative) {
            stats.meters += 1;
            self.sink.take(s);
            self.handed += 1;
        }
    }

    /// The file ended grouped: hands on its last meter.
    pub(crate) fn finish(mut self, stats: &mut ReadStats) {
        self.end_meter(stats);
    }

    /// The file is not grouped: takes back what was handed on from it, and gives the sink
    /// back for the general reader.
    pub(crate) fn abandon(self) -> &'a mut dyn SeriesSink {
        self.sink.forget(self.handed);
        self.sink
    }
}

/// `a == b` for the short ids of meter files, without a library call: two overlapping word
/// compares instead of `memcmp` (the call was a tenth of the reading's time, made for nearly
/// every line).
#[inline]
#[allow(
    clippy::indexing_slicing,
    reason = "each word is read at 0 and at n - W, with n >= W by the match arm"
)]
fn same(a: &[u8], b: &[u8]) -> bool {
    fn word<const W: usize>(x: &[u8], at: usize) -> [u8; W] {
        let mut w = [0u8; W];
        w.copy_from_slice(&x[at..at + W]);
        w
    }
    let n = a.len();
    n == b.len()
        && match n {
            0..=3 => a.iter().zip(b).all(|(x, y)| x == y),
            4..=7 => {
                word::<4>(a, 0) == word::<4>(b, 0) && word::<4>(a, n - 4) == word::<4>(b, n - 4)
            }
            8..=16 => {
                word::<8>(a, 0) == word::<8>(b, 0) && word::<8>(a, n - 8) == word::<8>(b, n - 8)
            }
            _ => a == b,
        }
}

fn two(b: &[u8]) -> Option<u32> {
    let (a, c) = (b.first()?.wrapping_sub(b'0'), b.get(1)?.wrapping_sub(b'0'));
    (a < 10 && c < 10).then(|| u32::from(a) * 10 + u32::from(c))
}

/// The day number of the `YYYY-MM-DD` that `b` starts with (separators checked by the caller).
#[allow(
    clippy::indexing_slicing,
    reason = "callers pass at least the ten bytes of YYYY-MM-DD"
)]
fn date(b: &[u8]) -> Option<i64> {
    let y = two(&b[0..2])? * 100 + two(&b[2..4])?;
    let (m, d) = (two(&b[5..7])?, two(&b[8..10])?);
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
        return None;
    }
    Some(days_from_civil(i64::from(y), m, d))
}

/// `YYYY-MM-DDTHH:MM[:SS[.f]][Z|±HH[:MM]]` by fixed positions, with the day of the last date
/// cached; anything else goes to the general parser.
#[allow(
    clippy::indexing_slicing,
    reason = "fixed positions below 16, after the length check; the seconds and fraction are read with get"
)]
fn stamp(b: &[u8], cache: &mut DateCache, default_offset: i32) -> Option<Stamp> {
    if b.len() < 16
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b'T' || b[10] == b' ')
        || b[13] != b':'
    {
        return parse(std::str::from_utf8(b).ok()?, default_offset);
    }
    let day = cache.day(b)?;
    let (h, mi) = (two(&b[11..13])?, two(&b[14..16])?);
    let mut rest = &b[16..];
    let mut s = 0;
    if rest.first() == Some(&b':') {
        s = two(rest.get(1..3)?)?;
        rest = &rest[3..];
        if rest.first() == Some(&b'.') {
            let n = rest[1..].iter().take_while(|c| c.is_ascii_digit()).count();
            rest = &rest[1 + n..];
        }
    }
    if h > 24 || mi > 59 || s > 60 {
        return None;
    }
    let offset = match rest {
        [] => default_offset,
        [b'Z' | b'z'] => 0,
        [sign @ (b'+' | b'-'), t @ ..] => {
            let (oh, om) = match t.len() {
                2 => (two(t)?, 0),
                4 => (two(&t[..2])?, two(&t[2..])?),
                5 if t[2] == b':' => (two(&t[..2])?, two(&t[3..])?),
                _ => return None,
            };
            if oh > 18 || om > 59 {
                return None;
            }
            let o = (oh * 3600 + om * 60) as i32;
            if *sign == b'-' { -o } else { o }
        }
        _ => return None,
    };
    let local = day * 86_400 + i64::from(h * 3600 + mi * 60 + s);
    Some(Stamp {
        utc: local - i64::from(offset),
        offset,
    })
}

/// The value of at most 15 decimal digits `mant` with `frac` of them after the point.
#[allow(
    clippy::indexing_slicing,
    reason = "frac counts digits of a mantissa of at most 15"
)]
fn decimal(neg: bool, mant: u64, frac: usize) -> f64 {
    const P10: [f64; 16] = [
        1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    // Exact: a mantissa below 2^53 divided by an exact power of ten rounds once.
    let v = mant as f64 / P10[frac];
    if neg { -v } else { v }
}

/// Plain decimals (`-12.345`) by hand; exponents and the rest by the standard parser.
fn number(b: &[u8]) -> Option<f64> {
    let (neg, digits) = match b.split_first() {
        Some((b'-', rest)) => (true, rest),
        Some((b'+', rest)) => (false, rest),
        _ => (false, b),
    };
    let mut mant: u64 = 0;
    let mut frac = 0i32;
    let mut seen_dot = false;
    let mut n = 0;
    for &c in digits {
        match c {
            b'0'..=b'9' => {
                n += 1;
                if n > 15 {
                    return std::str::from_utf8(b).ok()?.parse().ok();
                }
                mant = mant * 10 + u64::from(c - b'0');
                if seen_dot {
                    frac += 1;
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => {
                return std::str::from_utf8(b)
                    .ok()?
                    .parse()
                    .ok()
                    .filter(|v: &f64| v.is_finite());
            }
        }
    }
    if n == 0 {
        return None;
    }
    Some(decimal(neg, mant, frac as usize))
}

/// The fields of one line (without its newline) into `out`; returns how many fields the line
/// has (more than `N` are counted, not kept).
#[allow(
    clippy::indexing_slicing,
    reason = "a field is stored only while n < N"
)]
fn split_line<'a, const N: usize>(line: &'a [u8], out: &mut [&'a [u8]; N]) -> usize {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let mut n = 0;
    let mut start = 0;
    for i in memchr::memchr_iter(b',', line) {
        if n < N {
            out[n] = &line[start..i];
        }
        n += 1;
        start = i + 1;
    }
    if n < N {
        out[n] = &line[start..];
    }
    n + 1
}

/// The timestamp field of the fast path, at the length of the previous one; `None` sends the
/// line to the general path.
#[allow(
    clippy::indexing_slicing,
    reason = "len >= 19 and t holds len + 1 bytes (checked first); the suffix is at most its 8 bytes"
)]
fn stamp_at(t: &[u8], len: usize, cache: &mut StampCache) -> Option<Stamp> {
    if t.get(len) != Some(&b',') || len < 19 {
        return None;
    }
    let b = &t[..len];
    if b[10] != b'T' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    // A new date (every 24th line of hourly data) is read here too, not by the general path.
    let day = cache.date.day(b)?;
    let secs = clock(&b[11..19])?;
    if !same(&b[19..], &cache.suffix[..usize::from(cache.suffix_len)]) {
        return None;
    }
    Some(cache.stamp(day, secs))
}

/// The last date read and its day number: hourly data changes date every 24th line. One for
/// both timestamp parsers of a file.
#[derive(Default)]
struct DateCache {
    bytes: [u8; 10],
    day: i64,
}

impl DateCache {
    /// The day number of the `YYYY-MM-DD` that `b` (at least ten bytes) starts with.
    #[allow(
        clippy::indexing_slicing,
        reason = "callers pass at least sixteen bytes"
    )]
    fn day(&mut self, b: &[u8]) -> Option<i64> {
        if same(&b[..10], &self.bytes) {
            return Some(self.day);
        }
        if b[4] != b'-' || b[7] != b'-' {
            return None;
        }
        self.day = date(b)?;
        self.bytes.copy_from_slice(&b[..10]);
        Some(self.day)
    }
}

/// What the previous timestamp of the fast path looked like: its date, the text after its
/// seconds (the offset) and its length.
#[derive(Default)]
struct StampCache {
    date: DateCache,
    suffix: [u8; 8],
    suffix_len: u8,
    offset: i32,
    len: usize,
}

impl StampCache {
    /// Remembers a timestamp the general parser read, when it has the plain
    /// `YYYY-MM-DDTHH:MM:SS<offset>` shape the fast path checks.
    #[allow(
        clippy::indexing_slicing,
        reason = "positions below 19 after the length check, the suffix within its 8 bytes"
    )]
    fn learn(&mut self, t: &[u8], s: Stamp) {
        let plain = t.len() >= 19
            && t.len() - 19 <= self.suffix.len()
            && t[10] == b'T'
            && t[13] == b':'
            && t[16] == b':'
            && t[19..].first() != Some(&b'.');
        if !plain {
            self.len = 0;
            return;
        }
        let Some(secs) = clock(&t[11..19]) else {
            self.len = 0;
            return;
        };
        let local = s.utc + i64::from(s.offset) - i64::from(secs);
        self.date.bytes.copy_from_slice(&t[..10]);
        self.date.day = local.div_euclid(86_400);
        self.suffix[..t.len() - 19].copy_from_slice(&t[19..]);
        self.suffix_len = (t.len() - 19) as u8;
        self.offset = s.offset;
        self.len = t.len();
    }

    /// The instant of `secs` into local day `day`, at the offset of the timestamps learnt.
    fn stamp(&self, day: i64, secs: u32) -> Stamp {
        Stamp {
            utc: day * 86_400 + i64::from(secs) - i64::from(self.offset),
            offset: self.offset,
        }
    }
}

/// A plain decimal running to the end of the line: the value and the offset just past the
/// newline. Anything else (exponents, spaces, more fields, an empty value) is `None`.
fn value_to_eol(b: &[u8]) -> Option<(f64, usize)> {
    let (neg, mut i) = match b.first() {
        Some(b'-') => (true, 1),
        _ => (false, 0),
    };
    let mut mant: u64 = 0;
    let mut digits = 0u32;
    let mut frac: Option<u32> = None;
    let end = loop {
        match b.get(i) {
            Some(c @ b'0'..=b'9') => {
                mant = mant * 10 + u64::from(c - b'0');
                digits += 1;
                if let Some(f) = &mut frac {
                    *f += 1;
                }
            }
            Some(b'.') if frac.is_none() => frac = Some(0),
            Some(b'\n') => break i + 1,
            Some(b'\r') if b.get(i + 1) == Some(&b'\n') => break i + 2,
            None => break i,
            Some(_) => return None,
        }
        i += 1;
    };
    if digits == 0 || digits > 15 {
        return None;
    }
    Some((decimal(neg, mant, frac.unwrap_or(0) as usize), end))
}

/// [`value_to_eol`] for the usual short value (at most seven characters, digits and one point,
/// then `\n`), read as one 8-byte word: a value's length changes from line to line, and the
/// byte loop's exit was a branch the processor guessed wrong about once a line. `None` for
/// anything else (signs, `\r`, longer values), which [`value_to_eol`] then reads.
#[inline(always)]
fn short_value(b: &[u8]) -> Option<(f64, usize)> {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    const NIBBLES: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    let w = u64::from_le_bytes(b.get(..8)?.try_into().ok()?);
    // The high bit of each byte equal to `c`; only bytes above a true match can be flagged
    // falsely, so the lowest flag is always true.
    let find = |c: u8| {
        let v = w ^ (ONES * u64::from(c));
        v.wrapping_sub(ONES) & !v & HIGH
    };
    let nl = find(b'\n');
    if nl == 0 {
        return None;
    }
    // Byte 0 is the first character (little-endian load).
    let p = (nl.trailing_zeros() / 8) as usize;
    let before_nl = (1u64 << (8 * p)) - 1;
    let dot = find(b'.') & before_nl;
    let (text, k, frac) = if dot == 0 {
        (w & before_nl, p, 0)
    } else {
        // Close the gap the point leaves: the digits after it move down a byte.
        let q = (dot.trailing_zeros() / 8) as usize;
        let ints = (1u64 << (8 * q)) - 1;
        let text = (w & ints) | ((w >> 8) & (before_nl >> 8) & !ints);
        (text, p - 1, p - 1 - q)
    };
    if k == 0 {
        return None;
    }
    // Pad with '0' above the digits, then every byte must be an ASCII digit.
    let s = text | (ZEROS & !((1u64 << (8 * k)) - 1));
    if s & NIBBLES != ZEROS || (s + 0x0606_0606_0606_0606) & NIBBLES != ZEROS {
        return None;
    }
    // The k digits, most significant first, right-aligned in the word as eight digits with
    // leading zeros; then pairs, fours and eights combined by multiplication.
    let d = (s - ZEROS) << (8 * (8 - k));
    // The products are meant to overflow: only the lanes kept matter.
    let d = d.wrapping_mul(2561) >> 8;
    let d = (d & 0x00FF_00FF_00FF_00FF).wrapping_mul(6_553_601) >> 16;
    let mant = ((d & 0x0000_FFFF_0000_FFFF).wrapping_mul(42_949_672_960_001)) >> 32;
    Some((decimal(false, mant, frac), p + 1))
}

/// The fast path for a line of the default layout (`meter,timestamp,value`) that continues
/// the current meter and has the previous line's timestamp shape: the reading and the offset
/// of the next line. Parsed in one pass without searching for delimiters; `None` sends the line
/// to the general path, which gives the same result for every line this accepts.
#[allow(
    clippy::indexing_slicing,
    reason = "rest holds more than the meter id (checked); stamp_at checked t holds len + 1 bytes"
)]
fn continuing_line(
    rest: &[u8],
    meter: &[u8],
    cache: &mut StampCache,
) -> Option<(Stamp, f64, usize)> {
    let n = meter.len();
    if rest.len() <= n || rest[n] != b',' || !same(&rest[..n], meter) {
        return None;
    }
    let t = &rest[n + 1..];
    let s = stamp_at(t, cache.len, cache)?;
    let v = &t[cache.len + 1..];
    let (v, used) = short_value(v).or_else(|| value_to_eol(v))?;
    Some((s, v, n + 1 + cache.len + 1 + used))
}

/// [`continuing_line`] over the lines from `pos` while they continue `meter`, up to offset
/// `until`: their readings go to `rows`; returns the offset of the first line not read.
///
/// Most lines differ from the line before only in the digits of the time and in the value: a
/// line whose text up to the value equals the previous line's but for those six digits (one
/// vector compare, [`same_but_time`]) is read without the field checks of
/// [`continuing_line`], with the same result. A function of its own, not inlined: inside the
/// streaming loop the figures of a line lived on the stack.
#[inline(never)]
#[allow(
    clippy::indexing_slicing,
    reason = "p < pos and pos + 64 <= body.len() (the get above); the time and value lie inside the 64 bytes compared"
)]
fn continuing_lines(
    body: &[u8],
    mut pos: usize,
    until: usize,
    meter: &[u8],
    cache: &mut StampCache,
    rows: &mut MeterRows,
) -> usize {
    let until = until.min(body.len());
    // The text before the value: meter, comma, timestamp, comma; the time's digits in it.
    let before_value = meter.len() + cache.len + 2;
    let time_at = meter.len() + 1 + 11;
    let need = if before_value <= 64 {
        (u64::MAX >> (64 - before_value)) & !(0b1101_1011 << time_at)
    } else {
        0
    };
    // The previous line read here, when its text before the value is the one to compare with.
    let mut prev: Option<usize> = None;
    while pos < until {
        if need != 0
            && let Some(p) = prev
            && let Some(line) = body.get(pos..pos + 64)
            && same_but_time(&body[p..p + 64], line, need)
            && let Some(secs) = clock(&line[time_at..time_at + 8])
            && let Some((v, used)) = short_value(&line[before_value..])
                .or_else(|| value_to_eol(&body[pos + before_value..]))
        {
            rows.push((cache.stamp(cache.date.day, secs), v));
            prev = Some(pos);
            pos += before_value + used;
            continue;
        }
        let Some((s, v, used)) = continuing_line(&body[pos..], meter, cache) else {
            break;
        };
        rows.push((s, v));
        // The next line compares with this one (whose date may be a new one).
        prev = Some(pos);
        pos += used;
    }
    pos
}

/// Whether `a` and `b` agree at every byte whose bit is set in `need` (SSE2 compares).
fn same_but_time(a: &[u8], b: &[u8], need: u64) -> bool {
    let (Ok(a), Ok(b)) = (<&[u8; 64]>::try_from(a), <&[u8; 64]>::try_from(b)) else {
        return false;
    };
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{__m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8};
        let mut eq = 0u64;
        // SAFETY: SSE2 is part of every x86_64 processor; each load reads 16 bytes at 16·k of
        // a 64-byte array and needs no alignment.
        unsafe {
            for k in 0..4 {
                let x = _mm_loadu_si128(a.as_ptr().add(16 * k).cast::<__m128i>());
                let y = _mm_loadu_si128(b.as_ptr().add(16 * k).cast::<__m128i>());
                // movemask sets only the low 16 bits: the casts keep them.
                eq |= u64::from(_mm_movemask_epi8(_mm_cmpeq_epi8(x, y)) as u16) << (16 * k);
            }
        }
        eq & need == need
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        (0..64).all(|i| need >> i & 1 == 0 || a[i] == b[i])
    }
}

/// Seconds into the day of `HH:MM:SS` (its colons already checked): two digits each, hours
/// to 24, minutes to 59, seconds to 60, as [`stamp`] reads them.
fn clock(t: &[u8]) -> Option<u32> {
    const ZEROS: u64 = 0x3030_3030_3030_3030;
    const NIBBLES: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    let w = u64::from_le_bytes(t.try_into().ok()?);
    // The colons (bytes 2 and 5) become '0' so that all eight bytes are checked as digits.
    let colons = 0x0000_FF00_00FF_0000u64;
    let w = (w & !colons) | (ZEROS & colons);
    if w & NIBBLES != ZEROS || (w + 0x0606_0606_0606_0606) & NIBBLES != ZEROS {
        return None;
    }
    // Each byte times ten plus the next: hours in byte 0, minutes in 3, seconds in 6 (at most
    // 99 each, so no byte carries into the next).
    let d = w - ZEROS;
    let t = d.wrapping_mul(10) + (d >> 8);
    let (h, mi, s) = (t & 0xFF, (t >> 24) & 0xFF, (t >> 48) & 0xFF);
    if h > 24 || mi > 59 || s > 60 {
        return None;
    }
    Some((h * 3600 + mi * 60 + s) as u32)
}

/// How streaming a file ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Streamed {
    /// Every meter was handed on.
    Done,
    /// The file has quotes or a meter whose rows are not together: what was handed on was
    /// taken back, and the general reader must take the file.
    NotGrouped,
}

/// Streams an unquoted long file whose meters' rows are together (as meter data systems export
/// them), a meter at a time. `data` is the whole file; `header_end` the offset of the first data
/// line; `release` is told how far the reading has come, so the caller can let go of the bytes
/// behind it.
///
/// Each meter's series is handed to `sink` as soon as its rows end. A meter seen again, or a
/// quote, ends the streaming with [`Streamed::NotGrouped`], after `sink` was told to forget
/// what it took from this file (see [`SeriesSink`]).
#[allow(clippy::too_many_arguments)]
pub fn stream(
    path: &Path,
    data: &[u8],
    header_end: usize,
    headers: &[String],
    (mc, tc, vc): (usize, usize, usize),
    opts: &ReadingsOptions,
    allow_negative: &dyn Fn(&str) -> bool,
    sink: &mut dyn SeriesSink,
    stats: &mut ReadStats,
    release: &mut dyn FnMut(usize),
) -> Streamed {
    let mut g = Grouped::new(opts, allow_negative, sink);
    let mut fast = StampCache::default();
    let default_layout = (mc, tc, vc) == (0, 1, 2);
    let body = data.get(header_end..).unwrap_or_default();
    let mut pos = 0;
    let mut no = 1u64;
    let mut fields: [&[u8]; 8] = [&[]; 8];
    let mut next_release = RELEASE_EVERY;
    // The caller sends only files whose columns are among the first eight.
    while pos < body.len() {
        if pos >= next_release {
            release(header_end + pos);
            next_release = pos + RELEASE_EVERY;
        }
        if default_layout
            && fast.len > 0
            && let Some(cur) = &g.cur
        {
            let before = g.rows.len();
            pos = continuing_lines(body, pos, next_release, cur, &mut fast, &mut g.rows);
            let read = (g.rows.len() - before) as u64;
            if read > 0 {
                no += read;
                stats.rows += read;
                continue;
            }
        }
        no += 1;
        let rest = body.get(pos..).unwrap_or_default();
        let (line, end) = match memchr::memchr(b'\n', rest) {
            Some(e) => (rest.get(..e).unwrap_or(rest), pos + e),
            None => (rest, body.len()),
        };
        pos = end + 1;
        if line.is_empty() || line == b"\r" {
            continue;
        }
        // Quoted fields need the full CSV parser.
        if memchr::memchr(b'"', line).is_some() {
            g.abandon();
            return Streamed::NotGrouped;
        }
        stats.rows += 1;
        let count = split_line(line, &mut fields);
        let get = |i: usize| {
            if i < count {
                fields.get(i).map(|f| f.trim_ascii())
            } else {
                None
            }
        };
        let Some(m) = get(mc).filter(|m| !m.is_empty()) else {
            stats.skip_in(path, no, (headers, mc), "missing meter id");
            continue;
        };
        if !g.enter(m, stats) {
            g.abandon();
            return Streamed::NotGrouped;
        }
        let t = get(tc);
        let Some(s) = t.and_then(|t| stamp(t, &mut fast.date, opts.default_offset)) else {
            stats.skip_in(path, no, (headers, tc), "unreadable timestamp");
            continue;
        };
        let v = match get(vc) {
            None | Some([]) => {
                stats.skip_in(path, no, (headers, vc), "missing value");
                continue;
            }
            Some(t) => match number(t) {
                Some(v) => v,
                None => {
                    stats.skip_in(path, no, (headers, vc), "unreadable value");
                    continue;
                }
            },
        };
        // The next lines of this meter may take the fast path when they look like this one.
        if default_layout
            && let Some(&raw) = fields.get(tc)
            && raw.len() == t.map_or(0, <[u8]>::len)
        {
            fast.learn(raw, s);
        }
        g.rows.push((s, v));
    }
    g.finish(stats);
    Streamed::Done
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_match_the_general_parser() {
        let mut cache = DateCache::default();
        for s in [
            "2024-03-01T08:00:00+08:00",
            "2024-03-01T09:15:00+08:00",
            "2024-03-02 00:00Z",
            "2024-03-31T01:00:00.250+0100",
            "2024-03-31T03:00:00-05",
            "2024-12-31T23:59:59",
        ] {
            assert_eq!(stamp(s.as_bytes(), &mut cache, 3600), parse(s, 3600), "{s}");
        }
        assert_eq!(stamp(b"2024-13-01T00:00:00Z", &mut cache, 0), None);
        assert_eq!(stamp(b"2014/1/1", &mut cache, 0), parse("2014/1/1", 0));
    }

    #[test]
    fn numbers_match_the_standard_parser() {
        for s in [
            "0",
            "1.5",
            "-0.125",
            "12345.678",
            "3.20",
            "+2",
            "1e3",
            "0.000000000001",
            "12345678901234567890",
        ] {
            assert_eq!(number(s.as_bytes()), s.parse::<f64>().ok(), "{s}");
        }
        for s in ["", "-", "1.2.3", "abc", "nan", "inf"] {
            assert!(number(s.as_bytes()).is_none_or(|v| !v.is_finite()), "{s}");
        }
    }

    #[test]
    fn short_values_read_like_the_byte_loop() {
        let mut texts: Vec<String> = [
            "5.313", "0", ".5", "5.", "1234567", "123.4567", "12345678", "-1.5", "1.2.3", ".", "",
            "1e3", "7,1", "1.5\r", " 1", "0.0000", "9999999",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..20_000 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let len = (x % 9) as usize;
            let t: String = (0..len)
                .map(|i| b"0123456789.-x\r"[((x >> (8 + 4 * i)) % 14) as usize] as char)
                .collect();
            texts.push(t);
        }
        let mut taken = 0;
        for t in texts {
            let line = format!("{t}\nM1,2024");
            let fast = short_value(line.as_bytes());
            if fast.is_some() {
                taken += 1;
                assert_eq!(fast, value_to_eol(line.as_bytes()), "{t:?}");
            }
        }
        assert!(taken > 2_000, "{taken}");
        // Short of eight bytes, or no newline in them: the byte loop reads it.
        assert_eq!(short_value(b"5.31\n"), None);
        assert_eq!(short_value(b"12345678\n"), None);
        assert_eq!(short_value(b"5.313\nM"), None);
        assert_eq!(short_value(b"5.313\nM1"), Some((5.313, 6)));
    }

    #[test]
    fn clock_reads_like_two_digit_fields() {
        let reference = |t: &[u8]| {
            let (h, mi, s) = (two(&t[0..2])?, two(&t[3..5])?, two(&t[6..8])?);
            (h <= 24 && mi <= 59 && s <= 60).then_some(h * 3600 + mi * 60 + s)
        };
        let digits = b"0123456789/:a ";
        for a in digits {
            for b in digits {
                for (m, sec) in [("00", "00"), ("59", "60"), ("60", "00"), ("00", "61")] {
                    let t = format!("{}{}:{m}:{sec}", *a as char, *b as char);
                    assert_eq!(clock(t.as_bytes()), reference(t.as_bytes()), "{t}");
                    let t = format!("12:{}{}:{sec}", *a as char, *b as char);
                    assert_eq!(clock(t.as_bytes()), reference(t.as_bytes()), "{t}");
                }
            }
        }
    }

    #[test]
    fn short_ids_compare_like_slices() {
        let ids: [&[u8]; 9] = [
            b"",
            b"a",
            b"ab",
            b"M001",
            b"M0001",
            b"M000001",
            b"M0000001",
            b"M00000000000001",
            b"M000000000000000001",
        ];
        for a in ids {
            for b in ids {
                assert_eq!(same(a, b), a == b);
            }
            let mut c = a.to_vec();
            if let Some(last) = c.last_mut() {
                *last ^= 1;
                assert!(!same(a, &c));
                c[0] ^= 1;
                *c.last_mut().unwrap() ^= 1;
                assert!(!same(a, &c));
            }
        }
    }

    #[test]
    fn splitting_lines() {
        let mut f: [&[u8]; 2] = [&[]; 2];
        assert_eq!(split_line(b"a,b,c\r", &mut f), 3);
        assert_eq!(f, [&b"a"[..], &b"b"[..]]);
        assert_eq!(split_line(b"d,", &mut f), 2);
        assert_eq!(f, [&b"d"[..], &b""[..]]);
        assert_eq!(split_line(b"g", &mut f), 1);
        assert_eq!(f[0], b"g");
    }
}
