//! A realistic synthetic region with hidden miners and the truth written beside it.
//!
//! Load shapes are parametric curves shaped after the BDEW standard load profiles' features
//! (docs/FACTS.md §P3: household load factor ≈ 0.64, night/midday ≈ 0.37, weekend ≈ 1.07× weekdays;
//! continuous commerce g3 ≈ 0.81 / 0.67): households with morning and evening peaks, heating and
//! air conditioning, rooftop solar; offices and shops by opening hours; cold stores with
//! temperature-driven compressors; server rooms; factories on one or three shifts; irrigation
//! pumps in season; night storage heaters on clean-heating tariffs; data centres; EV chargers.
//! Miners hide in them in the ways the case reports describe (docs/FACTS.md §P1, §P4): round the
//! clock, switched on mid-year, night-only, hydro season only, throttled to look commercial,
//! under EV charging bursts, and wired ahead of the meter (theft: only the feeder sees them).
//!
//! The realistic mix ([`Mix::Realistic`]) adds what a grid company's inspectors meet and the
//! classic mix lacks: legitimate loads that are flat or run at night (the hard negatives) and
//! miners that hide in a household's or a shop's own noise (the subtle positives). Their
//! shapes follow published operating practice, each named where it is modelled:
//! pond aerators (Boyd 1998, "Pond water aeration systems", Aquacultural Engineering 18:9-40:
//! 1-2 kW/ha in fish culture up to 15-20 kW/ha for shrimp, run at night when dissolved oxygen
//! falls and all day in warm, heavily fed ponds; oxygen solubility falls with water
//! temperature); greenhouse assimilation lighting (lamps that top the photoperiod up to about
//! 16 hours, so their hours follow sunrise, sunset and season; constant while on); electric
//! boilers of the clean-heating programme (the northern heating season, 15 November to 15
//! March, power following heating degrees); office server rooms (flat IT load, cooling
//! following the outside temperature, a little more in office hours); mobile base stations
//! (Lorincz, Garma and Petrović 2012, "Measurements and modelling of base station power
//! consumption under real traffic loads", Sensors 12:4281: a large static part plus a part
//! linear in traffic, which follows the day); GPU rigs in homes (0.6-2.5 kW: one or two
//! 120-230 W cards per hundred watts of PSU loss, docs/FACTS.md §P5) and rigs behind a shop's counter.

#![allow(
    clippy::indexing_slicing,
    reason = "a generator indexing tables and series it builds itself"
)]

use crate::time::{civil_from_days, days_from_civil, format_local, weekday};
use std::io::Write;

/// What kind of site a meter is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Household.
    Household,
    /// Household with rooftop solar (net metering).
    HouseholdSolar,
    /// Office open on workdays.
    Office,
    /// Shop open every day but Sunday mornings.
    Shop,
    /// Restaurant or hotel, long hours.
    Continuous,
    /// Cold store.
    ColdStore,
    /// Unregistered server room (a legitimate flat load that is not allow-listed).
    ServerRoom,
    /// One-shift factory.
    FactoryOneShift,
    /// Three-shift factory.
    FactoryThreeShift,
    /// Irrigation pumps.
    Farm,
    /// Night storage heating.
    CleanHeating,
    /// Registered data centre.
    DataCentre,
    /// EV charging station.
    EvCharging,
    /// Aquaculture pond aerators (realistic mix).
    Aerator,
    /// Greenhouse with assimilation lighting (realistic mix).
    Greenhouse,
    /// Electric boiler on the clean-heating tariff (realistic mix).
    ElectricBoiler,
    /// An office's server room, registered as commercial (realistic mix).
    OfficeServerRoom,
    /// Mobile base station (realistic mix).
    BaseStation,
}

impl Kind {
    fn class(self) -> &'static str {
        match self {
            Kind::Household | Kind::HouseholdSolar => "residential",
            Kind::Office | Kind::Shop | Kind::Continuous | Kind::ColdStore | Kind::ServerRoom => {
                "commercial"
            }
            Kind::FactoryOneShift | Kind::FactoryThreeShift => "industrial",
            Kind::Farm | Kind::Aerator | Kind::Greenhouse => "agricultural",
            Kind::CleanHeating | Kind::ElectricBoiler => "clean_heating",
            Kind::OfficeServerRoom | Kind::BaseStation => "commercial",
            Kind::DataCentre => "data_centre",
            Kind::EvCharging => "ev_charging",
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::Household => "household",
            Kind::HouseholdSolar => "household_solar",
            Kind::Office => "office",
            Kind::Shop => "shop",
            Kind::Continuous => "continuous_commerce",
            Kind::ColdStore => "cold_store",
            Kind::ServerRoom => "server_room",
            Kind::FactoryOneShift => "factory_one_shift",
            Kind::FactoryThreeShift => "factory_three_shift",
            Kind::Farm => "farm",
            Kind::CleanHeating => "clean_heating",
            Kind::DataCentre => "data_centre",
            Kind::EvCharging => "ev_charging",
            Kind::Aerator => "aerator",
            Kind::Greenhouse => "greenhouse_lighting",
            Kind::ElectricBoiler => "electric_boiler",
            Kind::OfficeServerRoom => "office_server_room",
            Kind::BaseStation => "base_station",
        }
    }
}

/// How a hidden miner runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MinerKind {
    /// All day, every day, all year.
    RoundTheClock,
    /// Switched on at a day of the year and left on.
    Onset,
    /// 22:00 to 06:00 only, to hide among night loads.
    NightOnly,
    /// May to October only (wet-season hydro power).
    HydroSeason,
    /// Throttled by day and night to look like a business.
    Throttled,
    /// Wired ahead of the meter: the meter shows only the household.
    Stolen,
    /// One or two GPUs in a home, round the clock, inside the household's noise (realistic mix).
    GpuHome,
    /// A rig behind a shop's counter, round the clock, on top of business hours (realistic mix).
    ShopRig,
    /// A rig run as a room heater: on while the day's mean temperature is under 5 °C, off
    /// otherwise (realistic mix).
    MiningHeater,
    /// Round the clock but switched off on about one day in five: outages, maintenance, days
    /// when power is dear (realistic mix).
    OffDays,
    /// Machines switched on one at a time, days or weeks apart, as they are delivered or
    /// paid for, each left running (realistic mix): a staircase of equal steps, none of them
    /// large beside what the site already draws once a few machines run.
    Staircase,
}

impl MinerKind {
    /// Switched on on its onset day (all at once or machine by machine) and left on.
    fn starts_at_onset(self) -> bool {
        matches!(self, MinerKind::Onset | MinerKind::Staircase)
    }

