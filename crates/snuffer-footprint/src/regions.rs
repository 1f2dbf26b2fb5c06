//! Embedded grid carbon intensity per country.
//!
//! # Data
//!
//! Yearly national averages for **2023**, in grams of CO2-equivalent per kWh of
//! electricity *generated*, from Our World in Data's "Carbon intensity of
//! electricity generation" series (Ember – Yearly Electricity Data, and Energy
//! Institute – Statistical Review of World Energy, with processing by OWID;
//! <https://ourworldindata.org/grapher/carbon-intensity-electricity>), rounded
//! to the gram. Ember's figures are lifecycle emissions (upstream methane,
//! supply chain, all gases over 100 years), so they can be combined with the
//! IPCC lifecycle medians of [`crate::EnergySource`].
//!
//! ## Provenance of each row
//!
//! Ember revises past years in every release, so the "2023" figure depends on
//! the release. The table follows one release: OWID's grapher export
//! `carbon-intensity-electricity.csv` (columns `Entity,Code,Year,Carbon
//! intensity of electricity - gCO2/kWh`) as published in mid-2024 (Ember 2024
//! data, 2023 its latest year), read from the public copy in GitHub repository
//! `BalthazazarDuc/MasterThesis`, path `data/carbon-intensity-electricity.csv`,
//! commit `8a85977ab43d1fcc1d76a9d998e9a742d8010f2b` (blob `1e39f993`). Every
//! row except the eight below equals that file's 2023 value rounded to the
//! gram (checked for all rows, November 2026). Its 2023 values also agree with
//! Ember's own API as snapshotted in `thegreenwebfoundation/co2.js`,
//! `data/output/average-intensities.json` at commit `7a20480a` (2024-07-03).
//!
//! That release had no 2023 value for seven countries; their rows are the
//! 2023 value of the next OWID release (Ember 2025 data), read from the copy
//! in `twsaf1-sys/math_331_cryptocurrency_project`, path
//! `carbon-intensity-electricity.csv`, commit
//! `7149bf49f9cf7031d71e6293ef4af0c3419cf98f`: AE 493, DZ 634, ID 682, IL 567,
//! IS 28, MY 608, SA 696. (For AE, ID, MY and SA the co2.js snapshot of
//! 2024-09-03 already gives the same 2023 figure.)
//!
//! **Ukraine (UA) is a 2022 figure**: no release read here has a 2023 value
//! for Ukraine, so its row is the 2022 value of the mid-2024 release
//! (259.7 g/kWh).
//!
//! Later releases revise some 2023 figures by more than a few percent (for
//! example US 369 → 393, DE 381 → 371, KE 70 → 97, PT 166 → 158); the 15 %
//! uncertainty below is meant to cover such revisions.
//!
//! The world default, 481 g/kWh, is Ember's global average for 2023 (Global
//! Electricity Review 2024).
//!
//! Every figure carries a relative standard uncertainty of
//! [`REGION_REL_UNCERTAINTY`] (15 %), which covers: the drift of a grid after
//! 2023 (several large grids lose 3–8 % a year); generation- versus
//! consumption-based accounting (imports are not counted); and the spread
//! between datasets. An hour-by-hour figure can differ from the yearly mean by
//! much more: give a time series (see [`crate::IntensitySeries`]) when you have one.

use crate::error::{FootprintError, Result};
use crate::quantity::GramsPerKwh;
use serde::Serialize;

/// Relative standard uncertainty attached to every national yearly average.
pub const REGION_REL_UNCERTAINTY: f64 = 0.15;

/// Year of the figures in the table.
pub const REGION_DATA_YEAR: u16 = 2023;

/// Short citation of the table's source, as written into summaries.
pub const REGION_DATA_SOURCE: &str =
    "Ember & Energy Institute via Our World in Data, carbon intensity of electricity generation, 2023";

/// World average (Ember, Global Electricity Review 2024, figure for 2023).
pub const WORLD_AVERAGE: GramsPerKwh = GramsPerKwh(481.0);

/// One country of the embedded table.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Region {
    /// ISO 3166-1 alpha-2 code (`FR`).
    pub code: &'static str,
    /// ISO 3166-1 alpha-3 code (`FRA`), as CodeCarbon's `country_iso_code` uses.
    pub alpha3: &'static str,
    /// English short name.
    pub name: &'static str,
    /// Yearly average carbon intensity of generation.
    #[serde(rename = "g_per_kwh")]
    pub intensity: GramsPerKwh,
}

