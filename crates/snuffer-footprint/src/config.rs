//! What the user tells us about where and on what a run happens.

use crate::embodied::{HardwareProfile, HardwareUse, DEFAULT_SERVICE_LIFE};
use crate::error::{non_negative, rel_uncertainty, FootprintError, Result};
use crate::overheads::{Pue, WaterConfig};
use crate::quantity::{Estimate, GramsPerKwh};
use crate::regions::{region, Region, REGION_REL_UNCERTAINTY, WORLD_AVERAGE};
use crate::series::IntensitySeries;
use crate::sources::EnergyMix;
use std::time::Duration;

/// Relative uncertainty of the world-average default (the spread between
/// grids is far larger, but this is the uncertainty of the *average*; use a
/// region for a meaningful figure).
pub const WORLD_REL_UNCERTAINTY: f64 = 0.15;

/// Where the carbon intensity comes from.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum IntensitySource {
    /// The world average ([`WORLD_AVERAGE`]); the default.
    World,
    /// A country of the embedded table.
    Region(&'static Region),
    /// The user's own number.
    Fixed {
        /// Intensity.
        intensity: GramsPerKwh,
        /// Its relative standard uncertainty (0 = taken as exact).
        rel_uncertainty: f64,
    },
    /// A generation mix, with the IPCC per-source intensities.
    Mix(EnergyMix),
    /// A time series, applied to the run's energy over time.
    Series {
        /// The series.
        series: IntensitySeries,
        /// Relative standard uncertainty of its values (0 = taken as exact).
        rel_uncertainty: f64,
    },
}

impl IntensitySource {
    /// A region by code (see [`crate::region`]).
    pub fn region(code: &str) -> Result<IntensitySource> {
        region(code).map(IntensitySource::Region)
    }

    /// A fixed number of g/kWh, taken as exact; negative or NaN is an error.
    pub fn fixed(g_per_kwh: f64) -> Result<IntensitySource> {
        Ok(IntensitySource::Fixed {
            intensity: GramsPerKwh(non_negative("carbon intensity (g/kWh)", g_per_kwh)?),
            rel_uncertainty: 0.0,
        })
    }

    /// Short kind name as written in summaries: `world`, `region`, `fixed`, `mix`, `series`.
    pub fn kind(&self) -> &'static str {
        match self {
            IntensitySource::World => "world",
            IntensitySource::Region(_) => "region",
            IntensitySource::Fixed { .. } => "fixed",
            IntensitySource::Mix(_) => "mix",
            IntensitySource::Series { .. } => "series",
        }
    }

    /// The single intensity of a constant source; `None` for a series.
    pub(crate) fn constant(&self) -> Option<Estimate> {
        match self {
            IntensitySource::World => {
                Some(Estimate::with_rel(WORLD_AVERAGE.0, WORLD_REL_UNCERTAINTY))
            }
            IntensitySource::Region(r) => {
                Some(Estimate::with_rel(r.intensity.0, REGION_REL_UNCERTAINTY))
            }
            IntensitySource::Fixed {
                intensity,
                rel_uncertainty,
            } => Some(Estimate::with_rel(intensity.0, *rel_uncertainty)),
            IntensitySource::Mix(m) => Some(m.estimate()),
            IntensitySource::Series { .. } => None,
        }
    }
}

/// Everything needed to turn a run's energy into a footprint.
///
/// Built with [`FootprintConfig::default`] (world average, local machine,
/// no water figures, no hardware, four-year service life) and the `with_*`
/// methods, which validate their input.
///
/// ```
/// use snuffer_footprint::{FootprintConfig, HardwareProfile};
/// let cfg = FootprintConfig::default()
///     .with_region("SE")?
///     .with_pue(1.1)?
///     .with_water(Some(0.2), None)?
///     .with_hardware(HardwareProfile::preset("a100")?, 4);
/// assert_eq!(cfg.pue.value(), 1.1);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct FootprintConfig {
    /// Carbon intensity of the electricity.
    pub intensity: IntensitySource,
    /// Power usage effectiveness of the facility.
    pub pue: Pue,
    /// Water intensities.
    pub water: WaterConfig,
    /// Hardware whose manufacturing emissions are charged to the run.
    pub hardware: Vec<HardwareUse>,
    /// Service life over which manufacturing emissions are spread.
    pub service_life: Duration,
}

