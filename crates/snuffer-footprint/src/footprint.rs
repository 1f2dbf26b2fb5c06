//! A run's footprint: operational and embodied CO2e, water, and what
//! stopping early avoided.

use crate::config::{FootprintConfig, IntensitySource};
use crate::embodied::{embodied, EmbodiedFootprint};
use crate::error::{non_negative, rel_uncertainty, short, FootprintError, Result};
use crate::quantity::{Co2e, Estimate, GramsPerKwh, Litres, Water};
use crate::regions::REGION_DATA_SOURCE;
use crate::series::add_secs;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use snuffer_energy::Joules;
use std::time::Duration;

/// What a run used: its IT energy (what the meters measured, before PUE),
/// its duration and, for a time-series intensity, when it ran.
#[derive(Debug, Clone, PartialEq)]
pub struct RunUsage {
    /// IT energy measured for the run.
    pub energy: Joules,
    /// Wall-clock duration of the run.
    pub duration: Duration,
    /// Relative standard uncertainty of `energy` (from the meters; 0 = exact).
    pub energy_rel_uncertainty: f64,
    /// When the run started (needed for a time-series intensity).
    pub started_at: Option<DateTime<Utc>>,
    /// Cumulative energy readings `(time, joules)`; when given, a time-series
    /// intensity is weighted by when the energy was actually spent, otherwise
    /// the run is taken to draw constant power from `started_at`.
    pub profile: Vec<(DateTime<Utc>, Joules)>,
}

impl RunUsage {
    /// A run of `energy` over `duration`, energy taken as exact.
    pub fn new(energy: Joules, duration: Duration) -> RunUsage {
        RunUsage {
            energy,
            duration,
            energy_rel_uncertainty: 0.0,
            started_at: None,
            profile: Vec::new(),
        }
    }

    /// Set the relative uncertainty of the energy.
    pub fn with_energy_uncertainty(mut self, rel: f64) -> Result<RunUsage> {
        self.energy_rel_uncertainty = rel_uncertainty("energy uncertainty", rel)?;
        Ok(self)
    }

    /// Set the start time.
    pub fn starting_at(mut self, t: DateTime<Utc>) -> RunUsage {
        self.started_at = Some(t);
        self
    }

    /// Set the cumulative energy readings.
    pub fn with_profile(mut self, profile: Vec<(DateTime<Utc>, Joules)>) -> RunUsage {
        self.profile = profile;
        self
    }
}

/// The intensity that was applied, as written into summaries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntensityUsed {
    /// `world`, `region`, `fixed`, `mix` or `series`.
    pub source: String,
    /// ISO 3166 alpha-2 code, for a region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<String>,
    /// ISO 3166 alpha-3 code, for a region (CodeCarbon's `country_iso_code`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_iso_code: Option<String>,
    /// Country name, for a region.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub country_name: Option<String>,
    /// Intensity applied (energy-weighted mean for a series).
    #[serde(rename = "g_per_kwh")]
    pub intensity: GramsPerKwh,
    /// One standard deviation of `g_per_kwh`.
    #[serde(rename = "g_per_kwh_sd")]
    pub sd: GramsPerKwh,
    /// Where the figure comes from.
    pub data: String,
}

/// Water consumed: on site (WUE) and off site (grid generation).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct WaterFootprint {
    /// Total, with uncertainty.
    #[serde(flatten)]
    pub total: Water,
    /// On-site part (IT energy × WUE); 0 when no WUE was given.
    pub on_site_l: Litres,
    /// Off-site part (facility energy × grid water intensity); 0 when not given.
    pub grid_l: Litres,
    /// On-site water usage effectiveness applied, L/kWh of IT energy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wue_l_per_kwh: Option<f64>,
    /// Grid water intensity applied, L/kWh of facility energy.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grid_l_per_kwh: Option<f64>,
}

