//! The fast path for the common long layout: an unquoted CSV grouped by meter (every meter's
//! rows together, as meter data systems export them). The file is memory-mapped, split on
//! commas and newlines with memchr, timestamps and decimals are parsed by hand with a cache of
//! the last date, and each meter is built and handed on as soon as its rows end, so memory
//! holds one meter. Anything unusual on a line falls back to the general parsers; any quote in
//! the file, or a meter whose rows are not together, sends the whole file to the general path.

use crate::read::{ReadStats, ReadingsOptions};
use crate::series::{BuildConfig, Series, build};
use crate::time::{Stamp, days_from_civil, parse};
use std::collections::HashSet;
use std::path::Path;

fn field(line: &[u8], i: usize) -> Option<&[u8]> {
    if i == 0 {
        // The usual case, and a short one: no search call for a few bytes.
        let end = line.iter().position(|&c| c == b',').unwrap_or(line.len());
        return Some(line[..end].trim_ascii());
    }
    let mut start = 0;
    for _ in 0..i {
        start += memchr::memchr(b',', &line[start..])? + 1;
    }
    let end = memchr::memchr(b',', &line[start..]).map_or(line.len(), |e| start + e);
    Some(line[start..end].trim_ascii())
}

/// True when the file has no quotes and each meter's rows are contiguous. Read with plain
/// buffered reads (not through the memory map), so checking a file larger than memory does not
/// fill the resident set.
pub fn grouped(path: &Path, header_end: usize, meter_col: usize) -> std::io::Result<bool> {
    use std::io::{Read, Seek, SeekFrom};
    let mut file = std::fs::File::open(path)?;
    file.seek(SeekFrom::Start(header_end as u64))?;
    let mut done: HashSet<Vec<u8>> = HashSet::new();
    let mut cur: Vec<u8> = Vec::new();
    let mut have = false;
    let mut check = |line: &[u8]| -> bool {
        let l = line.strip_suffix(b"\r").unwrap_or(line);
        if l.trim_ascii().is_empty() {
            return true;
        }
        let Some(m) = field(l, meter_col) else {
            return true;
        };
        if !have || cur != m {
            if have {
                done.insert(std::mem::take(&mut cur));
            }
            if done.contains(m) {
                return false;
            }
            cur.clear();
            cur.extend_from_slice(m);
            have = true;
        }
        true
    };
    let mut buf = vec![0u8; 4 << 20];
    let mut carry: Vec<u8> = Vec::new();
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            return Ok(carry.is_empty() || check(&carry));
        }
        let chunk = &buf[..n];
        // Quoted fields need the full CSV parser.
        if memchr::memchr(b'"', chunk).is_some() {
            return Ok(false);
        }
        let mut start = 0;
        for nl in memchr::memchr_iter(b'\n', chunk) {
            let ok = if carry.is_empty() {
                check(&chunk[start..nl])
            } else {
                carry.extend_from_slice(&chunk[start..nl]);
                let line = std::mem::take(&mut carry);
                check(&line)
            };
            if !ok {
                return Ok(false);
            }
            start = nl + 1;
        }
        carry.extend_from_slice(&chunk[start..]);
    }
}

fn two(b: &[u8]) -> Option<u32> {
    let (a, c) = (b.first()?.wrapping_sub(b'0'), b.get(1)?.wrapping_sub(b'0'));
    (a < 10 && c < 10).then(|| u32::from(a) * 10 + u32::from(c))
}

/// `YYYY-MM-DDTHH:MM[:SS[.f]][Z|±HH[:MM]]` by fixed positions, with the day of the last date
/// cached; anything else goes to the general parser.
fn stamp(b: &[u8], cache: &mut ([u8; 10], i64), default_offset: i32) -> Option<Stamp> {
    if b.len() < 16
        || b[4] != b'-'
        || b[7] != b'-'
        || !(b[10] == b'T' || b[10] == b' ')
        || b[13] != b':'
    {
        return parse(std::str::from_utf8(b).ok()?, default_offset);
    }
    let day = if b[..10] == cache.0 {
        cache.1
    } else {
        let y = two(&b[0..2])? * 100 + two(&b[2..4])?;
        let (m, d) = (two(&b[5..7])?, two(&b[8..10])?);
        if !(1..=12).contains(&m) || !(1..=31).contains(&d) {
            return None;
        }
        let day = days_from_civil(i64::from(y), m, d);
        cache.0.copy_from_slice(&b[..10]);
        cache.1 = day;
        day
    };
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

/// Plain decimals (`-12.345`) by hand; exponents and the rest by the standard parser.
fn number(b: &[u8]) -> Option<f64> {
    let (neg, digits) = match b.first() {
        Some(b'-') => (true, &b[1..]),
        Some(b'+') => (false, &b[1..]),
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
    const P10: [f64; 16] = [
        1.0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];
    // Exact: a mantissa below 2^53 divided by an exact power of ten rounds once.
    let v = mant as f64 / P10[frac as usize];
    Some(if neg { -v } else { v })
}

/// The first `N` fields of each line, from one SIMD scan for commas and newlines over the whole
/// buffer (fields of meter files are short: a search per field costs more than it finds).
struct Splitter<'a, I: Iterator<Item = usize>> {
    data: &'a [u8],
    delims: I,
    start: usize,
    line_no: u64,
}

impl<'a> Splitter<'a, memchr::Memchr2<'a>> {
    fn new(data: &'a [u8], line_no: u64) -> Self {
        Splitter {
            data,
            delims: memchr::memchr2_iter(b',', b'\n', data),
            start: 0,
            line_no,
        }
    }
}