impl Default for FootprintConfig {
    fn default() -> FootprintConfig {
        FootprintConfig {
            intensity: IntensitySource::World,
            pue: Pue::LOCAL,
            water: WaterConfig {
                rel_uncertainty: crate::overheads::WATER_REL_UNCERTAINTY,
                ..WaterConfig::default()
            },
            hardware: Vec::new(),
            service_life: DEFAULT_SERVICE_LIFE,
        }
    }
}

impl FootprintConfig {
    /// Use a region of the embedded table (ISO alpha-2/alpha-3 code or name).
    pub fn with_region(mut self, code: &str) -> Result<FootprintConfig> {
        self.intensity = IntensitySource::region(code)?;
        Ok(self)
    }

    /// Use a fixed intensity in g/kWh.
    pub fn with_intensity(mut self, g_per_kwh: f64) -> Result<FootprintConfig> {
        self.intensity = IntensitySource::fixed(g_per_kwh)?;
        Ok(self)
    }

    /// Use a generation mix.
    pub fn with_mix(mut self, mix: EnergyMix) -> FootprintConfig {
        self.intensity = IntensitySource::Mix(mix);
        self
    }

    /// Use an intensity time series (values taken as exact).
    pub fn with_series(mut self, series: IntensitySeries) -> FootprintConfig {
        self.intensity = IntensitySource::Series {
            series,
            rel_uncertainty: 0.0,
        };
        self
    }

    /// Set the relative uncertainty of a fixed or series intensity (ignored
    /// for the embedded tables, which carry their own).
    pub fn with_intensity_uncertainty(mut self, rel: f64) -> Result<FootprintConfig> {
        let rel = rel_uncertainty("intensity uncertainty", rel)?;
        match &mut self.intensity {
            IntensitySource::Fixed {
                rel_uncertainty, ..
            }
            | IntensitySource::Series {
                rel_uncertainty, ..
            } => *rel_uncertainty = rel,
            _ => {}
        }
        Ok(self)
    }

    /// Set the PUE (≥ 1).
    pub fn with_pue(mut self, pue: f64) -> Result<FootprintConfig> {
        self.pue = Pue::new(pue)?;
        Ok(self)
    }

    /// Set on-site WUE and grid water intensity, L/kWh (either may be absent).
    pub fn with_water(mut self, wue: Option<f64>, grid: Option<f64>) -> Result<FootprintConfig> {
        self.water = WaterConfig::new(wue, grid)?;
        Ok(self)
    }

    /// Charge `count` devices of `profile` to the run.
    pub fn with_hardware(mut self, profile: HardwareProfile, count: u32) -> FootprintConfig {
        self.hardware.push(HardwareUse { profile, count });
        self
    }

    /// Set the service life (must be longer than zero).
    pub fn with_service_life(mut self, life: Duration) -> Result<FootprintConfig> {
        if life.is_zero() {
            return Err(FootprintError::InvalidValue {
                what: "service life (s)",
                value: 0.0,
                expected: "expected a service life longer than zero (default: 4 years)",
            });
        }
        self.service_life = life;
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builders_validate() {
        let c = FootprintConfig::default();
        assert_eq!(c.intensity, IntensitySource::World);
        assert!(c.clone().with_intensity(-1.0).is_err());
        assert!(c.clone().with_intensity(f64::NAN).is_err());
        assert!(c.clone().with_pue(0.5).is_err());
        assert!(c.clone().with_region("ZZ").is_err());
        assert!(c.clone().with_service_life(Duration::ZERO).is_err());
        assert!(c.clone().with_intensity_uncertainty(-0.1).is_err());
        let f = c
            .with_intensity(100.0)
            .unwrap()
            .with_intensity_uncertainty(0.2)
            .unwrap();
        assert_eq!(
            f.intensity.constant().map(|e| (e.value, e.sd)),
            Some((100.0, 20.0))
        );
    }
}
