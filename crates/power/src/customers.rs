//! The customer register: who is behind each meter, on which tariff, in which transformer area
//! and region.

use serde::Serialize;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::read::{ReadError, ReadStats};

/// Tariff class of a customer; scoring is class-aware.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TariffClass {
    /// Households (居民).
    Residential,
    /// Shops, offices (商业, 一般工商业).
    Commercial,
    /// Factories (工业, 大工业).
    Industrial,
    /// Farms, irrigation (农业).
    Agricultural,
    /// Electric heating on a preferential tariff (清洁供暖, 煤改电).
    CleanHeating,
    /// Registered data centres and telecom rooms (数据中心).
    DataCentre,
    /// Public EV charging (充电桩).
    EvCharging,
    /// Anything else.
    Other,
}

impl TariffClass {
    /// Every class.
    pub const ALL: [TariffClass; 8] = [
        TariffClass::Residential,
        TariffClass::Commercial,
        TariffClass::Industrial,
        TariffClass::Agricultural,
        TariffClass::CleanHeating,
        TariffClass::DataCentre,
        TariffClass::EvCharging,
        TariffClass::Other,
    ];

    /// A class from its name in English or Chinese.
    pub fn parse(s: &str) -> TariffClass {
        let l = s.trim().to_ascii_lowercase();
        match l.as_str() {
            "residential" | "household" | "居民" | "居民生活" => TariffClass::Residential,
            "commercial" | "business" | "商业" | "一般工商业" => TariffClass::Commercial,
            "industrial" | "industry" | "工业" | "大工业" => TariffClass::Industrial,
            "agricultural" | "agriculture" | "farm" | "农业" | "农业生产" => {
                TariffClass::Agricultural
            }
            "clean_heating" | "clean heating" | "heating" | "清洁供暖" | "煤改电" => {
                TariffClass::CleanHeating
            }
            "data_centre" | "data_center" | "datacenter" | "data centre" | "idc" | "数据中心" => {
                TariffClass::DataCentre
            }
            "ev_charging" | "ev" | "charging" | "充电桩" | "充换电" => {
                TariffClass::EvCharging
            }
            _ => TariffClass::Other,
        }
    }

    /// The class name used in output.
    pub fn name(self) -> &'static str {
        match self {
            TariffClass::Residential => "residential",
            TariffClass::Commercial => "commercial",
            TariffClass::Industrial => "industrial",
            TariffClass::Agricultural => "agricultural",
            TariffClass::CleanHeating => "clean_heating",
            TariffClass::DataCentre => "data_centre",
            TariffClass::EvCharging => "ev_charging",
            TariffClass::Other => "other",
        }
    }

    /// The class name in Chinese.
    pub fn name_zh(self) -> &'static str {
        match self {
            TariffClass::Residential => "居民",
            TariffClass::Commercial => "商业",
            TariffClass::Industrial => "工业",
            TariffClass::Agricultural => "农业",
            TariffClass::CleanHeating => "清洁供暖",
            TariffClass::DataCentre => "数据中心",
            TariffClass::EvCharging => "充电桩",
            TariffClass::Other => "其他",
        }
    }

    /// Preferential tariffs that mines abuse (NDRC notice 1283; Wuhai 2022 checks): flatness on
    /// these accounts weighs more.
    pub fn preferential(self) -> bool {
        matches!(
            self,
            TariffClass::Residential | TariffClass::Agricultural | TariffClass::CleanHeating
        )
    }

    /// Businesses (industrial and commercial tariffs): the classes whose own load keeps hours,
    /// which the score's tests of a machine inside a business ask of.
    pub fn business(self) -> bool {
        matches!(self, TariffClass::Industrial | TariffClass::Commercial)
    }
}