    fn name(self) -> &'static str {
        match self {
            MinerKind::RoundTheClock => "round_the_clock",
            MinerKind::Onset => "onset",
            MinerKind::NightOnly => "night_only",
            MinerKind::HydroSeason => "hydro_season",
            MinerKind::Throttled => "throttled",
            MinerKind::Stolen => "stolen",
            MinerKind::GpuHome => "gpu_home",
            MinerKind::ShopRig => "shop_rig",
            MinerKind::MiningHeater => "mining_heater",
            MinerKind::OffDays => "off_days",
            MinerKind::Staircase => "staircase",
        }
    }
}

/// Settings of a generated region.
#[derive(Clone, Debug)]
pub struct RegionConfig {
    /// Meters.
    pub meters: usize,
    /// Days from `start_day`.
    pub days: usize,
    /// First local day (days since 1970-01-01).
    pub start_day: i64,
    /// Interval, seconds (900 or 3600).
    pub step: i64,
    /// Share of meters with a hidden miner.
    pub miner_share: f64,
    /// Seed.
    pub seed: u64,
    /// Meters per transformer area.
    pub area_size: usize,
    /// Which sites the region holds.
    pub mix: Mix,
}

/// Which sites a generated region holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mix {
    /// The first generator's mix: households, businesses, factories, farms, heating, data
    /// centres, EV charging; miners that are easy to see. Kept byte for byte so that earlier
    /// figures can be reproduced.
    #[default]
    Classic,
    /// The classic mix plus the legitimate flat and night loads inspectors meet (aerators,
    /// greenhouse lighting, electric boilers, office server rooms, base stations) and the
    /// subtle miners (GPUs at home, rigs behind a shop's counter).
    Realistic,
    /// The realistic mix with every business keeping hours and levels of its own (see
    /// [`Shape`]): in the realistic mix all shops of a region share one curve, as no real
    /// shops do.
    Varied,
}

impl Mix {
    /// True for the mixes with the hard negatives and the subtle miners.
    fn realistic(self) -> bool {
        self != Mix::Classic
    }
}

/// The hours and levels of one business's own load.
///
/// The classic and realistic mixes give every site of a kind the one template
/// ([`Shape::TEMPLATE`]). The varied mix draws them per site ([`Shape::draw`]), because one
/// kind of business is many shapes: BDEW's commercial standard profiles alone range from a
/// night at 8 % of midday (G1, workdays 8-18 h) through 34 % (G4, shops) and 67 % (G3,
/// continuous) to 78 % (G5, bakeries) (docs/FACTS.md §P3; ../shared/notes/POWER.md §3), and a
/// shop with chilled counters keeps more on overnight than one selling clothes. The ranges
/// drawn here are set to span those profiles, not measured on single sites (no public per-site
/// data set is at hand): they are a harder test, not a calibrated one. A detector that learns
/// one template of a kind (its peers' curve, say) is held to them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Shape {
    /// Opening (or first-shift) hour; read only where `standby` is a number.
    pub open: u32,
    /// Closing (or last-shift) hour; read only where `standby` is a number.
    pub close: u32,
    /// Level outside opening hours, as a share of the open level; NaN in the template, where
    /// each kind keeps the hours and level it always had.
    pub standby: f64,
    /// Continuous commerce: the share of the peak that never switches off.
    pub base: f64,
    /// Continuous commerce: the hour of the peak.
    pub peak: f64,
    /// Continuous commerce: the width of the peak, hours.
    pub width: f64,
    /// Three shifts: Saturday's and Sunday's level against a weekday's.
    pub weekend: (f64, f64),
    /// Three shifts: the level in a shift-change hour.
    pub dip: f64,
    /// Cold store: the compressors' duty at 10 °C, and its change per °C.
    pub duty: (f64, f64),
}

impl Shape {
    /// The one curve per kind of the classic and realistic mixes.
    pub const TEMPLATE: Shape = Shape {
        open: 0,
        close: 0,
        standby: f64::NAN,
        base: 0.6,
        peak: 13.0,
        width: 5.0,
        weekend: (0.6, 0.3),
        dip: 0.75,
        duty: (0.45, 0.025),
    };

    /// One site's own hours and levels, for the varied mix.
    pub fn draw(kind: Kind, rng: &mut Rng) -> Shape {
        let mut s = Shape::TEMPLATE;
        let pick =
            |rng: &mut Rng, lo: u32, hi: u32| lo + (rng.next_u64() % u64::from(hi - lo + 1)) as u32;
        match kind {
            Kind::Shop => {
                s.open = pick(rng, 7, 10);
                s.close = pick(rng, 18, 22);
                s.standby = rng.range(0.1, 0.45);
            }
            Kind::Office => {
                s.open = pick(rng, 7, 9);
                s.close = pick(rng, 17, 20);
                s.standby = rng.range(0.08, 0.3);
            }
            Kind::FactoryOneShift => {
                s.open = pick(rng, 6, 9);
                s.close = s.open + pick(rng, 8, 10);
                s.standby = rng.range(0.05, 0.25);
            }
            Kind::Continuous => {
                s.base = rng.range(0.45, 0.8);
                s.peak = rng.range(11.0, 19.0);
                s.width = rng.range(3.0, 7.0);
            }
            Kind::FactoryThreeShift => {
                s.weekend = (rng.range(0.4, 0.95), rng.range(0.15, 0.7));
                s.dip = rng.range(0.6, 0.92);
            }
            Kind::ColdStore => s.duty = (rng.range(0.35, 0.55), rng.range(0.015, 0.035)),
            _ => {}
        }
        s
    }

    /// The opening hours and the level outside them: this site's, or the kind's template.
    fn hours(&self, open: u32, close: u32, standby: f64) -> (std::ops::Range<u32>, f64) {
        if self.standby.is_finite() {
            (self.open..self.close, self.standby)
        } else {
            (open..close, standby)
        }
    }
}

impl Default for RegionConfig {
    fn default() -> Self {
        RegionConfig {
            meters: 1000,
            days: 365,
            start_day: days_from_civil(2024, 1, 1),
            step: 3600,
            miner_share: 0.02,
            seed: 1,
            area_size: 100,
            mix: Mix::Classic,
        }
    }
}

/// Counties the region spans (GB/T 2260 codes of mining-affected places: Baotou Donghe,
/// Ordos Dongsheng, Ya'an Yucheng, Chuxiong, Changji).
pub const REGIONS: [&str; 5] = ["150202", "150602", "511802", "532301", "652301"];
/// China Standard Time.
const OFFSET: i32 = 8 * 3600;
/// Latitude and longitude of each of [`REGIONS`] (the county seats), degrees.
const PLACES: [(f64, f64); 5] = [
    (40.6, 110.0),
    (39.8, 109.99),
    (29.98, 103.0),
    (25.04, 101.55),
    (44.01, 87.3),
];

/// Sunrise and sunset on local day `day` at `(lat, lon)`, hours of China Standard Time
/// ([`crate::sun::sun_hours`] at [`OFFSET`]).
pub fn sun_hours(day: i64, at: (f64, f64)) -> (f64, f64) {
    crate::sun::sun_hours(day, at, OFFSET)
}