/// What stopping early avoided: the forecast full run's footprint minus the actual one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Avoided {
    /// Forecast IT energy of the full planned run, kWh.
    pub forecast_full_energy_kwh: f64,
    /// Forecast duration of the full run (same mean power as the actual run), s.
    pub forecast_full_duration_s: f64,
    /// Forecast footprint of the full run (operational + embodied).
    pub full_run: Co2e,
    /// Avoided CO2e (operational + embodied), never negative.
    #[serde(flatten)]
    pub co2e: Co2e,
    /// Avoided operational CO2e.
    pub operational: Co2e,
    /// Avoided embodied CO2e.
    pub embodied: Co2e,
    /// Avoided water.
    pub water: Water,
}

/// A run's footprint, `Serialize` as the `footprint` block of summary.json.
///
/// Operational and embodied emissions are separate fields; their sum is the
/// explicitly named `operational_plus_embodied`. Every figure carries a
/// standard deviation (`…_sd`) in its own unit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunFootprint {
    /// IT energy (as measured), kWh.
    pub it_energy_kwh: f64,
    /// PUE applied.
    pub pue: f64,
    /// Facility energy drawn from the grid (IT energy × PUE), kWh.
    pub facility_energy_kwh: f64,
    /// Run duration, s.
    pub duration_s: f64,
    /// The carbon intensity applied.
    pub intensity: IntensityUsed,
    /// Emissions from generating the facility energy.
    pub operational: Co2e,
    /// Manufacturing emissions charged to the run.
    pub embodied: EmbodiedFootprint,
    /// Operational plus embodied.
    pub operational_plus_embodied: Co2e,
    /// Water consumed.
    pub water: WaterFootprint,
    /// What stopping early avoided, when a forecast of the full run was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avoided: Option<Avoided>,
}

/// The CodeCarbon-compatible values of one `emissions.csv` row.
///
/// CodeCarbon's columns: `emissions` (kg CO2e, operational only),
/// `emissions_rate` (kg/s), `energy_consumed` (kWh, including PUE),
/// `water_consumed` (L), `country_iso_code` (ISO 3166 alpha-3),
/// `country_name`, `region`, `pue`, `wue`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CodeCarbonEmissions {
    /// `emissions`: operational kg CO2e.
    pub emissions: f64,
    /// `emissions_rate`: kg CO2e per second of run time (0 for a zero duration).
    pub emissions_rate: f64,
    /// `energy_consumed`: facility energy, kWh.
    pub energy_consumed: f64,
    /// `water_consumed`: litres (on site + grid; 0 when no water figures were given).
    pub water_consumed: f64,
    /// `pue`.
    pub pue: f64,
    /// `wue` in L/kWh, when given.
    pub wue: Option<f64>,
    /// `country_iso_code`: alpha-3 code, empty when the intensity is not a region.
    pub country_iso_code: String,
    /// `country_name`: empty when the intensity is not a region.
    pub country_name: String,
    /// `region`: alpha-2 code, empty when the intensity is not a region.
    pub region: String,
}

impl RunFootprint {
    /// The CodeCarbon `emissions.csv` values of this footprint (operational
    /// emissions only, as CodeCarbon reports them).
    pub fn codecarbon(&self) -> CodeCarbonEmissions {
        let kg = self.operational.value.kg();
        CodeCarbonEmissions {
            emissions: kg,
            emissions_rate: if self.duration_s > 0.0 {
                kg / self.duration_s
            } else {
                0.0
            },
            energy_consumed: self.facility_energy_kwh,
            water_consumed: self.water.total.value.0,
            pue: self.pue,
            wue: self.water.wue_l_per_kwh,
            country_iso_code: self.intensity.country_iso_code.clone().unwrap_or_default(),
            country_name: self.intensity.country_name.clone().unwrap_or_default(),
            region: self.intensity.region.clone().unwrap_or_default(),
        }
    }
}

/// Footprint of a run of `energy` (IT energy, as metered) over `duration`.
///
/// `forecast_full_energy` is the forecast IT energy of the full planned run;
/// when given, [`RunFootprint::avoided`] says what stopping early avoided.
/// A time-series intensity needs to know when the run happened: use
/// [`run_footprint_with`] and [`RunUsage::starting_at`] for it.
///
/// ```
/// use snuffer_energy::Joules;
/// use snuffer_footprint::{run_footprint, FootprintConfig};
/// use std::time::Duration;
/// let cfg = FootprintConfig::default().with_region("FR")?.with_pue(1.5)?;
/// let fp = run_footprint(&cfg, Joules::from_kwh(2.0), Duration::from_secs(3600), None)?;
/// // 2 kWh × 1.5 × 56 g/kWh = 168 g.
/// assert!((fp.operational.value.0 - 168.0).abs() < 1e-9);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn run_footprint(
    cfg: &FootprintConfig,
    energy: Joules,
    duration: Duration,
    forecast_full_energy: Option<Joules>,
) -> Result<RunFootprint> {
    run_footprint_with(cfg, &RunUsage::new(energy, duration), forecast_full_energy)
}

