//! Data-centre overheads: power usage effectiveness (PUE) and water usage
//! effectiveness (WUE).
//!
//! # Typical values
//!
//! | Setting | PUE | WUE (L/kWh, on site) | Source |
//! |---|---|---|---|
//! | Local machine (default) | 1.00 | 0 | no facility overhead counted |
//! | Hyperscale cloud | 1.10 | 0.2 | Google fleet-wide trailing-twelve-month PUE 1.10 (Environmental Report 2024); AWS global PUE 1.15 and WUE 0.18 L/kWh (2023 Sustainability Report); Meta WUE ≈ 0.2 |
//! | Industry average | 1.58 | 1.8 | Uptime Institute Global Data Center Survey 2023 (average PUE 1.58); WUE 1.8 L/kWh is the widely quoted industry average (The Green Grid / US DOE, Shehabi et al. 2016) |
//!
//! PUE multiplies the IT energy to give the facility energy drawn from the
//! grid. WUE (The Green Grid) is on-site water consumed per kWh of *IT*
//! energy; the water consumed off site to generate the electricity is the
//! facility energy times the grid's water intensity, which only the user can
//! give (it varies from ~0 for wind and solar to several L/kWh for
//! evaporatively cooled thermal plants and hydro reservoirs).

use crate::error::{FootprintError, Result};
use crate::quantity::LitresPerKwh;
use serde::{Deserialize, Serialize};

/// Power usage effectiveness: facility energy / IT energy, ≥ 1.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Pue(f64);

impl Pue {
    /// A local machine: no facility overhead.
    pub const LOCAL: Pue = Pue(1.0);
    /// Typical hyperscale cloud data centre (see the module docs).
    pub const HYPERSCALE: Pue = Pue(1.10);
    /// Industry-average data centre (Uptime Institute 2023).
    pub const INDUSTRY_AVERAGE: Pue = Pue(1.58);

    /// A PUE; values below 1, NaN or infinite are an error.
    ///
    /// ```
    /// use snuffer_footprint::Pue;
    /// assert_eq!(Pue::new(1.2)?.value(), 1.2);
    /// assert!(Pue::new(0.9).is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(value: f64) -> Result<Pue> {
        if value.is_finite() && value >= 1.0 {
            Ok(Pue(value))
        } else {
            Err(FootprintError::InvalidValue {
                what: "PUE",
                value,
                expected: "PUE is facility energy over IT energy, so it is ≥ 1 \
                           (1.0 for a local machine, ~1.1 for hyperscale cloud)",
            })
        }
    }

    /// The ratio.
    pub fn value(self) -> f64 {
        self.0
    }
}

impl Default for Pue {
    fn default() -> Pue {
        Pue::LOCAL
    }
}

/// Water consumption settings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct WaterConfig {
    /// On-site water usage effectiveness, litres per kWh of IT energy.
    pub wue: Option<LitresPerKwh>,
    /// Off-site water consumed by generation, litres per kWh drawn from the grid.
    pub grid_water_intensity: Option<LitresPerKwh>,
    /// Relative standard uncertainty of both figures (default 0.3 when built
    /// with [`WaterConfig::new`]: published WUE figures are fleet averages
    /// that vary with season and climate).
    pub rel_uncertainty: f64,
}

/// Default relative uncertainty of water intensities.
pub const WATER_REL_UNCERTAINTY: f64 = 0.3;

impl WaterConfig {
    /// Water settings; negative or NaN intensities are an error.
    pub fn new(wue: Option<f64>, grid_water_intensity: Option<f64>) -> Result<WaterConfig> {
        let check = |what: &'static str, v: Option<f64>| -> Result<Option<LitresPerKwh>> {
            v.map(|v| crate::error::non_negative(what, v).map(LitresPerKwh))
                .transpose()
        };
        Ok(WaterConfig {
            wue: check("WUE (L/kWh)", wue)?,
            grid_water_intensity: check("grid water intensity (L/kWh)", grid_water_intensity)?,
            rel_uncertainty: WATER_REL_UNCERTAINTY,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pue_domain() {
        assert!(Pue::new(1.0).is_ok());
        for bad in [0.99, -1.0, f64::NAN, f64::INFINITY] {
            let e = Pue::new(bad).unwrap_err().to_string();
            assert!(e.contains("≥ 1"), "{bad}: {e}");
        }
        assert_eq!(Pue::default(), Pue::LOCAL);
    }

    #[test]
    fn water_domain() {
        assert!(WaterConfig::new(Some(-0.1), None).is_err());
        assert!(WaterConfig::new(None, Some(f64::NAN)).is_err());
        let w = WaterConfig::new(Some(0.2), Some(1.5)).unwrap();
        assert_eq!(w.wue, Some(LitresPerKwh(0.2)));
        assert_eq!(w.grid_water_intensity, Some(LitresPerKwh(1.5)));
    }
}
