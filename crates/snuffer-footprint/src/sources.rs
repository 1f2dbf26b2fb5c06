//! Lifecycle carbon intensity per generation source, for users who know
//! their electricity mix.
//!
//! # Data
//!
//! Medians of the lifecycle emissions in IPCC AR5 WG III, Annex III, Table
//! A.III.2 (Schlömer et al., 2014), in gCO2e/kWh: coal (pulverised) 820, gas
//! (combined cycle) 490, biomass (dedicated) 230, geothermal 38, hydropower
//! 24, nuclear 12, solar PV (utility) 48, wind (onshore) 11. AR5 gives no oil
//! figure; oil uses the median of IPCC SRREN (2011), Annex II, 840 g/kWh.
//!
//! The relative uncertainties are set from the spread of the published ranges
//! (minimum–maximum ≈ ±2 sd for fossil sources, whose ranges are narrow; the
//! long right tails of hydro, nuclear, wind and solar get ±50 %).

use crate::error::{non_negative, FootprintError, Result};
use crate::quantity::{Estimate, GramsPerKwh};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A kind of power plant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum EnergySource {
    /// Coal (pulverised).
    Coal,
    /// Natural gas (combined cycle).
    Gas,
    /// Oil.
    Oil,
    /// Nuclear.
    Nuclear,
    /// Hydropower.
    Hydro,
    /// Wind (onshore).
    Wind,
    /// Solar photovoltaics (utility scale).
    Solar,
    /// Biomass (dedicated).
    Biomass,
    /// Geothermal.
    Geothermal,
}

impl EnergySource {
    /// Every source, in declaration order.
    pub const ALL: [EnergySource; 9] = [
        EnergySource::Coal,
        EnergySource::Gas,
        EnergySource::Oil,
        EnergySource::Nuclear,
        EnergySource::Hydro,
        EnergySource::Wind,
        EnergySource::Solar,
        EnergySource::Biomass,
        EnergySource::Geothermal,
    ];

    /// Lifecycle median intensity (see the module docs for sources).
    ///
    /// ```
    /// use snuffer_footprint::{EnergySource, GramsPerKwh};
    /// assert_eq!(EnergySource::Coal.intensity(), GramsPerKwh(820.0));
    /// ```
    pub fn intensity(self) -> GramsPerKwh {
        GramsPerKwh(match self {
            EnergySource::Coal => 820.0,
            EnergySource::Gas => 490.0,
            EnergySource::Oil => 840.0,
            EnergySource::Nuclear => 12.0,
            EnergySource::Hydro => 24.0,
            EnergySource::Wind => 11.0,
            EnergySource::Solar => 48.0,
            EnergySource::Biomass => 230.0,
            EnergySource::Geothermal => 38.0,
        })
    }

    /// Relative standard uncertainty of [`EnergySource::intensity`].
    pub fn rel_uncertainty(self) -> f64 {
        match self {
            // AR5 range 740–910.
            EnergySource::Coal => 0.05,
            // AR5 range 410–650.
            EnergySource::Gas => 0.12,
            EnergySource::Oil => 0.15,
            _ => 0.5,
        }
    }

    /// Lower-case name (`coal`, `gas`, …).
    pub fn name(self) -> &'static str {
        match self {
            EnergySource::Coal => "coal",
            EnergySource::Gas => "gas",
            EnergySource::Oil => "oil",
            EnergySource::Nuclear => "nuclear",
            EnergySource::Hydro => "hydro",
            EnergySource::Wind => "wind",
            EnergySource::Solar => "solar",
            EnergySource::Biomass => "biomass",
            EnergySource::Geothermal => "geothermal",
        }
    }
}

impl fmt::Display for EnergySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for EnergySource {
    type Err = FootprintError;
    fn from_str(s: &str) -> Result<Self> {
        let t = s.trim().to_ascii_lowercase();
        EnergySource::ALL
            .into_iter()
            .find(|e| e.name() == t)
            .ok_or_else(|| {
                FootprintError::MissingInput(format!(
                    "unknown energy source `{s}`; known: coal, gas, oil, nuclear, hydro, wind, \
                     solar, biomass, geothermal"
                ))
            })
    }
}

/// Shares of generation by source. Shares need not sum to one: they are
/// normalised, so `[(Coal, 30), (Wind, 70)]` (percent) works as well as
/// fractions.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnergyMix {
    shares: Vec<(EnergySource, f64)>,
}