macro_rules! regions {
    ($(($code:literal, $a3:literal, $name:literal, $g:literal)),* $(,)?) => {
        &[$(Region { code: $code, alpha3: $a3, name: $name, intensity: GramsPerKwh($g) }),*]
    };
}

/// The table, sorted by alpha-2 code. Covers the countries that host the main
/// cloud regions (AWS, Azure, Google Cloud, OCI) and most large grids.
pub static REGIONS: &[Region] = regions![
    ("AE", "ARE", "United Arab Emirates", 493.0),
    ("AR", "ARG", "Argentina", 354.0),
    ("AT", "AUT", "Austria", 111.0),
    ("AU", "AUS", "Australia", 549.0),
    ("BA", "BIH", "Bosnia and Herzegovina", 600.0),
    ("BD", "BGD", "Bangladesh", 691.0),
    ("BE", "BEL", "Belgium", 138.0),
    ("BG", "BGR", "Bulgaria", 335.0),
    ("BO", "BOL", "Bolivia", 532.0),
    ("BR", "BRA", "Brazil", 98.0),
    ("CA", "CAN", "Canada", 170.0),
    ("CH", "CHE", "Switzerland", 35.0),
    ("CL", "CHL", "Chile", 291.0),
    ("CN", "CHN", "China", 582.0),
    ("CO", "COL", "Colombia", 260.0),
    ("CR", "CRI", "Costa Rica", 53.0),
    ("CY", "CYP", "Cyprus", 534.0),
    ("CZ", "CZE", "Czechia", 450.0),
    ("DE", "DEU", "Germany", 381.0),
    ("DK", "DNK", "Denmark", 152.0),
    ("DZ", "DZA", "Algeria", 634.0),
    ("EC", "ECU", "Ecuador", 150.0),
    ("EE", "EST", "Estonia", 417.0),
    ("EG", "EGY", "Egypt", 570.0),
    ("ES", "ESP", "Spain", 174.0),
    ("FI", "FIN", "Finland", 79.0),
    ("FR", "FRA", "France", 56.0),
    ("GB", "GBR", "United Kingdom", 238.0),
    ("GE", "GEO", "Georgia", 168.0),
    ("GR", "GRC", "Greece", 337.0),
    ("HR", "HRV", "Croatia", 205.0),
    ("HU", "HUN", "Hungary", 204.0),
    ("ID", "IDN", "Indonesia", 682.0),
    ("IE", "IRL", "Ireland", 291.0),
    ("IL", "ISR", "Israel", 567.0),
    ("IN", "IND", "India", 713.0),
    ("IR", "IRN", "Iran", 655.0),
    ("IS", "ISL", "Iceland", 28.0),
    ("IT", "ITA", "Italy", 331.0),
    ("JP", "JPN", "Japan", 485.0),
    ("KE", "KEN", "Kenya", 70.0),
    ("KR", "KOR", "South Korea", 431.0),
    ("KZ", "KAZ", "Kazakhstan", 821.0),
    ("LT", "LTU", "Lithuania", 160.0),
    ("LU", "LUX", "Luxembourg", 105.0),
    ("LV", "LVA", "Latvia", 123.0),
    ("MA", "MAR", "Morocco", 630.0),
    ("MX", "MEX", "Mexico", 507.0),
    ("MY", "MYS", "Malaysia", 608.0),
    ("NG", "NGA", "Nigeria", 523.0),
    ("NL", "NLD", "Netherlands", 268.0),
    ("NO", "NOR", "Norway", 30.0),
    ("NZ", "NZL", "New Zealand", 113.0),
    ("PE", "PER", "Peru", 266.0),
    ("PH", "PHL", "Philippines", 611.0),
    ("PK", "PAK", "Pakistan", 441.0),
    ("PL", "POL", "Poland", 662.0),
    ("PT", "PRT", "Portugal", 166.0),
    ("QA", "QAT", "Qatar", 603.0),
    ("RO", "ROU", "Romania", 241.0),
    ("RS", "SRB", "Serbia", 636.0),
    ("RU", "RUS", "Russia", 441.0),
    ("SA", "SAU", "Saudi Arabia", 696.0),
    ("SE", "SWE", "Sweden", 41.0),
    ("SG", "SGP", "Singapore", 471.0),
    ("SI", "SVN", "Slovenia", 231.0),
    ("SK", "SVK", "Slovakia", 117.0),
    ("SV", "SLV", "El Salvador", 271.0),
    ("TH", "THA", "Thailand", 550.0),
    ("TR", "TUR", "Turkey", 465.0),
    ("TW", "TWN", "Taiwan", 642.0),
    ("UA", "UKR", "Ukraine", 260.0),
    ("US", "USA", "United States", 369.0),
    ("UY", "URY", "Uruguay", 129.0),
    ("VN", "VNM", "Vietnam", 475.0),
    ("ZA", "ZAF", "South Africa", 708.0),
];

