//! Instants as Unix seconds, and the calendar the reports count in.
//!
//! Times with an offset (RFC 3339) are exact. Dates and times written without one (registry
//! CSVs, the power scan's `onset` and windows) are read as China Standard Time, UTC+08:00: the
//! zone of the grid data, the carriers' records and the offices that read the reports. Months
//! in reports are CST months for the same reason.

use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::{Date, Month, OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// The offset of dates and times written without one: China Standard Time.
pub const LOCAL_OFFSET_S: i64 = 8 * 3600;

fn local() -> UtcOffset {
    UtcOffset::from_whole_seconds(LOCAL_OFFSET_S as i32).unwrap_or(UtcOffset::UTC)
}

/// Parses RFC 3339, `YYYY-MM-DD HH:MM[:SS]` or `YYYY-MM-DDTHH:MM[:SS]` (CST), `YYYY-MM-DD`
/// (CST midnight) or Unix seconds (as RADIUS `Event-Timestamp` gives them) into Unix seconds.
pub fn parse_instant(s: &str) -> Option<i64> {
    let s = s.trim();
    if (9..=11).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse().ok();
    }
    if let Ok(t) = OffsetDateTime::parse(s, &Rfc3339) {
        return Some(t.unix_timestamp());
    }
    let spaced = s.replacen('T', " ", 1);
    let with_secs = format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");
    let no_secs = format_description!("[year]-[month]-[day] [hour]:[minute]");
    if let Ok(t) = PrimitiveDateTime::parse(&spaced, with_secs)
        .or_else(|_| PrimitiveDateTime::parse(&spaced, no_secs))
    {
        return Some(t.assume_offset(local()).unix_timestamp());
    }
    parse_date(s)
}

/// Parses `YYYY-MM-DD` as CST midnight, in Unix seconds.
pub fn parse_date(s: &str) -> Option<i64> {
    let d = Date::parse(s.trim(), format_description!("[year]-[month]-[day]")).ok()?;
    Some(d.midnight().assume_offset(local()).unix_timestamp())
}

/// Unix seconds as RFC 3339 in CST (`2024-03-01T08:00:00+08:00`).
pub fn format_instant(t: i64) -> String {
    OffsetDateTime::from_unix_timestamp(t)
        .map(|d| d.to_offset(local()))
        .ok()
        .and_then(|d| d.format(&Rfc3339).ok())
        .unwrap_or_else(|| t.to_string())
}

/// Unix seconds as a CST date (`2024-03-01`).
pub fn format_date(t: i64) -> String {
    let d = date_of(t);
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

fn date_of(t: i64) -> Date {
    OffsetDateTime::from_unix_timestamp(t)
        .map(|d| d.to_offset(local()).date())
        .unwrap_or(Date::MIN)
}

/// A calendar month, counted as `year * 12 + (month - 1)` so months subtract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MonthIndex(pub i32);

impl MonthIndex {
    /// The CST month holding the instant.
    pub fn of(t: i64) -> MonthIndex {
        let d = date_of(t);
        MonthIndex(d.year() * 12 + i32::from(u8::from(d.month())) - 1)
    }
    /// The first second of the month (CST midnight on the 1st).
    pub fn start(self) -> i64 {
        let year = self.0.div_euclid(12);
        let month = Month::try_from((self.0.rem_euclid(12) + 1) as u8).unwrap_or(Month::January);
        Date::from_calendar_date(year, month, 1)
            .map(|d| d.midnight().assume_offset(local()).unix_timestamp())
            .unwrap_or(0)
    }
    /// The first second of the next month.
    pub fn end(self) -> i64 {
        MonthIndex(self.0 + 1).start()
    }
    /// `YYYY-MM`.
    pub fn label(self) -> String {
        format!(
            "{:04}-{:02}",
            self.0.div_euclid(12),
            self.0.rem_euclid(12) + 1
        )
    }
}

/// The current time in Unix seconds.
pub fn now() -> i64 {
    OffsetDateTime::now_utc().unix_timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_in_every_accepted_form() {
        let exact = parse_instant("2024-03-01T00:00:00+08:00").unwrap();
        assert_eq!(parse_instant("2024-03-01 00:00:00"), Some(exact));
        assert_eq!(parse_instant("2024-03-01T00:00"), Some(exact));
        assert_eq!(parse_instant("2024-03-01"), Some(exact));
        assert_eq!(parse_instant("2024-02-29T16:00:00Z"), Some(exact));
        assert_eq!(parse_instant("yesterday"), None);
        assert_eq!(parse_instant("1709222400"), Some(exact));
        assert_eq!(
            parse_instant("20240301"),
            None,
            "eight digits are not seconds"
        );
        assert_eq!(format_instant(exact), "2024-03-01T00:00:00+08:00");
        assert_eq!(format_date(exact), "2024-03-01");
    }

    #[test]
    fn months_are_cst_months() {
        let t = parse_instant("2024-02-29T23:30:00+08:00").unwrap();
        let m = MonthIndex::of(t);
        assert_eq!(m.label(), "2024-02");
        assert_eq!(m.end(), parse_instant("2024-03-01").unwrap());
        assert_eq!(MonthIndex::of(t + 3600).label(), "2024-03");
        assert_eq!(
            MonthIndex(2023 * 12 + 11).end(),
            parse_date("2024-01-01").unwrap()
        );
    }
}
