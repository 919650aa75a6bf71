//! When the sun rises and sets at a place: what lamps on a dusk-to-dawn switch follow.
//!
//! The generator lights façades by it, and the scorer asks whether a meter's dawn follows it
//! (`features::sun_dawn_swing`). NOAA's general solar position equations (NOAA Global
//! Monitoring Laboratory, "General Solar Position Calculations"): the fractional year, the
//! equation of time, the declination, and the hour angle of a sun 0.833° below the horizon
//! (refraction and the sun's radius). Within a few minutes of published tables (the test).

use crate::time::{civil_from_days, days_from_civil};

/// Sunrise and sunset on local day `day` (days since 1970-01-01) at `(lat, lon)` in degrees,
/// as hours of the local clock `offset_s` seconds east of UTC. One clock for a wide country
/// puts them far from the sun's own time: in Xinjiang the sun sets two hours later by
/// Beijing's clock than in Beijing. Past the polar circles, where the sun does not rise or
/// set, the hour angle is held at noon or midnight.
pub fn sun_hours(day: i64, (lat, lon): (f64, f64), offset_s: i32) -> (f64, f64) {
    let (y, _, _) = civil_from_days(day);
    let doy = (day - days_from_civil(y, 1, 1)) as f64;
    let g = 2.0 * std::f64::consts::PI / 365.0 * doy;
    let eqtime = 229.18
        * (0.000075 + 0.001868 * g.cos()
            - 0.032077 * g.sin()
            - 0.014615 * (2.0 * g).cos()
            - 0.040849 * (2.0 * g).sin());
    let decl = 0.006918 - 0.399912 * g.cos() + 0.070257 * g.sin() - 0.006758 * (2.0 * g).cos()
        + 0.000907 * (2.0 * g).sin()
        - 0.002697 * (3.0 * g).cos()
        + 0.00148 * (3.0 * g).sin();
    let phi = lat.to_radians();
    let cos_ha = (90.833f64.to_radians().cos() / (phi.cos() * decl.cos()) - phi.tan() * decl.tan())
        .clamp(-1.0, 1.0);
    let ha = cos_ha.acos().to_degrees();
    let utc_min = |h: f64| 720.0 - 4.0 * (lon + h) - eqtime;
    let local = |m: f64| (m + f64::from(offset_s) / 60.0) / 60.0;
    (local(utc_min(ha)), local(utc_min(-ha)))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CST: i32 = 8 * 3600;

    #[test]
    fn sunrise_and_sunset_match_published_tables() {
        // Beijing (39.90 N, 116.41 E), 2024, as timeanddate.com lists them in CST: 21 June
        // 04:46 and 19:46, 21 December 07:33 and 16:53.
        let at = |y, m, d| sun_hours(days_from_civil(y, m, d), (39.90, 116.41), CST);
        let hm = |h: f64, m: f64| h + m / 60.0;
        let close = |got: f64, want: f64| (got - want).abs() < 5.0 / 60.0;
        let (rise, set) = at(2024, 6, 21);
        assert!(
            close(rise, hm(4.0, 46.0)) && close(set, hm(19.0, 46.0)),
            "{rise} {set}"
        );
        let (rise, set) = at(2024, 12, 21);
        assert!(
            close(rise, hm(7.0, 33.0)) && close(set, hm(16.0, 53.0)),
            "{rise} {set}"
        );
        // The same instant on another clock: an hour east of it, an hour later by the numbers.
        let (east, _) = sun_hours(days_from_civil(2024, 6, 21), (39.90, 116.41), CST + 3600);
        assert!((east - rise_of(2024, 6, 21) - 1.0).abs() < 1e-9);
        // Past the polar circle in its summer the sun does not set: no NaN, a whole day.
        let (r, s) = sun_hours(days_from_civil(2024, 6, 21), (80.0, 15.0), 3600);
        assert!(r.is_finite() && s.is_finite() && s - r > 23.9, "{r} {s}");
    }

    fn rise_of(y: i64, m: u32, d: u32) -> f64 {
        sun_hours(days_from_civil(y, m, d), (39.90, 116.41), CST).0
    }
}