/// One row of the register.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Customer {
    /// Meter id (the key).
    pub meter_id: String,
    /// Customer id.
    pub customer_id: String,
    /// Tariff class.
    pub tariff_class: TariffClass,
    /// Contracted capacity, kVA.
    pub capacity_kva: Option<f64>,
    /// Transformer area (台区).
    pub area_id: Option<String>,
    /// Region code (GB/T 2260, 6 digits for a county).
    pub region_code: Option<String>,
    /// Address.
    pub address: Option<String>,
    /// Latitude.
    pub lat: Option<f64>,
    /// Longitude.
    pub lon: Option<f64>,
    /// Registered rooftop solar: negative (exported) energy is expected.
    pub solar: bool,
    /// On the allow-list (registered data centre, known legitimate flat load).
    pub allowed: bool,
    /// What the register that allow-listed it says it is (`base_station`, `data_room`,
    /// `aquaculture_permit`, `greenhouse_permit`…), when it says.
    pub allow_category: Option<String>,
}

/// The register, by meter id.
#[derive(Clone, Debug, Default)]
pub struct Register {
    /// Customers by meter.
    pub by_meter: HashMap<String, Customer>,
}

impl Register {
    /// The customer behind a meter.
    pub fn get(&self, meter: &str) -> Option<&Customer> {
        self.by_meter.get(meter)
    }

    /// Marks meters as allow-listed, each with the register's category when it gives one.
    pub fn allow(&mut self, meters: impl IntoIterator<Item = (String, Option<String>)>) {
        for (m, category) in meters {
            if let Some(c) = self.by_meter.get_mut(&m) {
                c.allowed = true;
                if category.is_some() {
                    c.allow_category = category;
                }
            }
        }
    }
}

/// Reads an allow-list of known legitimate loads: one meter per line, optionally with the
/// register's category after a comma (`M000123,base_station`); a `meter_id,category` header,
/// blank lines and `#` comments are skipped.
pub fn parse_allow_list(text: &str) -> Vec<(String, Option<String>)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter(|l| !l.to_ascii_lowercase().starts_with("meter_id"))
        .map(|l| match l.split_once(',') {
            Some((m, c)) => {
                let c = c.trim();
                (m.trim().to_string(), (!c.is_empty()).then(|| c.to_string()))
            }
            None => (l.to_string(), None),
        })
        .collect()
}