impl<'a, I: Iterator<Item = usize>> Splitter<'a, I> {
    /// Offset of the next unread byte.
    fn position(&self) -> usize {
        self.start
    }

    fn next_line<const N: usize>(&mut self, out: &mut [&'a [u8]; N]) -> Option<(u64, usize)> {
        loop {
            if self.start >= self.data.len() {
                return None;
            }
            let line_start = self.start;
            let mut field_start = self.start;
            let mut n = 0;
            let end = loop {
                match self.delims.next() {
                    Some(i) if self.data[i] == b',' => {
                        if n < N {
                            out[n] = &self.data[field_start..i];
                        }
                        n += 1;
                        field_start = i + 1;
                    }
                    Some(i) => break i,
                    None => break self.data.len(),
                }
            };
            let mut last = end;
            if last > field_start && self.data[last - 1] == b'\r' {
                last -= 1;
            }
            if n < N {
                out[n] = &self.data[field_start..last.max(field_start)];
            }
            self.start = end + 1;
            let no = self.line_no;
            self.line_no += 1;
            let empty =
                end == line_start || (end == line_start + 1 && self.data[line_start] == b'\r');
            if !empty {
                return Some((no, n + 1));
            }
        }
    }
}

/// Streams a grouped, unquoted long file. `data` is the whole file; `header_end` the offset of
/// the first data line; `release` is told how far the reading has come, so the caller can let
/// go of the bytes behind it.
#[allow(clippy::too_many_arguments)]
pub fn stream(
    path: &Path,
    data: &[u8],
    header_end: usize,
    headers: &[String],
    (mc, tc, vc): (usize, usize, usize),
    opts: &ReadingsOptions,
    allow_negative: &dyn Fn(&str) -> bool,
    f: &mut dyn FnMut(Series),
    stats: &mut ReadStats,
    release: &mut dyn FnMut(usize),
) {
    let mut cur: Vec<u8> = Vec::new();
    let mut have_cur = false;
    let mut rows: Vec<(Stamp, f64)> = Vec::new();
    let mut cache = ([0u8; 10], 0i64);
    let mut emit = |meter: &[u8], rows: &mut Vec<(Stamp, f64)>, stats: &mut ReadStats| {
        let m = String::from_utf8_lossy(meter);
        let cfg = BuildConfig {
            allow_negative: opts.build.allow_negative || allow_negative(&m),
            ..opts.build
        };
        if let Some(s) = build(&m, std::mem::take(rows), &cfg) {
            stats.meters += 1;
            f(s);
        }
    };
    let body = &data[header_end..];
    let mut sp = Splitter::new(body, 2);
    let mut fields: [&[u8]; 8] = [&[]; 8];
    let mut next_release = 64 << 20;
    // The caller sends only files whose columns are among the first eight.
    while let Some((no, count)) = sp.next_line(&mut fields) {
        let at = header_end + sp.position();
        if at >= next_release {
            release(at);
            next_release = at + (64 << 20);
        }
        stats.rows += 1;
        let get = |i: usize| {
            if i < count {
                Some(fields[i].trim_ascii())
            } else {
                None
            }
        };
        let Some(m) = get(mc).filter(|m| !m.is_empty()) else {
            stats.skip(path, no, &headers[mc], "missing meter id");
            continue;
        };
        if !have_cur || cur != m {
            if have_cur {
                emit(&cur, &mut rows, stats);
            }
            cur.clear();
            cur.extend_from_slice(m);
            have_cur = true;
        }
        let Some(s) = get(tc).and_then(|t| stamp(t, &mut cache, opts.default_offset)) else {
            stats.skip(path, no, &headers[tc], "unreadable timestamp");
            continue;
        };
        let v = match get(vc) {
            None | Some([]) => {
                stats.skip(path, no, &headers[vc], "missing value");
                continue;
            }
            Some(t) => match number(t) {
                Some(v) => v,
                None => {
                    stats.skip(path, no, &headers[vc], "unreadable value");
                    continue;
                }
            },
        };
        rows.push((s, v));
    }
    if have_cur {
        emit(&cur, &mut rows, stats);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stamps_match_the_general_parser() {
        let mut cache = ([0u8; 10], 0);
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
    fn splitting_lines() {
        let mut sp = Splitter::new(b"a,b,c\r\n\nd,,f\ng", 2);
        let mut f: [&[u8]; 2] = [&[]; 2];
        assert_eq!(sp.next_line(&mut f), Some((2, 3)));
        assert_eq!(f, [&b"a"[..], &b"b"[..]]);
        assert_eq!(sp.next_line(&mut f), Some((4, 3)));
        assert_eq!(f, [&b"d"[..], &b""[..]]);
        assert_eq!(sp.next_line(&mut f), Some((5, 1)));
        assert_eq!(f[0], b"g");
        assert_eq!(sp.next_line(&mut f), None);
    }

    #[test]
    fn groupedness() {
        let d = tempfile::tempdir().unwrap();
        let check = |text: &[u8]| {
            let p = d.path().join("g.csv");
            std::fs::write(&p, [&b"meter_id,kwh\n"[..], text].concat()).unwrap();
            grouped(&p, 13, 0).unwrap()
        };
        assert!(check(b"a,1\na,2\nb,3\n"));
        assert!(!check(b"a,1\nb,2\na,3\n"));
        assert!(!check(b"\"a\",1\n"));
    }
}
