//! From kWh to CO2e, water and embodied carbon, and the greener hour to start
//! a run. Offline: every table is embedded; no candle dependency.
//!
//! ```
//! use snuffer_energy::Joules;
//! use snuffer_footprint::{run_footprint, FootprintConfig, HardwareProfile};
//! use std::time::Duration;
//!
//! // A 6-hour run on one A100 in a hyperscale data centre in Germany that used
//! // 2.4 kWh and stopped early; the forecast full run would have used 4 kWh.
//! let cfg = FootprintConfig::default()
//!     .with_region("DE")?                    // 381 g/kWh (2023)
//!     .with_pue(1.1)?
//!     .with_water(Some(0.2), None)?           // on-site WUE, L/kWh
//!     .with_hardware(HardwareProfile::preset("a100")?, 1);
//! let fp = run_footprint(
//!     &cfg,
//!     Joules::from_kwh(2.4),
//!     Duration::from_secs(6 * 3600),
//!     Some(Joules::from_kwh(4.0)),
//! )?;
//! // Operational: 2.4 kWh × 1.1 × 381 g/kWh = 1 005.84 g.
//! assert!((fp.operational.value.0 - 1005.84).abs() < 1e-9);
//! // Embodied, reported separately: 150 kg over 4 years, 6 device-hours ≈ 25.7 g.
//! assert!((fp.embodied.co2e.value.0 - 6.0 * 150_000.0 / 35_064.0).abs() < 1e-9);
//! // Stopping early avoided 1.6 kWh × 1.1 × 381 g plus 4 more device-hours.
//! let avoided = fp.avoided.as_ref().unwrap();
//! assert!(avoided.operational.value.0 > 670.0);
//! // The summary's `footprint` block: every key names its unit.
//! let json = serde_json::to_value(&fp)?;
//! assert!(json["operational"]["co2e_g"].is_number());
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # What is computed
//!
//! * **Operational** CO2e = IT energy × PUE × carbon intensity. The intensity
//!   is the world average by default, a country of the embedded table
//!   ([`regions`]; Ember / Our World in Data, 2023), the user's number, a
//!   generation mix with IPCC lifecycle medians ([`EnergySource`]), or a time
//!   series ([`IntensitySeries`]) applied to the energy *as it was spent*.
//! * **Water** = IT energy × WUE (on site) + facility energy × grid water
//!   intensity (off site), each only when given ([`overheads`]).
//! * **Embodied** CO2e: manufacturing emissions of the configured hardware,
//!   amortised over its service life per device-hour ([`embodied`]); zero
//!   unless hardware is configured, and never folded into operational.
//! * **Avoided** by stopping early: the forecast full run's footprint minus
//!   the actual one ([`Avoided`]).
//! * **Carbon-aware start**: [`plan`] finds the start within a window that
//!   minimises emissions, exactly.
//!
//! Every figure comes with a standard deviation (`…_sd`), propagated to first
//! order from the uncertainties of the energy, the intensity, the water
//! figures and the hardware footprints.
//!
//! # Using it from the run tracker and reports
//!
//! * `summary.json`'s `footprint` block: `serde_json::to_value(run_footprint(&cfg,
//!   energy, duration, forecast_full_energy)?)` (or [`run_footprint_with`] to
//!   pass the meters' uncertainty, the start time and energy readings).
//! * `emissions.csv` (CodeCarbon columns `emissions`, `emissions_rate`,
//!   `energy_consumed`, `country_iso_code`, `country_name`, `region`):
//!   [`codecarbon_emissions`], or [`RunFootprint::codecarbon`] on a footprint
//!   read back from a summary.
#![deny(missing_docs)]

mod config;
pub mod embodied;
mod error;
mod footprint;
pub mod overheads;
mod plan;
mod quantity;
pub mod regions;
mod series;
mod sources;

pub use config::{FootprintConfig, IntensitySource, WORLD_REL_UNCERTAINTY};
pub use embodied::{
    DeviceEmbodied, EmbodiedFootprint, HardwareProfile, HardwareUse, DEFAULT_SERVICE_LIFE,
};
pub use error::{FootprintError, Result};
pub use footprint::{
    codecarbon_emissions, run_footprint, run_footprint_with, Avoided, CodeCarbonEmissions,
    IntensityUsed, RunFootprint, RunUsage, WaterFootprint,
};
pub use overheads::{Pue, WaterConfig};
pub use plan::{plan, Plan, Window};
pub use quantity::{Co2e, GramsCo2e, GramsPerKwh, Litres, LitresPerKwh, Water};
pub use regions::{closest_regions, region, Region, REGIONS, WORLD_AVERAGE};
pub use series::{Gap, IntensitySeries, GAP_STEPS};
pub use sources::{EnergyMix, EnergySource};