/// Common non-ISO spellings users type, mapped to the ISO code.
const ALIASES: &[(&str, &str)] = &[("UK", "GB"), ("EL", "GR")];

/// Cloud regions (AWS, Google Cloud, Azure) mapped to the country that hosts
/// them, so `--region eu-west-3` works. The country's yearly average is used:
/// providers' own renewable purchases are not counted (location-based
/// accounting, as the GHG Protocol's scope 2 guidance calls it).
pub static CLOUD_REGIONS: &[(&str, &str)] = &[
    // AWS
    ("us-east-1", "US"),
    ("us-east-2", "US"),
    ("us-west-1", "US"),
    ("us-west-2", "US"),
    ("ca-central-1", "CA"),
    ("sa-east-1", "BR"),
    ("eu-west-1", "IE"),
    ("eu-west-2", "GB"),
    ("eu-west-3", "FR"),
    ("eu-central-1", "DE"),
    ("eu-central-2", "CH"),
    ("eu-north-1", "SE"),
    ("eu-south-1", "IT"),
    ("eu-south-2", "ES"),
    ("ap-south-1", "IN"),
    ("ap-southeast-1", "SG"),
    ("ap-southeast-2", "AU"),
    ("ap-southeast-3", "ID"),
    ("ap-northeast-1", "JP"),
    ("ap-northeast-2", "KR"),
    ("ap-northeast-3", "JP"),
    ("me-central-1", "AE"),
    ("il-central-1", "IL"),
    ("af-south-1", "ZA"),
    // Google Cloud
    ("us-central1", "US"),
    ("us-east1", "US"),
    ("us-east4", "US"),
    ("us-west1", "US"),
    ("northamerica-northeast1", "CA"),
    ("southamerica-east1", "BR"),
    ("europe-west1", "BE"),
    ("europe-west2", "GB"),
    ("europe-west3", "DE"),
    ("europe-west4", "NL"),
    ("europe-west6", "CH"),
    ("europe-west9", "FR"),
    ("europe-north1", "FI"),
    ("europe-central2", "PL"),
    ("europe-southwest1", "ES"),
    ("asia-east1", "TW"),
    ("asia-northeast1", "JP"),
    ("asia-northeast3", "KR"),
    ("asia-south1", "IN"),
    ("asia-southeast1", "SG"),
    ("australia-southeast1", "AU"),
    ("me-west1", "IL"),
    // Azure
    ("eastus", "US"),
    ("eastus2", "US"),
    ("westus2", "US"),
    ("centralus", "US"),
    ("canadacentral", "CA"),
    ("brazilsouth", "BR"),
    ("northeurope", "IE"),
    ("westeurope", "NL"),
    ("uksouth", "GB"),
    ("francecentral", "FR"),
    ("germanywestcentral", "DE"),
    ("swedencentral", "SE"),
    ("norwayeast", "NO"),
    ("switzerlandnorth", "CH"),
    ("polandcentral", "PL"),
    ("italynorth", "IT"),
    ("japaneast", "JP"),
    ("koreacentral", "KR"),
    ("centralindia", "IN"),
    ("southeastasia", "SG"),
    ("australiaeast", "AU"),
    ("southafricanorth", "ZA"),
    ("uaenorth", "AE"),
];

/// Finds a region by ISO alpha-2 or alpha-3 code, English name, or cloud
/// region name ([`CLOUD_REGIONS`], e.g. `eu-west-3` → FR); case-insensitive,
/// and `UK` and `EL` are accepted for GB and GR.
///
/// An unknown code is an error that lists the closest known codes.
///
/// ```
/// use snuffer_footprint::region;
/// assert_eq!(region("fr")?.name, "France");
/// assert_eq!(region("DEU")?.code, "DE");
/// let err = region("FX").unwrap_err().to_string();
/// assert!(err.contains("FR"), "{err}");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn region(code: &str) -> Result<&'static Region> {
    let trimmed = code.trim();
    let wanted = CLOUD_REGIONS
        .iter()
        .find(|(cloud, _)| cloud.eq_ignore_ascii_case(trimmed))
        .map_or(trimmed, |(_, iso)| iso)
        .to_ascii_uppercase();
    let wanted = ALIASES
        .iter()
        .find(|(alias, _)| *alias == wanted)
        .map(|(_, iso)| iso.to_string())
        .unwrap_or(wanted);
    REGIONS
        .iter()
        .find(|r| r.code == wanted || r.alpha3 == wanted || r.name.eq_ignore_ascii_case(&wanted))
        .ok_or_else(|| FootprintError::UnknownRegion {
            code: code.trim().to_string(),
            suggestions: closest_regions(&wanted, 5),
        })
}

