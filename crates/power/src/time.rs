//! Timestamps in meter files: ISO 8601 with an offset (or a default offset), to UTC seconds
//! and local calendar fields. Written by hand because it sits on the parse path of every row
//! (hundreds of millions per region) and needs no time-zone database: the offset in each
//! timestamp carries daylight saving (a DST day simply has 23 or 25 local hours).

/// A parsed timestamp: UTC seconds since the epoch and the local offset it was written in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stamp {
    /// Seconds since 1970-01-01T00:00:00Z.
    pub utc: i64,
    /// Local offset from UTC, seconds.
    pub offset: i32,
}

impl Stamp {
    /// Local seconds since the epoch (UTC seconds shifted by the offset).
    pub fn local(self) -> i64 {
        self.utc + i64::from(self.offset)
    }
}

/// Days since 1970-01-01 of a civil date (proleptic Gregorian; H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date (year, month, day) of a day number.
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Day of the week of a day number: 0 Monday … 6 Sunday.
pub fn weekday(day: i64) -> u32 {
    // 1970-01-01 was a Thursday (3).
    ((day + 3).rem_euclid(7)) as u32
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0u32, |a, &c| a * 10 + u32::from(c - b'0')))
}

/// Parses `YYYY-MM-DD[T ]HH:MM[:SS[.fff]][Z|±HH[:MM]]` or a bare date `YYYY-MM-DD`
/// (also with `/` and one-digit month or day, as the SGCC files write dates). Without an
/// offset, `default_offset` (seconds) applies.
pub fn parse(s: &str, default_offset: i32) -> Option<Stamp> {
    let b = s.trim().as_bytes();
    // Date part.
    let sep = |c: u8| c == b'-' || c == b'/';
    let (year, rest) = b.split_at(b.iter().position(|&c| sep(c))?);
    let y = digits(year)? as i64;
    let rest = rest.get(1..)?;
    let (month, rest) = rest.split_at(rest.iter().position(|&c| sep(c))?);
    let mo = digits(month)?;
    let rest = rest.get(1..)?;
    let dend = rest
        .iter()
        .position(|c| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let (day, rest) = rest.split_at(dend);
    let d = digits(day)?;
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || !(1000..=9999).contains(&y) {
        return None;
    }
    let mut rest = rest;
    let mut secs: i64 = 0;
    if let Some((&c, tail)) = rest.split_first()
        && (c == b'T' || c == b' ')
    {
        let Some(([h1, h2, b':', m1, m2], mut t)) = tail.split_first_chunk::<5>() else {
            return None;
        };
        let h = digits(&[*h1, *h2])?;
        let mi = digits(&[*m1, *m2])?;
        let mut sec = 0;
        if let Some((b':', after)) = t.split_first() {
            sec = digits(after.get(..2)?)?;
            t = after.get(2..)?;
            if let Some((b'.', fraction)) = t.split_first() {
                let n = fraction.iter().take_while(|c| c.is_ascii_digit()).count();
                t = fraction.get(n..)?;
            }
        }
        if h > 24 || mi > 59 || sec > 60 {
            return None;
        }
        secs = i64::from(h) * 3600 + i64::from(mi) * 60 + i64::from(sec);
        rest = t;
    }
    let offset = match rest {
        [] => default_offset,
        [b'Z'] | [b'z'] => 0,
        [sign @ (b'+' | b'-'), tz @ ..] => {
            let (hh, mm) = match tz {
                [_, _] => (digits(tz)?, 0),
                [a, b, c, d] => (digits(&[*a, *b])?, digits(&[*c, *d])?),
                [a, b, b':', c, d] => (digits(&[*a, *b])?, digits(&[*c, *d])?),
                _ => return None,
            };
            if hh > 18 || mm > 59 {
                return None;
            }
            let o = (hh * 3600 + mm * 60) as i32;
            if *sign == b'-' { -o } else { o }
        }
        _ => return None,
    };
    let local = days_from_civil(y, mo, d) * 86_400 + secs;
    Some(Stamp {
        utc: local - i64::from(offset),
        offset,
    })
}

/// Parses an offset written `+08:00`, `-0500`, `Z` or `UTC`, into seconds.
pub fn parse_offset(s: &str) -> Option<i32> {
    let s = s.trim();
    if s.eq_ignore_ascii_case("z") || s.eq_ignore_ascii_case("utc") {
        return Some(0);
    }
    parse(&format!("2000-01-01T00:00{s}"), 0).map(|st| st.offset)
}

/// RFC 3339 text of local seconds with an offset (for reports).
pub fn format_local(utc: i64, offset: i32) -> String {
    let local = utc + i64::from(offset);
    let day = local.div_euclid(86_400);
    let sod = local.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(day);
    let sign = if offset < 0 { '-' } else { '+' };
    let o = offset.unsigned_abs();
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}{sign}{:02}:{:02}",
        sod / 3600,
        sod % 3600 / 60,
        sod % 60,
        o / 3600,
        o % 3600 / 60
    )
}

/// The local date `YYYY-MM-DD` of a day number.
pub fn format_day(day: i64) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_forms() {
        let a = parse("2024-03-01T08:00:00+08:00", 0).unwrap();
        assert_eq!(a.utc, 1_709_251_200);
        assert_eq!(a.offset, 8 * 3600);
        assert_eq!(parse("2024-03-01 00:00Z", 0).unwrap().utc, 1_709_251_200);
        assert_eq!(
            parse("2024-03-01T08:00:00.500+0800", 0).unwrap().utc,
            1_709_251_200
        );
        assert_eq!(
            parse("2024-03-01T08:00", 8 * 3600).unwrap().utc,
            1_709_251_200
        );
        assert_eq!(parse("2014/1/1", 0).unwrap().utc, 1_388_534_400);
        assert_eq!(parse("2024-02-29", 0).unwrap().utc % 86_400, 0);
    }

    #[test]
    fn bad_forms() {
        for s in [
            "",
            "2024-13-01",
            "24-01-01T00:00",
            "2024-01-01T25:00",
            "2024-01-01T00:00+99:00",
            "2024-01-01X",
            "hello",
        ] {
            assert!(parse(s, 0).is_none(), "{s}");
        }
    }

    #[test]
    fn calendar_round_trip_and_weekday() {
        for z in [-1000i64, 0, 19_782, 60_000] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        // 2024-03-01 was a Friday.
        assert_eq!(weekday(days_from_civil(2024, 3, 1)), 4);
        assert_eq!(
            format_local(1_709_251_200, 8 * 3600),
            "2024-03-01T08:00:00+08:00"
        );
        assert_eq!(parse_offset("+08:00"), Some(28_800));
        assert_eq!(parse_offset("-0500"), Some(-18_000));
    }

    #[test]
    fn daylight_saving_offsets_are_honoured() {
        // Europe/Berlin 2024-03-31: 01:59+01:00 is followed by 03:00+02:00, one hour later.
        let a = parse("2024-03-31T01:00:00+01:00", 0).unwrap();
        let b = parse("2024-03-31T03:00:00+02:00", 0).unwrap();
        assert_eq!(b.utc - a.utc, 3600);
    }
}