/// Share of local hour `hour` that is dark enough for a dusk-to-dawn switch (a photocell
/// turns the lamps on ten minutes after sunset and off ten minutes before sunrise).
fn dark_share(hour: u32, (sunrise, sunset): (f64, f64)) -> f64 {
    let (a, b) = (f64::from(hour), f64::from(hour) + 1.0);
    let lit = |from: f64, to: f64| (to.min(b) - from.max(a)).max(0.0);
    (lit(0.0, sunrise - 1.0 / 6.0) + lit(sunset + 1.0 / 6.0, 24.0)).min(1.0)
}

/// A small deterministic generator (SplitMix64); tests and demos must be reproducible.
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed ^ 0x9e37_79b9_7f4a_7c15)
    }
    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
    /// Uniform in [a, b).
    pub fn range(&mut self, a: f64, b: f64) -> f64 {
        a + (b - a) * self.unit()
    }
    /// Standard normal (Box–Muller).
    pub fn normal(&mut self) -> f64 {
        let u = self.unit().max(1e-12);
        let v = self.unit();
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

struct Site {
    meter: String,
    kind: Kind,
    scale: f64,
    region: usize,
    area: usize,
    capacity_kva: f64,
    miner: Option<(MinerKind, f64, i64)>,
    /// A staircase miner's machines and the days between one and the next (realistic mix).
    machines: (u32, i64),
    /// Façade, sign and car-park lamps on a dusk-to-dawn switch, kW (realistic mix).
    lighting: Option<f64>,
    seed: u64,
}

/// Daily mean temperature of a region (°C): a seasonal wave plus weather noise.
fn temperature(region: usize, day: i64, noise: f64) -> f64 {
    let (_, m, d) = civil_from_days(day);
    let doy = f64::from((m - 1) * 30 + d);
    // Colder north (Inner Mongolia, Xinjiang), milder south-west (Sichuan, Yunnan).
    let (mean, amp) = [
        (8.0, 16.0),
        (7.0, 16.0),
        (16.0, 9.0),
        (16.0, 6.0),
        (7.0, 18.0),
    ][region % 5];
    mean + amp * (2.0 * std::f64::consts::PI * (doy - 105.0) / 365.0).sin() + noise
}

fn holiday(day: i64) -> bool {
    let (y, m, d) = civil_from_days(day);
    // Spring Festival 2024 (Feb 10-17) and 2025 (Jan 28-Feb 4); National Day week, Oct 1-7.
    (y == 2024 && m == 2 && (10..=17).contains(&d))
        || (y == 2025 && ((m == 1 && d >= 28) || (m == 2 && d <= 4)))
        || (m == 10 && d <= 7)
}

/// Mean power (kW) of the site's own (non-mining) load in the hour starting at `hour`.
fn base_kw(
    kind: Kind,
    (scale, shape): (f64, &Shape),
    day: i64,
    hour: u32,
    temp: f64,
    rng: &mut Rng,
) -> f64 {
    let wd = weekday(day);
    let weekend = wd >= 5 || holiday(day);
    let h = f64::from(hour);
    let noise = (0.15 * rng.normal()).exp();
    let v = match kind {
        Kind::Household | Kind::HouseholdSolar => {
            let mut p = 0.25;
            if (6..9).contains(&hour) {
                p += 0.6;
            }
            if (18..23).contains(&hour) {
                p += 1.1;
            }
            if weekend && (9..18).contains(&hour) {
                p += 0.4;
            }
            if temp < 5.0 {
                p += (5.0 - temp) * 0.04;
            }
            if temp > 26.0 && (12..24).contains(&hour) {
                p += (temp - 26.0) * 0.15;
            }
            if rng.unit() < 0.05 {
                p += 1.5; // a kettle, an oven
            }
            p * noise
        }
        Kind::Office => {
            let (hours, standby) = shape.hours(8, 19, 0.15);
            let open = !weekend && hours.contains(&hour);
            (if open { 1.0 } else { standby }
                + if open && temp > 24.0 {
                    (temp - 24.0) * 0.05
                } else {
                    0.0
                })
                * noise
        }
        Kind::Shop => {
            let (hours, standby) = shape.hours(9, 21, 0.2);
            let open = hours.contains(&hour) && !(wd == 6 && hour < 12);
            (if open { 1.0 } else { standby }) * noise
        }
        Kind::Continuous => {
            let base = shape.base;
            (base + (1.0 - base) * (-((h - shape.peak) / shape.width).powi(2)).exp()) * noise
        }
        Kind::ColdStore => {
            let (at10, slope) = shape.duty;
            let duty = (at10 + slope * (temp - 10.0)).clamp(0.25, 0.95);
            let defrost = if hour % 8 == 3 { 0.3 } else { 0.0 };
            (duty + defrost) * (0.06 * rng.normal()).exp()
        }
        Kind::ServerRoom => (1.0 + 0.01 * (temp - 15.0).max(0.0)) * (0.02 * rng.normal()).exp(),
        Kind::FactoryOneShift => {
            let (hours, standby) = shape.hours(8, 17, 0.1);
            let on = !weekend && hours.contains(&hour);
            (if on { 1.0 } else { standby }) * noise
        }
        Kind::FactoryThreeShift => {
            let dip = if hour == 6 || hour == 14 || hour == 22 {
                shape.dip
            } else {
                1.0
            };
            let level = if holiday(day) {
                0.1
            } else if wd == 6 {
                shape.weekend.1
            } else if wd == 5 {
                shape.weekend.0
            } else {
                1.0
            };
            level * dip * (0.08 * rng.normal()).exp()
        }
        Kind::Farm => {
            let (_, m, _) = civil_from_days(day);
            let season = (4..=9).contains(&m);
            // Pumps run on some days, mostly by day.
            let pumping = season
                && (day.wrapping_mul(2_654_435_761) >> 7) % 3 != 0
                && (6..20).contains(&hour);
            (if pumping { 1.0 } else { 0.03 }) * noise
        }
        Kind::CleanHeating => {
            let need = (15.0 - temp).max(0.0) / 20.0;
            // Storage heaters charge at night on the off-peak tariff.
            (if !(6..22).contains(&hour) {
                need * 1.0
            } else {
                need * 0.15
            } + 0.05)
                * noise
        }
        Kind::DataCentre => (1.0 + 0.012 * (temp - 15.0).max(0.0)) * (0.01 * rng.normal()).exp(),
        Kind::EvCharging => {
            let busy = if (7..23).contains(&hour) { 0.35 } else { 0.08 };
            let mut p = 0.02;
            for _ in 0..4 {
                if rng.unit() < busy {
                    p += rng.range(0.2, 1.0);
                }
            }
            p
        }
        // Intensive (shrimp) ponds run every aerator all day and night through the season;
        // the scale's fraction picks them (a third of the sites).
        Kind::Aerator => aerator(day, hour, temp, scale.fract() < 0.33, rng),
        Kind::Greenhouse => greenhouse(day, hour, rng),
        Kind::ElectricBoiler => {
            // The northern heating season runs 15 November to 15 March; inside it the boiler
            // follows the heating degrees (18 °C base, sized for -15 °C), its thermostat
            // cycling around the need.
            let (_, m, d) = civil_from_days(day);
            let season = m == 12 || m <= 2 || (m == 11 && d >= 15) || (m == 3 && d <= 15);
            if season {
                // Sized for -5 °C: colder than that it runs flat out.
                let need = ((18.0 - temp) / 23.0).clamp(0.08, 1.0);
                need * (0.08 * rng.normal()).exp()
            } else {
                0.02 * noise
            }
        }
        Kind::OfficeServerRoom => {
            // IT load flat within a percent, a little more while the office works; cooling a
            // third of it on a mild day, more with the heat, cycling.
            let office = !weekend && (8..19).contains(&hour);
            let it = (if office { 1.08 } else { 1.0 }) * (0.01 * rng.normal()).exp();
            let cooling = (0.3 + 0.02 * (temp - 15.0).max(0.0)) * (0.15 * rng.normal()).exp();
            (it + cooling) / 1.3
        }
        Kind::BaseStation => {
            // A static part and a part linear in traffic (Lorincz et al. 2012); traffic is low
            // before dawn and high in the evening; cooling adds in the heat.
            let traffic = if (1..7).contains(&hour) {
                0.2
            } else {
                0.6 + 0.4 * (-((h - 20.0) / 5.0).powi(2)).exp()
            };
            let cooling = 0.01 * (temp - 25.0).max(0.0);
            (0.7 + 0.3 * traffic + cooling) * (0.02 * rng.normal()).exp()
        }
    };
    v * scale
}

/// Pond aerators: several units, all on at night in the culture season (April to October, when
/// dissolved oxygen falls before dawn), more of them by day the warmer the water and on dull
/// days (less photosynthesis); idle in winter.
fn aerator(day: i64, hour: u32, temp: f64, intensive: bool, rng: &mut Rng) -> f64 {
    let (_, m, _) = civil_from_days(day);
    if !(4..=10).contains(&m) {
        return 0.03 * (0.1 * rng.normal()).exp();
    }
    const UNITS: f64 = 6.0;
    let night = intensive || !(7..21).contains(&hour);
    // A dull day: the same for every hour of it (hashed from the day).
    let dull = (day.wrapping_mul(0x9E37_79B9) >> 5) % 7 == 0;
    let share = if night || dull {
        1.0
    } else if temp > 26.0 {
        0.8
    } else if temp > 20.0 {
        0.5
    } else {
        0.17
    };
    // Whole units switch, each drawing with its paddles' immersion.
    let on = (share * UNITS).round().max(1.0);
    on / UNITS * (0.04 * rng.normal()).exp()
}

/// Greenhouse assimilation lighting: lamps top the day up to 16 hours of light, before sunrise
/// and after sunset, so their hours move with the season (none in high summer), with a dark
/// period of at least 8 hours; constant while on. Fans and controls the rest.
fn greenhouse(day: i64, hour: u32, rng: &mut Rng) -> f64 {
    let (_, m, d) = civil_from_days(day);
    let doy = f64::from((m - 1) * 30 + d);
    // Day length at about 35° N: 9.8 h at the winter solstice to 14.5 h at the summer one.
    let daylight = 12.15 + 2.35 * (2.0 * std::f64::consts::PI * (doy - 80.0) / 365.0).sin();
    let extra = (16.0 - daylight).max(0.0);
    let sunrise = 12.0 - daylight / 2.0;
    let sunset = 12.0 + daylight / 2.0;
    let h = f64::from(hour) + 0.5;
    let before = h >= sunrise - extra / 2.0 && h < sunrise;
    let after = h >= sunset && h < sunset + extra / 2.0;
    // Under two hours to add is not worth lighting: the summer sun brings enough.
    let lit = extra >= 2.0 && (before || after);
    let lamps = if lit {
        1.0 * (0.01 * rng.normal()).exp()
    } else {
        0.0
    };
    lamps + 0.04 * (0.2 * rng.normal()).exp()
}

fn solar_kw(day: i64, hour: u32, peak: f64, rng: &mut Rng) -> f64 {
    let (_, m, _) = civil_from_days(day);
    let season = 0.6 + 0.4 * (std::f64::consts::PI * (f64::from(m) - 0.5) / 12.0).sin();
    let h = f64::from(hour) + 0.5;
    let sun = (-((h - 12.5) / 3.0).powi(2)).exp();
    let clouds = rng.range(0.3, 1.0);
    peak * season * sun * clouds
}

/// Below this daily mean temperature a heater miner runs, °C.
const HEATER_BELOW_C: f64 = 5.0;

/// Whether an off-days miner is off on `day` (about one day in five, fixed per rig).
fn off_day(kw: f64, day: i64) -> bool {
    ((day.wrapping_mul(0x2545_F491) ^ kw.to_bits() as i64) >> 3).rem_euclid(5) == 0
}

fn miner_kw(
    kind: MinerKind,
    (kw, onset, (machines, every)): (f64, i64, (u32, i64)),
    (day, hour, day_temp): (i64, u32, f64),
    rng: &mut Rng,
) -> f64 {
    let (_, m, _) = civil_from_days(day);
    // ASIC PSUs hold their draw within about a percent; GPUs under a mining load within two.
    let jitter = if kind == MinerKind::GpuHome {
        1.0 + 0.02 * rng.normal()
    } else {
        1.0 + 0.01 * rng.normal()
    };
    let on = match kind {
        MinerKind::RoundTheClock
        | MinerKind::Stolen
        | MinerKind::Throttled
        | MinerKind::GpuHome
        | MinerKind::ShopRig => true,
        MinerKind::MiningHeater => day_temp < HEATER_BELOW_C,
        MinerKind::OffDays => !off_day(kw, day),
        MinerKind::Onset | MinerKind::Staircase => day >= onset,
        MinerKind::NightOnly => !(6..22).contains(&hour),
        MinerKind::HydroSeason => (5..=10).contains(&m),
    };
    if !on {
        return 0.0;
    }
    // The machines running by this day: one more every `every` days from the onset.
    let share = if kind == MinerKind::Staircase {
        let running = ((day - onset) / every.max(1) + 1).min(i64::from(machines));
        running as f64 / f64::from(machines.max(1))
    } else {
        1.0
    };
    // Occasional outages: a rig restarts, the pool is down.
    if rng.unit() < 0.003 {
        return 0.0;
    }
    let throttle = if kind == MinerKind::Throttled {
        if (8..20).contains(&hour) { 1.0 } else { 0.65 }
    } else {
        1.0
    };
    kw * share * throttle * jitter
}

/// Paths and counts of a generated region.
#[derive(Clone, Debug, Default)]
pub struct Generated {
    /// Meters written.
    pub meters: usize,
    /// Meters with a hidden miner.
    pub miners: usize,
    /// Rows of readings written.
    pub rows: u64,
}

/// The local day number of a `YYYY-MM-DD` start date (the day a region's readings begin).
pub fn start_day(text: &str) -> Option<i64> {
    crate::time::parse(text, 0).map(|s| s.local().div_euclid(86_400))
}

/// Seconds of a reading interval as written on a command line: `15m`, `30m`, `1h` (`60m`).
pub fn interval_s(text: &str) -> Option<i64> {
    match text {
        "15m" => Some(900),
        "30m" => Some(1800),
        "1h" | "60m" => Some(3600),
        _ => None,
    }
}

fn pick_kind(rng: &mut Rng, mix: Mix) -> Kind {
    let r = rng.unit();
    if mix.realistic() {
        // The classic county with 7.6 % legitimate flat or night loads taken from households
        // and shops (the share of the region the issue measured on: 100 of 1,312 meters).
        let table = [
            (0.56, Kind::Household),
            (0.06, Kind::HouseholdSolar),
            (0.05, Kind::Office),
            (0.06, Kind::Shop),
            (0.03, Kind::Continuous),
            (0.015, Kind::ColdStore),
            (0.01, Kind::ServerRoom),
            (0.03, Kind::FactoryOneShift),
            (0.015, Kind::FactoryThreeShift),
            (0.04, Kind::Farm),
            (0.03, Kind::CleanHeating),
            (0.005, Kind::DataCentre),
            (0.01, Kind::EvCharging),
            (0.019, Kind::Aerator),
            (0.011, Kind::Greenhouse),
            (0.019, Kind::ElectricBoiler),
            (0.012, Kind::OfficeServerRoom),
            (0.015, Kind::BaseStation),
        ];
        return pick(r, &table);
    }
    // Shares of a mixed county: mostly households.
    let table = [
        (0.62, Kind::Household),
        (0.06, Kind::HouseholdSolar),
        (0.05, Kind::Office),
        (0.07, Kind::Shop),
        (0.03, Kind::Continuous),
        (0.015, Kind::ColdStore),
        (0.01, Kind::ServerRoom),
        (0.03, Kind::FactoryOneShift),
        (0.015, Kind::FactoryThreeShift),
        (0.05, Kind::Farm),
        (0.03, Kind::CleanHeating),
        (0.005, Kind::DataCentre),
        (0.01, Kind::EvCharging),
    ];
    pick(r, &table)
}

/// The kind whose cumulative share first passes `r`.
fn pick(r: f64, table: &[(f64, Kind)]) -> Kind {
    let mut acc = 0.0;
    for &(p, k) in table {
        acc += p;
        if r < acc {
            return k;
        }
    }
    Kind::Household
}

fn scale_for(kind: Kind, rng: &mut Rng) -> (f64, f64) {
    // (scale of the shape, contracted kVA)
    match kind {
        Kind::Household | Kind::HouseholdSolar => (rng.range(0.6, 1.6), 8.0),
        Kind::Office | Kind::Shop => (rng.range(3.0, 25.0), 50.0),
        Kind::Continuous => (rng.range(5.0, 30.0), 63.0),
        Kind::ColdStore => (rng.range(10.0, 60.0), 100.0),
        Kind::ServerRoom => (rng.range(2.0, 8.0), 20.0),
        Kind::FactoryOneShift => (rng.range(20.0, 200.0), 315.0),
        Kind::FactoryThreeShift => (rng.range(50.0, 400.0), 630.0),
        Kind::Farm => (rng.range(5.0, 30.0), 50.0),
        Kind::CleanHeating => (rng.range(4.0, 12.0), 16.0),
        Kind::DataCentre => (rng.range(100.0, 800.0), 1250.0),
        Kind::EvCharging => (rng.range(30.0, 120.0), 250.0),
        Kind::Aerator => (rng.range(3.0, 30.0), 50.0),
        Kind::Greenhouse => (rng.range(8.0, 30.0), 50.0),
        Kind::ElectricBoiler => (rng.range(10.0, 40.0), 63.0),
        Kind::OfficeServerRoom => (rng.range(3.0, 12.0), 20.0),
        Kind::BaseStation => (rng.range(2.0, 6.0), 10.0),
    }
}

/// Writes a region: `readings.csv`, `customers.csv`, `feeders.csv`, `weather.csv`, `truth.csv`.
pub fn generate(cfg: &RegionConfig, dir: &std::path::Path) -> std::io::Result<Generated> {
    std::fs::create_dir_all(dir)?;
    let mut rng = Rng::new(cfg.seed);
    let n_areas = cfg.meters.div_ceil(cfg.area_size.max(1)).max(1);
    let mut sites = Vec::with_capacity(cfg.meters);
    for i in 0..cfg.meters {
        let kind = pick_kind(&mut rng, cfg.mix);
        let (scale, kva) = scale_for(kind, &mut rng);
        let area = i % n_areas;
        let miner = if rng.unit() < cfg.miner_share && kind != Kind::DataCentre {
            let mut mk = match rng.next_u64() % 12 {
                0..=3 => MinerKind::RoundTheClock,
                4..=5 => MinerKind::Onset,
                6 => MinerKind::NightOnly,
                7..=8 => MinerKind::HydroSeason,
                9 => MinerKind::Throttled,
                _ => MinerKind::Stolen,
            };
            // 1 to 12 machines of 1.4 (S9) to 3.25 kW (S19 Pro), or a GPU rig of ~1.2 kW.
            let unit = [1.2, 1.4, 3.25][(rng.next_u64() % 3) as usize];
            let mut kw = unit * (1 + rng.next_u64() % 12) as f64;
            let onset = cfg.start_day + (cfg.days as f64 * rng.range(0.15, 0.8)) as i64;
            if cfg.mix.realistic() {
                // The subtle ones: a card or two at home, a rig behind a shop's counter.
                let subtle = rng.unit();
                if kind == Kind::Household && subtle < 0.22 {
                    mk = MinerKind::GpuHome;
                    kw = rng.range(0.6, 2.5);
                } else if kind == Kind::Shop && subtle < 0.8 {
                    mk = MinerKind::ShopRig;
                    kw = rng.range(1.2, 5.0);
                } else if kind == Kind::Household && subtle < 0.32 {
                    // One to three machines as the home's winter heating.
                    mk = MinerKind::MiningHeater;
                    kw = kw.min(3.0 * unit);
                } else if subtle >= 0.9 && mk != MinerKind::Stolen {
                    mk = MinerKind::OffDays;
                }
            }
            Some((mk, kw, onset))
        } else {
            None
        };
        let kva = match miner {
            Some((_, kw, _)) if kw > kva * 0.8 => (kw * 1.5 / 10.0).ceil() * 10.0,
            _ => kva,
        };
        sites.push(Site {
            meter: format!("M{:06}", i + 1),
            kind,
            scale,
            region: area % REGIONS.len(),
            area,
            capacity_kva: kva,
            miner,
            machines: (1, 0),
            lighting: None,
            seed: rng.next_u64(),
        });
    }
    if cfg.mix.realistic() {
        // A night load that is not a machine: a fifth of the shops and offices light their
        // façade, sign and car park from dusk to dawn (LED drivers, as steady as a rig's power
        // supply, 1-6 kW). Drawn from a stream of its own, so every other site is unchanged.
        let mut lrng = Rng::new(cfg.seed ^ 0x11_9417);
        for s in &mut sites {
            let lit = lrng.unit() < 0.2;
            let kw = lrng.range(1.0, 6.0);
            if lit && matches!(s.kind, Kind::Office | Kind::Shop) && s.miner.is_none() {
                s.lighting = Some(kw);
            }
        }
        // Half the miners switched on mid-period bring their machines one at a time, a week to
        // three apart, as they arrive: two to five machines of at least a GPU rig's 1.2 kW.
        // From a stream of its own, so every other draw is the realistic mix's as before.
        let mut srng = Rng::new(cfg.seed ^ 0x57a1_2ca5);
        for s in &mut sites {
            let (half, n, every) = (
                srng.unit() < 0.5,
                2 + srng.next_u64() % 4,
                7 + (srng.next_u64() % 15) as i64,
            );
            if let Some((mk, kw, _)) = &mut s.miner {
                let n = n.min((*kw / 1.2) as u64) as u32;
                if *mk == MinerKind::Onset && half && n >= 2 {
                    *mk = MinerKind::Staircase;
                    s.machines = (n, every);
                }
            }
        }
    }
    let per_day = (86_400 / cfg.step) as usize;
    let steps = cfg.days * per_day;
    // Timestamps are the same for every meter: format them once.
    let stamps: Vec<String> = (0..steps)
        .map(|i| {
            format_local(
                (cfg.start_day * 86_400 - i64::from(OFFSET)) + i as i64 * cfg.step,
                OFFSET,
            )
        })
        .collect();
    let mut temps = vec![vec![0.0f64; cfg.days]; REGIONS.len()];
    let mut wrng = Rng::new(cfg.seed ^ 0x7e57);
    for (r, t) in temps.iter_mut().enumerate() {
        let mut ar = 0.0;
        for (d, slot) in t.iter_mut().enumerate() {
            ar = 0.7 * ar + 2.0 * wrng.normal();
            *slot = temperature(r, cfg.start_day + d as i64, ar);
        }
    }
    let mut feeders = vec![vec![0.0f64; steps]; n_areas];
    let mut readings = std::io::BufWriter::with_capacity(
        1 << 20,
        std::fs::File::create(dir.join("readings.csv"))?,
    );
    writeln!(readings, "meter_id,timestamp,kwh")?;
    let hours_per_step = cfg.step as f64 / 3600.0;
    let mut out = Generated::default();
    for s in &sites {
        let mut r = Rng::new(s.seed);
        // From a stream of its own, so the other draws are those of the realistic mix.
        let shape = if cfg.mix == Mix::Varied {
            Shape::draw(s.kind, &mut Rng::new(s.seed ^ 0x5a9e_d0c5_11e5_7a11))
        } else {
            Shape::TEMPLATE
        };
        let solar_peak = if s.kind == Kind::HouseholdSolar {
            r.range(2.0, 5.0)
        } else {
            0.0
        };
        for i in 0..steps {
            let d = i / per_day;
            let day = cfg.start_day + d as i64;
            let hour = ((i % per_day) as i64 * cfg.step / 3600) as u32;
            let temp = temps[s.region][d]
                + 5.0 * (std::f64::consts::PI * (f64::from(hour) - 9.0) / 12.0).sin();
            let mut kw = base_kw(s.kind, (s.scale, &shape), day, hour, temp, &mut r);
            if solar_peak > 0.0 {
                kw -= solar_kw(day, hour, solar_peak, &mut r);
            }
            if let Some(lamps) = s.lighting {
                let dark = dark_share(hour, sun_hours(day, PLACES[s.region]));
                kw += lamps * dark * (1.0 + 0.01 * r.normal());
            }
            let mut feeder_kw = kw;
            if let Some((mk, mkw, onset)) = s.miner {
                let m = miner_kw(
                    mk,
                    (mkw, onset, s.machines),
                    (day, hour, temps[s.region][d]),
                    &mut r,
                );
                feeder_kw += m;
                if mk != MinerKind::Stolen {
                    kw += m;
                }
            }
            feeders[s.area][i] += feeder_kw * hours_per_step;
            let kwh = kw * hours_per_step;
            writeln!(readings, "{},{},{:.3}", s.meter, stamps[i], kwh)?;
            out.rows += 1;
        }
        out.meters += 1;
        if s.miner.is_some() {
            out.miners += 1;
        }
    }
    readings.flush()?;
    let mut c = csv::Writer::from_path(dir.join("customers.csv"))?;
    c.write_record([
        "meter_id",
        "customer_id",
        "tariff_class",
        "capacity_kva",
        "area_id",
        "region_code",
        "address",
        "lat",
        "lon",
        "solar",
    ])?;
    for (i, s) in sites.iter().enumerate() {
        let (lat, lon) = PLACES[s.region];
        c.write_record([
            s.meter.clone(),
            format!("C{:06}", i + 1),
            s.kind.class().to_string(),
            format!("{}", s.capacity_kva),
            format!("A{:04}", s.area + 1),
            REGIONS[s.region].to_string(),
            format!("No. {} Synthetic Road, area A{:04}", i + 1, s.area + 1),
            format!("{:.4}", lat + (i % 97) as f64 * 0.001),
            format!("{:.4}", lon + (i % 89) as f64 * 0.001),
            (s.kind == Kind::HouseholdSolar).to_string(),
        ])?;
    }
    c.flush()?;
    let mut f = std::io::BufWriter::new(std::fs::File::create(dir.join("feeders.csv"))?);
    writeln!(f, "area_id,timestamp,kwh")?;
    let mut lrng = Rng::new(cfg.seed ^ 0x1055);
    for (a, series) in feeders.iter().enumerate() {
        // Technical losses of a low-voltage area: 2-5 % (typical 台区线损 targets).
        let loss = lrng.range(0.02, 0.05);
        for (i, kwh) in series.iter().enumerate() {
            let v = kwh * (1.0 + loss) * (1.0 + 0.005 * lrng.normal());
            writeln!(f, "A{:04},{},{:.3}", a + 1, stamps[i], v)?;
        }
    }
    f.flush()?;
    let mut w = csv::Writer::from_path(dir.join("weather.csv"))?;
    w.write_record(["region_code", "date", "temp_c"])?;
    for (r, t) in temps.iter().enumerate() {
        for (d, v) in t.iter().enumerate() {
            w.write_record([
                REGIONS[r].to_string(),
                crate::time::format_day(cfg.start_day + d as i64),
                format!("{v:.1}"),
            ])?;
        }
    }
    w.flush()?;
    let mut t = csv::Writer::from_path(dir.join("truth.csv"))?;
    t.write_record([
        "meter_id",
        "site_kind",
        "mining",
        "miner_kind",
        "mining_kw",
        "onset",
        "theft",
        "area_id",
        "active_days",
    ])?;
    for s in &sites {
        // Days within the generated period on which the miner ran (hydro-season miners outside
        // May-October and late onsets are invisible in a short period).
        let active = match s.miner {
            Some((mk, _, onset)) => (0..cfg.days)
                .filter(|d| {
                    let day = cfg.start_day + *d as i64;
                    let (_, m, _) = civil_from_days(day);
                    match mk {
                        _ if mk.starts_at_onset() => day >= onset,
                        MinerKind::HydroSeason => (5..=10).contains(&m),
                        MinerKind::MiningHeater => temps[s.region][*d] < HEATER_BELOW_C,
                        MinerKind::OffDays => !off_day(s.miner.map_or(0.0, |m| m.1), day),
                        _ => true,
                    }
                })
                .count(),
            None => 0,
        };
        let (mining, mk, kw, onset) = match s.miner {
            Some((mk, kw, onset)) => {
                let on = match mk {
                    _ if mk.starts_at_onset() => crate::time::format_day(onset),
                    MinerKind::HydroSeason => "season".into(),
                    _ => String::new(),
                };
                ("true", mk.name(), format!("{kw:.2}"), on)
            }
            None => ("false", "", String::new(), String::new()),
        };
        let theft = matches!(s.miner, Some((MinerKind::Stolen, _, _)));
        t.write_record([
            s.meter.as_str(),
            if s.lighting.is_some() {
                "night_lighting"
            } else {
                s.kind.name()
            },
            mining,
            mk,
            &kw,
            &onset,
            if theft { "true" } else { "false" },
            &format!("A{:04}", s.area + 1),
            &active.to_string(),
        ])?;
    }
    t.flush()?;
    if cfg.mix.realistic() {
        // The registers a grid company has of legitimate flat loads, incomplete as real ones
        // are: most base stations (operators register their sites), half the aquaculture and
        // greenhouse permits, a third of the data rooms, every data centre.
        let mut reg = csv::Writer::from_path(dir.join("registers.csv"))?;
        reg.write_record(["meter_id", "category"])?;
        let mut rrng = Rng::new(cfg.seed ^ 0x4e6);
        for s in &sites {
            let (share, category) = match s.kind {
                Kind::BaseStation => (0.8, "base_station"),
                Kind::Aerator => (0.5, "aquaculture_permit"),
                Kind::Greenhouse => (0.5, "greenhouse_permit"),
                Kind::OfficeServerRoom => (0.33, "data_room"),
                Kind::DataCentre => (1.0, "data_centre"),
                _ => continue,
            };
            if rrng.unit() < share && s.miner.is_none() {
                reg.write_record([s.meter.as_str(), category])?;
            }
        }
        reg.flush()?;
    }
    // Past site visits: a random sixth of the meters, with what the inspectors found (a miner
    // wired ahead of the meter is found too: the inspector sees the rigs).
    let mut ins = csv::Writer::from_path(dir.join("inspections.csv"))?;
    ins.write_record(["meter_id", "date", "mining"])?;
    let mut irng = Rng::new(cfg.seed ^ 0x1a5);
    let last = crate::time::format_day(cfg.start_day + cfg.days as i64 - 1);
    for s in &sites {
        if irng.unit() < 1.0 / 6.0 {
            let found = s.miner.is_some_and(|(mk, _, onset)| {
                !mk.starts_at_onset() || onset < cfg.start_day + cfg.days as i64
            });
            ins.write_record([s.meter.as_str(), &last, if found { "yes" } else { "no" }])?;
        }
    }
    ins.flush()?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_staircase_switches_its_machines_on_one_at_a_time() {
        // Three machines of 1.4 kW, ten days apart from day 100: the day's mean draw.
        let mut rng = Rng::new(3);
        let mut day_kw = |day: i64| {
            (0..24)
                .map(|h| {
                    miner_kw(
                        MinerKind::Staircase,
                        (4.2, 100, (3, 10)),
                        (day, h, 10.0),
                        &mut rng,
                    )
                })
                .sum::<f64>()
                / 24.0
        };
        let close = |got: f64, want: f64| (got - want).abs() < 0.1;
        assert_eq!(day_kw(99), 0.0);
        assert!(close(day_kw(100), 1.4) && close(day_kw(109), 1.4));
        assert!(close(day_kw(110), 2.8) && close(day_kw(119), 2.8));
        assert!(close(day_kw(120), 4.2) && close(day_kw(300), 4.2));
    }

    #[test]
    fn the_realistic_mix_has_staircases_beside_single_onsets() {
        // Half the realistic mix's mid-period miners with two machines or more become
        // staircases; the rest switch on at once.
        let dir = tempfile::tempdir().unwrap();
        let cfg = RegionConfig {
            meters: 400,
            days: 60,
            seed: 5,
            miner_share: 0.2,
            mix: Mix::Realistic,
            ..RegionConfig::default()
        };
        generate(&cfg, dir.path()).unwrap();
        let truth = std::fs::read_to_string(dir.path().join("truth.csv")).unwrap();
        let kinds: Vec<&str> = truth
            .lines()
            .skip(1)
            .filter_map(|l| l.split(',').nth(3))
            .collect();
        let count = |k: &str| kinds.iter().filter(|x| **x == k).count();
        assert!(count("staircase") > 0 && count("onset") > 0, "{kinds:?}");
    }

    #[test]
    fn the_generators_sun_is_chinas_clock_and_lamps_follow_it() {
        // (The sun itself is tested in `sun`.)
        // One clock for all of China: Changji's winter sun rises after ten by it.
        let (rise, _) = sun_hours(days_from_civil(2024, 12, 21), PLACES[4]);
        assert!(rise > 9.5, "{rise}");
        // A dusk-to-dawn lamp: dark all of 02:00, none of noon, part of the sunset hour.
        let sun = (6.0, 18.5);
        assert_eq!(dark_share(2, sun), 1.0);
        assert_eq!(dark_share(12, sun), 0.0);
        assert!((dark_share(18, sun) - (0.5 - 1.0 / 6.0)).abs() < 1e-9);
    }

    /// Mean kW of a kind over the given days and hours.
    fn mean_kw(kind: Kind, days: std::ops::Range<i64>, hours: &[u32], temp: f64) -> f64 {
        let mut r = Rng::new(7);
        let mut sum = 0.0;
        let mut n = 0.0;
        for day in days {
            for &h in hours {
                sum += base_kw(kind, (10.0, &Shape::TEMPLATE), day, h, temp, &mut r);
                n += 1.0;
            }
        }
        sum / n
    }

    /// The hard negatives behave as their sources say: aerators idle in winter and run at
    /// night in season; greenhouse lamps light winter evenings and mornings but not summer
    /// ones; boilers only in the heating season, more in the cold; base stations lower before
    /// dawn; server rooms flat within a few percent.
    #[test]
    fn the_realistic_loads_follow_their_seasons_hours_and_weather() {
        let jan = days_from_civil(2024, 1, 8)..days_from_civil(2024, 1, 22);
        let jul = days_from_civil(2024, 7, 8)..days_from_civil(2024, 7, 22);
        let night = [1, 2, 3, 4];
        let evening = [17, 18, 19];
        let midday = [11, 12, 13];
        assert!(mean_kw(Kind::Aerator, jan.clone(), &night, 0.0) < 0.5);
        assert!(mean_kw(Kind::Aerator, jul.clone(), &night, 28.0) > 9.0);
        assert!(mean_kw(Kind::Greenhouse, jan.clone(), &evening, 0.0) > 5.0);
        assert!(mean_kw(Kind::Greenhouse, jul.clone(), &evening, 28.0) < 1.0);
        assert!(mean_kw(Kind::Greenhouse, jan.clone(), &midday, 0.0) < 1.0);
        let cold = mean_kw(Kind::ElectricBoiler, jan.clone(), &midday, -10.0);
        let mild = mean_kw(Kind::ElectricBoiler, jan.clone(), &midday, 8.0);
        assert!(cold > 9.0 && mild < 0.6 * cold, "{cold} {mild}");
        assert!(mean_kw(Kind::ElectricBoiler, jul.clone(), &midday, 28.0) < 0.5);
        let dawn = mean_kw(Kind::BaseStation, jul.clone(), &[3, 4], 20.0);
        let eve = mean_kw(Kind::BaseStation, jul.clone(), &[20, 21], 20.0);
        assert!(dawn < 0.9 * eve, "{dawn} {eve}");
        let hours: Vec<u32> = (0..24).collect();
        let room = mean_kw(Kind::OfficeServerRoom, jul, &hours, 22.0);
        assert!((9.0..12.0).contains(&room), "{room}");
    }

    /// The realistic mix holds the hard negatives and the subtle miners, each named in the
    /// truth; the classic mix does not (and stays what it was).
    #[test]
    fn the_realistic_mix_writes_hard_negatives_and_subtle_miners() {
        let d = tempfile::tempdir().unwrap();
        let cfg = RegionConfig {
            meters: 600,
            days: 3,
            miner_share: 0.2,
            mix: Mix::Realistic,
            ..RegionConfig::default()
        };
        generate(&cfg, d.path()).unwrap();
        let truth = std::fs::read_to_string(d.path().join("truth.csv")).unwrap();
        for kind in [
            "aerator",
            "greenhouse_lighting",
            "electric_boiler",
            "office_server_room",
            "base_station",
            "gpu_home",
            "shop_rig",
        ] {
            assert!(truth.contains(kind), "no {kind} in the realistic mix");
        }
        let registers = std::fs::read_to_string(d.path().join("registers.csv")).unwrap();
        assert!(registers.starts_with("meter_id,category\n"));
        assert!(registers.contains("base_station") && registers.contains("aquaculture_permit"));
        let classic = RegionConfig {
            mix: Mix::Classic,
            ..cfg
        };
        generate(&classic, d.path()).unwrap();
        let truth = std::fs::read_to_string(d.path().join("truth.csv")).unwrap();
        assert!(!truth.contains("aerator") && !truth.contains("gpu_home"));
    }

    /// Shops of the realistic mix share one curve; in the varied mix each keeps hours and a
    /// night level of its own, and every other draw (sites, miners, truth) stays the
    /// realistic mix's.
    #[test]
    fn the_varied_mix_gives_each_business_its_own_hours() {
        // Each shop's mean 03:00 reading over its mean 15:00 one, legitimate shops only.
        let ratios = |mix: Mix| {
            let d = tempfile::tempdir().unwrap();
            let cfg = RegionConfig {
                meters: 400,
                days: 14,
                mix,
                ..RegionConfig::default()
            };
            generate(&cfg, d.path()).unwrap();
            let truth = std::fs::read_to_string(d.path().join("truth.csv")).unwrap();
            let shops: std::collections::HashSet<String> = truth
                .lines()
                .filter(|l| l.contains(",shop,false,"))
                .map(|l| l.split(',').next().unwrap().to_string())
                .collect();
            let mut sums: std::collections::HashMap<String, (f64, f64)> = Default::default();
            let readings = std::fs::read_to_string(d.path().join("readings.csv")).unwrap();
            for l in readings.lines().skip(1) {
                let mut f = l.split(',');
                let (m, t, v) = (f.next().unwrap(), f.next().unwrap(), f.next().unwrap());
                if !shops.contains(m) {
                    continue;
                }
                let v: f64 = v.parse().unwrap();
                let e = sums.entry(m.to_string()).or_default();
                match &t[11..13] {
                    "03" => e.0 += v,
                    "15" => e.1 += v,
                    _ => {}
                }
            }
            let r: Vec<f64> = sums.values().map(|(n, d)| n / d).collect();
            (truth, r)
        };
        let (truth_r, realistic) = ratios(Mix::Realistic);
        let (truth_v, varied) = ratios(Mix::Varied);
        assert_eq!(truth_r, truth_v);
        let spread = |r: &[f64]| {
            r.iter().copied().fold(f64::MIN, f64::max) - r.iter().copied().fold(f64::MAX, f64::min)
        };
        assert!(realistic.len() >= 10, "{}", realistic.len());
        assert!(spread(&realistic) < 0.15, "{realistic:?}");
        assert!(spread(&varied) > 0.2, "{varied:?}");
    }

    #[test]
    fn a_small_region_is_written_with_its_truth() {
        let d = tempfile::tempdir().unwrap();
        let cfg = RegionConfig {
            meters: 60,
            days: 20,
            miner_share: 0.2,
            area_size: 20,
            ..RegionConfig::default()
        };
        let g = generate(&cfg, d.path()).unwrap();
        assert_eq!(g.meters, 60);
        assert_eq!(g.rows, 60 * 20 * 24);
        assert!(g.miners > 3);
        let truth = std::fs::read_to_string(d.path().join("truth.csv")).unwrap();
        assert_eq!(truth.lines().count(), 61);
        let feeders = std::fs::read_to_string(d.path().join("feeders.csv")).unwrap();
        assert_eq!(feeders.lines().count(), 1 + 3 * 20 * 24);
        // Same seed, same bytes.
        let d2 = tempfile::tempdir().unwrap();
        generate(&cfg, d2.path()).unwrap();
        assert_eq!(
            std::fs::read(d.path().join("readings.csv")).unwrap(),
            std::fs::read(d2.path().join("readings.csv")).unwrap()
        );
    }
}