/// Footprint of a run described by a [`RunUsage`] (energy uncertainty,
/// start time, energy readings over time).
pub fn run_footprint_with(
    cfg: &FootprintConfig,
    usage: &RunUsage,
    forecast_full_energy: Option<Joules>,
) -> Result<RunFootprint> {
    let it_kwh = non_negative("energy (kWh)", usage.energy.kwh())?;
    let energy = Estimate::with_rel(it_kwh, usage.energy_rel_uncertainty);
    let pue = cfg.pue.value();
    let facility = energy.scale(pue);
    let intensity = applied_intensity(cfg, usage)?;
    let operational = facility.mul(intensity.estimate);

    let emb = embodied(&cfg.hardware, usage.duration, cfg.service_life);
    let water = water(cfg, energy, facility);
    let total = operational.add(emb.co2e.estimate());

    let avoided = match forecast_full_energy {
        Some(full) => Some(avoided(
            cfg,
            usage,
            non_negative("forecast full-run energy (kWh)", full.kwh())?,
            intensity.estimate,
        )),
        None => None,
    };

    let fp = RunFootprint {
        it_energy_kwh: it_kwh,
        pue,
        facility_energy_kwh: facility.value,
        duration_s: usage.duration.as_secs_f64(),
        intensity: intensity.used,
        operational: Co2e::from_estimate(operational),
        embodied: emb,
        operational_plus_embodied: Co2e::from_estimate(total),
        water,
        avoided,
    };
    check_finite(&fp)?;
    Ok(fp)
}

/// Every figure of a footprint is finite, or the error names the inputs that overflowed:
/// huge but finite inputs (1e300 kWh at 1e300 g/kWh) must not print as `inf ± 0.000 t`.
fn check_finite(fp: &RunFootprint) -> Result<()> {
    let finite = |c: &Co2e| c.value.0.is_finite() && c.sd.0.is_finite();
    let water = |w: &Water| w.value.0.is_finite() && w.sd.0.is_finite();
    let inputs = format!(
        "{} kWh × PUE {} = {} kWh at {} g/kWh",
        short(fp.it_energy_kwh),
        short(fp.pue),
        short(fp.facility_energy_kwh),
        short(fp.intensity.intensity.0)
    );
    if !(fp.facility_energy_kwh.is_finite() && finite(&fp.operational)) {
        return Err(FootprintError::Overflow {
            what: "the operational CO2e",
            detail: inputs,
        });
    }
    if !(finite(&fp.embodied.co2e) && finite(&fp.operational_plus_embodied)) {
        return Err(FootprintError::Overflow {
            what: "the embodied CO2e",
            detail: format!("{} s of the configured hardware", short(fp.duration_s)),
        });
    }
    if !water(&fp.water.total) {
        return Err(FootprintError::Overflow {
            what: "the water footprint",
            detail: format!(
                "{inputs}, WUE {} L/kWh, grid water {} L/kWh",
                short(fp.water.wue_l_per_kwh.unwrap_or(0.0)),
                short(fp.water.grid_l_per_kwh.unwrap_or(0.0))
            ),
        });
    }
    if let Some(a) = &fp.avoided {
        if !(finite(&a.full_run) && finite(&a.co2e) && water(&a.water)) {
            return Err(FootprintError::Overflow {
                what: "the footprint of the forecast full run",
                detail: format!(
                    "{} kWh forecast at {} g/kWh",
                    short(a.forecast_full_energy_kwh),
                    short(fp.intensity.intensity.0)
                ),
            });
        }
    }
    Ok(())
}