impl EnergyMix {
    /// A mix from shares (any positive scale). Negative, NaN or all-zero
    /// shares are an error.
    ///
    /// ```
    /// use snuffer_footprint::{EnergyMix, EnergySource::*};
    /// // Half coal, half wind: (820 + 11) / 2 = 415.5 g/kWh.
    /// let mix = EnergyMix::new([(Coal, 50.0), (Wind, 50.0)])?;
    /// assert_eq!(mix.intensity().0, 415.5);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn new(shares: impl IntoIterator<Item = (EnergySource, f64)>) -> Result<EnergyMix> {
        let shares: Vec<(EnergySource, f64)> = shares.into_iter().collect();
        let mut largest: f64 = 0.0;
        for &(_, s) in &shares {
            largest = largest.max(non_negative("energy-mix share", s)?);
        }
        if largest <= 0.0 {
            return Err(FootprintError::MissingInput(
                "an energy mix needs at least one positive share".into(),
            ));
        }
        // Relative to the largest share first: shares near 1e308 must not sum to infinity
        // (and normalise to zero).
        let total: f64 = shares.iter().map(|&(_, s)| s / largest).sum();
        Ok(EnergyMix {
            shares: shares
                .into_iter()
                .map(|(e, s)| (e, s / largest / total))
                .collect(),
        })
    }

    /// Parses `coal=30,gas=20,wind=50` (shares on any scale).
    ///
    /// ```
    /// use snuffer_footprint::EnergyMix;
    /// let mix: EnergyMix = "nuclear=70, hydro=30".parse()?;
    /// assert!((mix.intensity().0 - (0.7 * 12.0 + 0.3 * 24.0)).abs() < 1e-9);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn parse(s: &str) -> Result<EnergyMix> {
        let mut shares = Vec::new();
        for part in s.split(',').filter(|p| !p.trim().is_empty()) {
            let (name, value) = part.split_once('=').ok_or_else(|| {
                FootprintError::MissingInput(format!(
                    "energy-mix entry `{}` should look like `coal=30`",
                    part.trim()
                ))
            })?;
            let v: f64 = value.trim().parse().map_err(|_| {
                FootprintError::MissingInput(format!(
                    "energy-mix share `{}` is not a number",
                    value.trim()
                ))
            })?;
            shares.push((name.parse()?, v));
        }
        EnergyMix::new(shares)
    }

    /// Normalised shares (summing to one).
    pub fn shares(&self) -> &[(EnergySource, f64)] {
        &self.shares
    }

    /// Share-weighted lifecycle intensity.
    pub fn intensity(&self) -> GramsPerKwh {
        GramsPerKwh(self.estimate().value)
    }

    /// Intensity with its uncertainty: the per-source uncertainties are
    /// treated as independent and combined in quadrature.
    pub(crate) fn estimate(&self) -> Estimate {
        self.shares
            .iter()
            .map(|&(e, s)| Estimate::with_rel(e.intensity().0, e.rel_uncertainty()).scale(s))
            .fold(Estimate::exact(0.0), Estimate::add)
    }
}

impl FromStr for EnergyMix {
    type Err = FootprintError;
    fn from_str(s: &str) -> Result<Self> {
        EnergyMix::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::EnergySource::*;
    use super::*;

    #[test]
    fn pure_sources_match_ipcc_medians() {
        let table = [
            (Coal, 820.0),
            (Gas, 490.0),
            (Oil, 840.0),
            (Nuclear, 12.0),
            (Hydro, 24.0),
            (Wind, 11.0),
            (Solar, 48.0),
        ];
        for (src, g) in table {
            let mix = EnergyMix::new([(src, 1.0)]).unwrap();
            assert_eq!(mix.intensity(), GramsPerKwh(g), "{src}");
            assert_eq!(src.name().parse::<EnergySource>().unwrap(), src);
        }
    }

    #[test]
    fn mix_by_hand() {
        // 60 % gas, 25 % nuclear, 15 % solar:
        // 0.6·490 + 0.25·12 + 0.15·48 = 294 + 3 + 7.2 = 304.2 g/kWh.
        let mix: EnergyMix = "gas=60,nuclear=25,solar=15".parse().unwrap();
        assert!((mix.intensity().0 - 304.2).abs() < 1e-9);
        // sd = √((0.6·490·0.12)² + (0.25·12·0.5)² + (0.15·48·0.5)²)
        let sd = ((0.6f64 * 490.0 * 0.12).powi(2)
            + (0.25f64 * 12.0 * 0.5).powi(2)
            + (0.15f64 * 48.0 * 0.5).powi(2))
        .sqrt();
        assert!((mix.estimate().sd - sd).abs() < 1e-9);
    }

    #[test]
    fn bad_mixes_are_errors() {
        assert!(EnergyMix::new([(Coal, -1.0)]).is_err());
        assert!(EnergyMix::new([(Coal, f64::NAN)]).is_err());
        assert!(EnergyMix::new([(Coal, 0.0)]).is_err());
        assert!("coal".parse::<EnergyMix>().is_err());
        assert!("peat=3".parse::<EnergyMix>().is_err());
        assert!("coal=x".parse::<EnergyMix>().is_err());
    }
}