/// The `n` known codes closest to `wanted`: by edit distance to the code (and,
/// for inputs longer than a code, to the country and cloud-region names), ties
/// broken by sharing the first letter, then alphabetically.
pub fn closest_regions(wanted: &str, n: usize) -> Vec<String> {
    let w = wanted.to_ascii_uppercase();
    let first = w.chars().next();
    let mut scored: Vec<(usize, bool, &str)> = REGIONS
        .iter()
        .map(|r| {
            let mut d = edit_distance(&w, r.code).min(edit_distance(&w, r.alpha3));
            if w.len() > 3 {
                d = d.min(edit_distance(&w, &r.name.to_ascii_uppercase()));
            }
            let other_first = first != r.code.chars().next();
            (d, other_first, r.code)
        })
        .collect();
    // Long inputs may be misspelt cloud regions (`eu-west-9`): offer those too.
    if w.len() > 3 {
        scored.extend(CLOUD_REGIONS.iter().map(|(cloud, _)| {
            let d = edit_distance(&w, &cloud.to_ascii_uppercase());
            (d, false, *cloud)
        }));
    }
    scored.sort();
    scored
        .into_iter()
        .take(n)
        .map(|(_, _, c)| c.to_string())
        .collect()
}

/// Levenshtein distance over chars.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let sub = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = sub.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_is_sorted_unique_and_sane() {
        assert!(REGIONS.len() >= 60, "only {} regions", REGIONS.len());
        for w in REGIONS.windows(2) {
            assert!(w[0].code < w[1].code, "{} before {}", w[0].code, w[1].code);
        }
        for r in REGIONS {
            assert_eq!(r.code.len(), 2, "{}", r.code);
            assert_eq!(r.alpha3.len(), 3, "{}", r.alpha3);
            assert!(
                r.intensity.0 > 0.0 && r.intensity.0 < 1200.0,
                "{}: {}",
                r.code,
                r.intensity
            );
        }
    }

    #[test]
    fn major_cloud_countries_are_present() {
        for code in [
            "US", "CA", "BR", "GB", "IE", "DE", "FR", "NL", "SE", "FI", "NO", "CH", "IT", "ES",
            "PL", "IN", "SG", "JP", "KR", "AU", "ZA", "AE", "IL", "ID", "TW", "CL", "MX",
        ] {
            assert!(region(code).is_ok(), "{code} missing");
        }
    }

    #[test]
    fn lookups_by_code_alpha3_name_and_alias() {
        assert_eq!(region("FR").unwrap().intensity, GramsPerKwh(56.0));
        assert_eq!(region(" pl ").unwrap().intensity, GramsPerKwh(662.0));
        assert_eq!(region("USA").unwrap().code, "US");
        assert_eq!(region("germany").unwrap().code, "DE");
        assert_eq!(region("UK").unwrap().code, "GB");
        assert_eq!(region("EL").unwrap().code, "GR");
        assert_eq!(region("eu-west-3").unwrap().code, "FR");
        assert_eq!(region("europe-west4").unwrap().code, "NL");
        assert_eq!(region("SwedenCentral").unwrap().code, "SE");
    }

    #[test]
    fn every_cloud_region_maps_to_a_known_country() {
        for (cloud, iso) in CLOUD_REGIONS {
            assert!(REGIONS.iter().any(|r| r.code == *iso), "{cloud} → {iso}");
        }
    }

    #[test]
    fn unknown_codes_suggest_neighbours() {
        match region("FX") {
            Err(FootprintError::UnknownRegion { code, suggestions }) => {
                assert_eq!(code, "FX");
                // One substitution away, same first letter first.
                assert_eq!(&suggestions[..2], &["FI", "FR"]);
            }
            other => panic!("expected UnknownRegion, got {other:?}"),
        }
        let s = closest_regions("Frnace", 3);
        assert_eq!(s[0], "FR", "{s:?}");
        let s = closest_regions("eu-west-9", 3);
        assert!(s.iter().any(|c| c == "eu-west-3"), "{s:?}");
    }

    #[test]
    fn edit_distance_by_hand() {
        assert_eq!(edit_distance("", "AB"), 2);
        assert_eq!(edit_distance("KITTEN", "SITTING"), 3);
        assert_eq!(edit_distance("FR", "FR"), 0);
    }
}