/// Reads a customer register CSV. Default columns: `meter_id,customer_id,tariff_class,
/// capacity_kva,area_id,region_code` and optional `address,lat,lon,solar,allow`.
pub fn read_customers(path: &Path) -> Result<(Register, ReadStats), ReadError> {
    let io = |source| ReadError::Io {
        path: PathBuf::from(path),
        source,
    };
    let file = std::fs::File::open(path).map_err(io)?;
    let mut r = csv::ReaderBuilder::new().flexible(true).from_reader(file);
    let headers: Vec<String> = r
        .headers()
        .map_err(|e| ReadError::Header {
            path: path.to_path_buf(),
            what: e.to_string(),
        })?
        .iter()
        .map(|h| h.trim().trim_start_matches('\u{feff}').to_ascii_lowercase())
        .collect();
    let col = |names: &[&str]| {
        names
            .iter()
            .find_map(|n| headers.iter().position(|h| h == n))
    };
    let Some(mc) = col(&["meter_id", "meter", "cons_no"]) else {
        return Err(ReadError::Header {
            path: path.to_path_buf(),
            what: format!("no meter_id column in {}", headers.join(",")),
        });
    };
    let cc = col(&["customer_id", "customer"]);
    let tc = col(&["tariff_class", "tariff", "class"]);
    let kc = col(&["capacity_kva", "capacity", "kva"]);
    let ac = col(&["area_id", "area", "transformer_area"]);
    let rc = col(&["region_code", "region", "county_code"]);
    let adc = col(&["address"]);
    let lac = col(&["lat", "latitude"]);
    let loc = col(&["lon", "lng", "longitude"]);
    let sc = col(&["solar", "pv"]);
    let alc = col(&["allow", "allowed", "allow_list"]);
    let mut reg = Register::default();
    let mut stats = ReadStats::default();
    for rec in r.records() {
        let rec = match rec {
            Ok(r) => r,
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                *stats.skipped.entry("unreadable row".into()).or_default() += 1;
                if stats.examples.len() < 20 {
                    stats
                        .examples
                        .push(format!("{}:{line}: {e}", path.display()));
                }
                continue;
            }
        };
        stats.rows += 1;
        let line = rec.position().map_or(0, |p| p.line());
        let get = |c: Option<usize>| {
            c.and_then(|i| rec.get(i))
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let Some(meter) = get(Some(mc)) else {
            *stats.skipped.entry("missing meter id".into()).or_default() += 1;
            if stats.examples.len() < 20 {
                stats.examples.push(format!(
                    "{}:{line}: column meter_id: missing meter id",
                    path.display()
                ));
            }
            continue;
        };
        let num = |c: Option<usize>, name: &str, stats: &mut ReadStats| -> Option<f64> {
            let t = get(c)?;
            match t.parse::<f64>() {
                Ok(v) if v.is_finite() => Some(v),
                _ => {
                    *stats
                        .skipped
                        .entry(format!("unreadable {name} (field left empty)"))
                        .or_default() += 1;
                    if stats.examples.len() < 20 {
                        stats.examples.push(format!(
                            "{}:{line}: column {name}: unreadable number {t:?}",
                            path.display()
                        ));
                    }
                    None
                }
            }
        };
        let truthy = |c: Option<usize>| {
            get(c).is_some_and(|v| {
                matches!(
                    v.to_ascii_lowercase().as_str(),
                    "1" | "true" | "yes" | "y" | "是"
                )
            })
        };
        let customer = Customer {
            meter_id: meter.to_string(),
            customer_id: get(cc).unwrap_or(meter).to_string(),
            tariff_class: get(tc)
                .map(TariffClass::parse)
                .unwrap_or(TariffClass::Other),
            capacity_kva: num(kc, "capacity_kva", &mut stats),
            area_id: get(ac).map(str::to_string),
            region_code: get(rc).map(str::to_string),
            address: get(adc).map(str::to_string),
            lat: num(lac, "lat", &mut stats),
            lon: num(loc, "lon", &mut stats),
            solar: truthy(sc),
            allowed: truthy(alc)
                || get(tc).map(TariffClass::parse) == Some(TariffClass::DataCentre),
            allow_category: (get(tc).map(TariffClass::parse) == Some(TariffClass::DataCentre))
                .then(|| "data_centre".to_string()),
        };
        reg.by_meter.insert(meter.to_string(), customer);
    }
    stats.meters = reg.by_meter.len() as u64;
    Ok((reg, stats))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_in_two_languages() {
        assert_eq!(TariffClass::parse("居民"), TariffClass::Residential);
        assert_eq!(
            TariffClass::parse("Agricultural"),
            TariffClass::Agricultural
        );
        assert_eq!(TariffClass::parse("煤改电"), TariffClass::CleanHeating);
        assert_eq!(TariffClass::parse("something"), TariffClass::Other);
    }

    #[test]
    fn register_with_bad_numbers_named() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("c.csv");
        std::fs::write(&p, "meter_id,customer_id,tariff_class,capacity_kva,area_id,region_code\nm1,c1,residential,8,A1,150202\nm2,c2,data_centre,abc,A1,150202\n,c3,residential,8,A1,150202\n").unwrap();
        let (reg, st) = read_customers(&p).unwrap();
        assert_eq!(reg.by_meter.len(), 2);
        assert!(reg.get("m2").unwrap().allowed);
        let list = parse_allow_list("meter_id,category\n# registered\nm1,base_station\n\nm9\n");
        assert_eq!(
            list,
            vec![
                ("m1".to_string(), Some("base_station".to_string())),
                ("m9".to_string(), None)
            ]
        );
        assert_eq!(reg.get("m2").unwrap().capacity_kva, None);
        assert_eq!(st.skipped_total(), 2);
        assert!(
            st.examples
                .iter()
                .any(|e| e.contains(":3: column capacity_kva")),
            "{:?}",
            st.examples
        );
    }
}