/// Operational CO2e (kg) and rate for CodeCarbon's `emissions.csv`, straight
/// from energy and duration: the same as `run_footprint(..).codecarbon()`.
///
/// ```
/// use snuffer_energy::Joules;
/// use snuffer_footprint::{codecarbon_emissions, FootprintConfig};
/// use std::time::Duration;
/// let cfg = FootprintConfig::default().with_region("DE")?;
/// let row = codecarbon_emissions(&cfg, Joules::from_kwh(1.0), Duration::from_secs(100))?;
/// assert_eq!(row.country_iso_code, "DEU");
/// assert!((row.emissions - 0.381).abs() < 1e-12);          // kg
/// assert!((row.emissions_rate - 0.00381).abs() < 1e-12);   // kg/s
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn codecarbon_emissions(
    cfg: &FootprintConfig,
    energy: Joules,
    duration: Duration,
) -> Result<CodeCarbonEmissions> {
    Ok(run_footprint(cfg, energy, duration, None)?.codecarbon())
}

struct Applied {
    estimate: Estimate,
    used: IntensityUsed,
}

fn applied_intensity(cfg: &FootprintConfig, usage: &RunUsage) -> Result<Applied> {
    let (estimate, data) = match &cfg.intensity {
        IntensitySource::Series {
            series,
            rel_uncertainty,
        } => {
            let mean = series_mean(series, usage)?;
            (
                Estimate::with_rel(mean.0, *rel_uncertainty),
                "user time series".to_string(),
            )
        }
        other => {
            // `constant` is Some for every non-series source.
            let e = other.constant().unwrap_or(Estimate::exact(0.0));
            let data = match other {
                IntensitySource::World => {
                    "world average 2023, Ember Global Electricity Review 2024".to_string()
                }
                IntensitySource::Region(_) => REGION_DATA_SOURCE.to_string(),
                IntensitySource::Mix(_) => {
                    "mix × IPCC AR5 lifecycle medians (oil: SRREN)".to_string()
                }
                _ => "user value".to_string(),
            };
            (e, data)
        }
    };
    let region = match &cfg.intensity {
        IntensitySource::Region(r) => Some(*r),
        _ => None,
    };
    Ok(Applied {
        estimate,
        used: IntensityUsed {
            source: cfg.intensity.kind().to_string(),
            region: region.map(|r| r.code.to_string()),
            country_iso_code: region.map(|r| r.alpha3.to_string()),
            country_name: region.map(|r| r.name.to_string()),
            intensity: GramsPerKwh(estimate.value),
            sd: GramsPerKwh(estimate.sd),
            data,
        },
    })
}

/// Energy-weighted mean intensity of the run over a series.
fn series_mean(series: &crate::IntensitySeries, usage: &RunUsage) -> Result<GramsPerKwh> {
    if let (Some(first), Some(last)) = (usage.profile.first(), usage.profile.last()) {
        let spent = last.1 .0 - first.1 .0;
        if spent > 0.0 {
            let g = series.emissions_of_profile(&usage.profile)?;
            return Ok(GramsPerKwh(g.0 / Joules(spent).kwh()));
        }
    }
    let start = usage
        .started_at
        .or(usage.profile.first().map(|p| p.0))
        .ok_or_else(|| {
            FootprintError::MissingInput(
                "a time-series intensity needs the run's start time or energy readings over time \
             (RunUsage::starting_at / with_profile)"
                    .into(),
            )
        })?;
    let end = add_secs(start, usage.duration.as_secs_f64());
    series.check_covers("the run", start, end)?;
    series.mean(start, end)
}

fn water(cfg: &FootprintConfig, energy: Estimate, facility: Estimate) -> WaterFootprint {
    let rel = cfg.water.rel_uncertainty;
    let on_site = cfg
        .water
        .wue
        .map(|w| energy.mul(Estimate::with_rel(w.0, rel)))
        .unwrap_or(Estimate::exact(0.0));
    let grid = cfg
        .water
        .grid_water_intensity
        .map(|w| facility.mul(Estimate::with_rel(w.0, rel)))
        .unwrap_or(Estimate::exact(0.0));
    WaterFootprint {
        total: Water::from_estimate(on_site.add(grid)),
        on_site_l: Litres(on_site.value),
        grid_l: Litres(grid.value),
        wue_l_per_kwh: cfg.water.wue.map(|w| w.0),
        grid_l_per_kwh: cfg.water.grid_water_intensity.map(|w| w.0),
    }
}

/// The full run is forecast at the actual run's mean power (so its duration
/// scales with energy) and mean intensity (the future grid is unknown here).
/// A forecast below the actual energy avoids nothing (clamped to zero).
fn avoided(cfg: &FootprintConfig, usage: &RunUsage, full_kwh: f64, intensity: Estimate) -> Avoided {
    let actual_kwh = usage.energy.kwh();
    let dur = usage.duration.as_secs_f64();
    let full_dur = if actual_kwh > 0.0 {
        dur * (full_kwh / actual_kwh).max(1.0)
    } else {
        dur
    };
    let extra_kwh = (full_kwh - actual_kwh).max(0.0);
    let extra_energy = Estimate::with_rel(extra_kwh, usage.energy_rel_uncertainty);
    let extra_facility = extra_energy.scale(cfg.pue.value());
    let operational = extra_facility.mul(intensity);
    // Checked conversions: a forecast far beyond the run (or an infinite ratio) saturates
    // at Duration::MAX instead of panicking.
    let secs = |s: f64| Duration::try_from_secs_f64(s.max(0.0)).unwrap_or(Duration::MAX);
    let extra_dur = secs(full_dur - dur);
    let emb = embodied(&cfg.hardware, extra_dur, cfg.service_life).co2e;
    let water = water(cfg, extra_energy, extra_facility).total;

    let full_energy = Estimate::with_rel(full_kwh.max(actual_kwh), usage.energy_rel_uncertainty);
    let full_emb = embodied(&cfg.hardware, secs(full_dur), cfg.service_life).co2e;
    let full_run = full_energy
        .scale(cfg.pue.value())
        .mul(intensity)
        .add(full_emb.estimate());
    Avoided {
        forecast_full_energy_kwh: full_kwh,
        forecast_full_duration_s: full_dur,
        full_run: Co2e::from_estimate(full_run),
        co2e: Co2e::from_estimate(operational.add(emb.estimate())),
        operational: Co2e::from_estimate(operational),
        embodied: emb,
        water,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{EnergyMix, EnergySource, HardwareProfile, IntensitySeries};
    use chrono::TimeZone;

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn region_pue_water_by_hand() {
        // 10 kWh in PL (662 g/kWh, ±15 %), PUE 1.2, WUE 0.5, grid 2 L/kWh.
        let cfg = FootprintConfig::default()
            .with_region("PL")
            .unwrap()
            .with_pue(1.2)
            .unwrap()
            .with_water(Some(0.5), Some(2.0))
            .unwrap();
        let fp = run_footprint(&cfg, Joules::from_kwh(10.0), HOUR, None).unwrap();
        assert!((fp.facility_energy_kwh - 12.0).abs() < 1e-12);
        // 12 kWh × 662 = 7 944 g, sd 15 % = 1 191.6 g.
        assert!((fp.operational.value.0 - 7944.0).abs() < 1e-9);
        assert!((fp.operational.sd.0 - 1191.6).abs() < 1e-9);
        // Water: 10 × 0.5 = 5 L on site; 12 × 2 = 24 L off site.
        assert!((fp.water.on_site_l.0 - 5.0).abs() < 1e-12);
        assert!((fp.water.grid_l.0 - 24.0).abs() < 1e-12);
        assert!((fp.water.total.value.0 - 29.0).abs() < 1e-12);
        // sd: 30 % of each, in quadrature: √(1.5² + 7.2²).
        assert!((fp.water.total.sd.0 - 1.5f64.hypot(7.2)).abs() < 1e-9);
        assert_eq!(fp.intensity.country_iso_code.as_deref(), Some("POL"));
        assert!(fp.avoided.is_none());
        // No hardware configured: embodied is zero and total equals operational.
        assert_eq!(fp.embodied.co2e.value.0, 0.0);
        assert_eq!(fp.operational_plus_embodied.value, fp.operational.value);
    }

    #[test]
    fn energy_uncertainty_combines_with_intensity() {
        let cfg = FootprintConfig::default().with_region("FR").unwrap();
        let usage = RunUsage::new(Joules::from_kwh(1.0), HOUR)
            .with_energy_uncertainty(0.2)
            .unwrap();
        let fp = run_footprint_with(&cfg, &usage, None).unwrap();
        // 56 g with √(0.15² + 0.2²) = 25 %.
        assert!((fp.operational.value.0 - 56.0).abs() < 1e-12);
        assert!((fp.operational.sd.0 - 14.0).abs() < 1e-9);
    }

    #[test]
    fn world_default_and_mix() {
        let fp = run_footprint(
            &FootprintConfig::default(),
            Joules::from_kwh(1.0),
            HOUR,
            None,
        )
        .unwrap();
        assert_eq!(fp.operational.value.0, 481.0);
        assert_eq!(fp.intensity.source, "world");
        let mix = EnergyMix::new([(EnergySource::Coal, 1.0), (EnergySource::Solar, 1.0)]).unwrap();
        let cfg = FootprintConfig::default().with_mix(mix);
        let fp = run_footprint(&cfg, Joules::from_kwh(2.0), HOUR, None).unwrap();
        // 2 kWh × (820 + 48)/2 = 868 g.
        assert!((fp.operational.value.0 - 868.0).abs() < 1e-9);
    }

    #[test]
    fn avoided_by_stopping_early_by_hand() {
        // 3 kWh in 3 h at 100 g/kWh, PUE 1.5, one laptop (200 kg over 4 y = 35 064 h).
        // Forecast full run: 5 kWh → 5 h. Avoided: 2 kWh × 1.5 × 100 = 300 g
        // operational, 2 h × 200 000/35 064 g embodied.
        let cfg = FootprintConfig::default()
            .with_intensity(100.0)
            .unwrap()
            .with_pue(1.5)
            .unwrap()
            .with_hardware(HardwareProfile::preset("laptop").unwrap(), 1);
        let fp = run_footprint(
            &cfg,
            Joules::from_kwh(3.0),
            3 * HOUR,
            Some(Joules::from_kwh(5.0)),
        )
        .unwrap();
        let a = fp.avoided.unwrap();
        let per_h = 200_000.0 / 35_064.0;
        assert!((a.operational.value.0 - 300.0).abs() < 1e-9);
        assert!((a.embodied.value.0 - 2.0 * per_h).abs() < 1e-9);
        assert!((a.co2e.value.0 - (300.0 + 2.0 * per_h)).abs() < 1e-9);
        assert!((a.forecast_full_duration_s - 5.0 * 3600.0).abs() < 1e-6);
        // Full minus actual equals avoided.
        let actual = fp.operational_plus_embodied.value.0;
        assert!((a.full_run.value.0 - actual - a.co2e.value.0).abs() < 1e-9);
        // The embodied part of the actual run: 3 h.
        assert!((fp.embodied.co2e.value.0 - 3.0 * per_h).abs() < 1e-9);
    }

    #[test]
    fn forecast_below_actual_avoids_nothing() {
        let cfg = FootprintConfig::default();
        let fp = run_footprint(
            &cfg,
            Joules::from_kwh(3.0),
            HOUR,
            Some(Joules::from_kwh(1.0)),
        )
        .unwrap();
        assert_eq!(fp.avoided.unwrap().co2e.value.0, 0.0);
    }

    #[test]
    fn invalid_energy_is_an_error() {
        let cfg = FootprintConfig::default();
        for bad in [-1.0, f64::NAN, f64::INFINITY] {
            assert!(
                run_footprint(&cfg, Joules(bad), HOUR, None).is_err(),
                "{bad}"
            );
            assert!(
                run_footprint(&cfg, Joules(1.0), HOUR, Some(Joules(bad))).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn series_is_applied_over_time_not_averaged() {
        let t0 = Utc.with_ymd_and_hms(2024, 5, 1, 0, 0, 0).unwrap();
        let h = chrono::Duration::hours(1);
        let s = IntensitySeries::new(vec![(t0, GramsPerKwh(100.0)), (t0 + h, GramsPerKwh(500.0))])
            .unwrap();
        let cfg = FootprintConfig::default().with_series(s);
        // Without a time: a clear error.
        let e = run_footprint(&cfg, Joules::from_kwh(1.0), HOUR, None).unwrap_err();
        assert!(e.to_string().contains("start time"), "{e}");
        // Constant power from 00:30 for 1 h: mean 300 g/kWh → 300 g.
        let u = RunUsage::new(Joules::from_kwh(1.0), HOUR).starting_at(t0 + h / 2);
        let fp = run_footprint_with(&cfg, &u, None).unwrap();
        assert!((fp.operational.value.0 - 300.0).abs() < 1e-9);
        // Same energy, but 90 % spent in the first half hour: 0.9·100 + 0.1·500 = 140 g.
        let u = RunUsage::new(Joules::from_kwh(1.0), HOUR).with_profile(vec![
            (t0 + h / 2, Joules(0.0)),
            (t0 + h, Joules::from_kwh(0.9)),
            (t0 + h + h / 2, Joules::from_kwh(1.0)),
        ]);
        let fp = run_footprint_with(&cfg, &u, None).unwrap();
        assert!((fp.operational.value.0 - 140.0).abs() < 1e-9);
        assert_eq!(fp.intensity.source, "series");
    }

    #[test]
    fn summary_block_names_units() {
        let cfg = FootprintConfig::default()
            .with_region("FR")
            .unwrap()
            .with_hardware(HardwareProfile::preset("a100").unwrap(), 2);
        let fp = run_footprint(
            &cfg,
            Joules::from_kwh(1.0),
            HOUR,
            Some(Joules::from_kwh(2.0)),
        )
        .unwrap();
        let v = serde_json::to_value(&fp).unwrap();
        for key in [
            "it_energy_kwh",
            "facility_energy_kwh",
            "pue",
            "duration_s",
            "intensity",
            "operational",
            "embodied",
            "operational_plus_embodied",
            "water",
            "avoided",
        ] {
            assert!(v.get(key).is_some(), "missing {key}: {v}");
        }
        assert!(v["operational"]["co2e_g"].is_number());
        assert!(v["operational"]["co2e_g_sd"].is_number());
        assert!(v["embodied"]["co2e_g"].is_number());
        assert_eq!(v["embodied"]["devices"][0]["count"], 2);
        assert!(v["water"]["water_l"].is_number());
        assert_eq!(v["intensity"]["g_per_kwh"], 56.0);
        assert_eq!(v["intensity"]["region"], "FR");
        assert!(v["avoided"]["co2e_g"].is_number());
        // Round trip: the report crate can read the block back.
        let back: RunFootprint = serde_json::from_value(v).unwrap();
        assert!((back.operational.value.0 - fp.operational.value.0).abs() < 1e-9);
        assert_eq!(back.embodied.devices.len(), 1);
        assert_eq!(back.intensity.country_iso_code.as_deref(), Some("FRA"));
    }

    #[test]
    fn codecarbon_row_by_hand() {
        let cfg = FootprintConfig::default()
            .with_region("US")
            .unwrap()
            .with_pue(1.1)
            .unwrap();
        let row =
            codecarbon_emissions(&cfg, Joules::from_kwh(2.0), Duration::from_secs(200)).unwrap();
        // 2 × 1.1 × 369 = 811.8 g = 0.8118 kg over 200 s.
        assert!((row.emissions - 0.8118).abs() < 1e-12);
        assert!((row.emissions_rate - 0.8118 / 200.0).abs() < 1e-15);
        assert!((row.energy_consumed - 2.2).abs() < 1e-12);
        assert_eq!((row.pue, row.wue, row.water_consumed), (1.1, None, 0.0));
        assert_eq!(
            (
                row.country_iso_code.as_str(),
                row.country_name.as_str(),
                row.region.as_str()
            ),
            ("USA", "United States", "US")
        );
        let zero = codecarbon_emissions(&cfg, Joules(0.0), Duration::ZERO).unwrap();
        assert_eq!((zero.emissions, zero.emissions_rate), (0.0, 0.0));
        let world = codecarbon_emissions(&FootprintConfig::default(), Joules(1.0), HOUR).unwrap();
        assert_eq!(world.country_iso_code, "");
    }
}
