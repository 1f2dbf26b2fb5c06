//! Embodied carbon: the manufacturing footprint of the hardware, amortised
//! over its service life and charged per device-hour of the run.
//!
//! Reported apart from operational emissions: a run summary lists both and
//! their sum is a separately named field, never folded into one number.
//!
//! # Default figures (cradle-to-gate manufacturing, per device)
//!
//! | Preset | kg CO2e | ±1 sd | Source |
//! |---|---|---|---|
//! | `laptop` | 200 | 40 % | Apple and Dell product environmental reports for 14-inch laptops: ≈ 250–300 kg life-cycle totals of which ≈ 75–80 % is production |
//! | `cpu-server` | 1 300 | 50 % | Dell PowerEdge R740 product carbon footprint (2019), manufacturing share of a 2-socket rack server |
//! | `gpu-server-host` | 2 500 | 50 % | Luccioni, Viguier & Ligozat (2023), *Estimating the carbon footprint of BLOOM*, JMLR 24(253): server node without its GPUs |
//! | `a100` | 150 | 50 % | Luccioni et al. (2023), per NVIDIA A100 GPU |
//! | `h100` | 164 | 50 % | one eighth of NVIDIA's HGX H100 (8-GPU board) product carbon footprint summary (≈ 1.3 t) |
//! | `consumer-gpu` | 60 | 85 % | EcoDiag (CNRS EcoInfo) "powerful GPU" default (60 kg, 60 % LCA and 60 % model spread) |
//!
//! The default service life is four years ([`DEFAULT_SERVICE_LIFE`]), the
//! usual depreciation period for servers and the value EcoDiag and Boavizta
//! use. A device bought for one job should get a shorter life.

use crate::error::{non_negative, rel_uncertainty, FootprintError, Result};
use crate::quantity::{Co2e, Estimate, GramsCo2e};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Seconds in a Julian year (365.25 days).
pub const SECONDS_PER_YEAR: f64 = 365.25 * 86_400.0;

/// Default service life over which manufacturing emissions are spread: 4 years.
pub const DEFAULT_SERVICE_LIFE: Duration = Duration::from_secs(4 * 31_557_600);

/// The manufacturing footprint of one device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HardwareProfile {
    /// Short name (`h100`, `laptop`, or the user's own).
    pub name: String,
    /// Cradle-to-gate emissions of one device.
    #[serde(rename = "embodied_co2e_g")]
    pub embodied: GramsCo2e,
    /// Relative standard uncertainty of `embodied`.
    pub rel_uncertainty: f64,
    /// Where the figure comes from.
    pub source: String,
}

/// Names accepted by [`HardwareProfile::preset`].
pub const PRESETS: [&str; 6] = [
    "laptop",
    "cpu-server",
    "gpu-server-host",
    "a100",
    "h100",
    "consumer-gpu",
];

impl HardwareProfile {
    /// A built-in profile by name (see the module docs); case-insensitive,
    /// `_` and `-` alike.
    ///
    /// ```
    /// use snuffer_footprint::HardwareProfile;
    /// assert_eq!(HardwareProfile::preset("H100")?.embodied.kg(), 164.0);
    /// assert!(HardwareProfile::preset("toaster").is_err());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn preset(name: &str) -> Result<HardwareProfile> {
        let n = name.trim().to_ascii_lowercase().replace('_', "-");
        let (kg, rel, source) = match n.as_str() {
            "laptop" => (
                200.0,
                0.4,
                "Apple/Dell 14-inch laptop product environmental reports (production share)",
            ),
            "cpu-server" => (
                1300.0,
                0.5,
                "Dell PowerEdge R740 product carbon footprint (2019), manufacturing",
            ),
            "gpu-server-host" => (
                2500.0,
                0.5,
                "Luccioni et al. 2023 (BLOOM), server node without GPUs",
            ),
            "a100" => (150.0, 0.5, "Luccioni et al. 2023 (BLOOM), per A100 GPU"),
            "h100" => (
                164.0,
                0.5,
                "NVIDIA HGX H100 product carbon footprint summary, one eighth of the 8-GPU board",
            ),
            "consumer-gpu" => (60.0, 0.85, "EcoDiag (CNRS EcoInfo) powerful-GPU default"),
            _ => {
                return Err(FootprintError::MissingInput(format!(
                    "unknown hardware preset `{name}`; known: {}; or give your own figure \
                     with HardwareProfile::custom",
                    PRESETS.join(", ")
                )))
            }
        };
        Ok(HardwareProfile {
            name: n,
            embodied: GramsCo2e::from_kg(kg),
            rel_uncertainty: rel,
            source: source.to_string(),
        })
    }

    /// A profile with the user's own figure (kg CO2e per device).
    pub fn custom(name: &str, embodied_kg: f64, rel_unc: f64) -> Result<HardwareProfile> {
        Ok(HardwareProfile {
            name: name.to_string(),
            embodied: GramsCo2e::from_kg(non_negative("embodied carbon (kg)", embodied_kg)?),
            rel_uncertainty: rel_uncertainty("embodied-carbon uncertainty", rel_unc)?,
            source: "user".to_string(),
        })
    }

    /// Emissions charged per hour of use over `service_life`.
    ///
    /// ```
    /// use snuffer_footprint::{HardwareProfile, DEFAULT_SERVICE_LIFE};
    /// // 150 kg over 4 × 8766 h = 35 064 h → 4.278 g per device-hour.
    /// let a100 = HardwareProfile::preset("a100")?;
    /// let g = a100.per_hour(DEFAULT_SERVICE_LIFE).0;
    /// assert!((g - 150_000.0 / 35_064.0).abs() < 1e-9);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn per_hour(&self, service_life: Duration) -> GramsCo2e {
        let hours = service_life.as_secs_f64() / 3600.0;
        if hours > 0.0 {
            GramsCo2e(self.embodied.0 / hours)
        } else {
            GramsCo2e(0.0)
        }
    }
}

/// Some number of identical devices used by a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HardwareUse {
    /// The device.
    pub profile: HardwareProfile,
    /// How many of them the run occupies.
    pub count: u32,
}

/// One line of the embodied breakdown.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceEmbodied {
    /// Device name.
    pub name: String,
    /// Number of devices.
    pub count: u32,
    /// Device-hours charged (count × run hours).
    pub device_hours: f64,
    /// Emissions charged to the run.
    #[serde(flatten)]
    pub co2e: Co2e,
    /// Source of the per-device figure.
    pub source: String,
}

/// Embodied emissions of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbodiedFootprint {
    /// Total over devices.
    #[serde(flatten)]
    pub co2e: Co2e,
    /// Service life used for the amortisation, years.
    pub service_life_years: f64,
    /// Per-device breakdown (empty when no hardware was configured).
    pub devices: Vec<DeviceEmbodied>,
}

/// Embodied emissions of `hardware` used for `duration`, amortised over
/// `service_life`. Identical devices are fully correlated (their
/// uncertainties add linearly); different kinds are independent.
pub fn embodied(
    hardware: &[HardwareUse],
    duration: Duration,
    service_life: Duration,
) -> EmbodiedFootprint {
    let hours = duration.as_secs_f64() / 3600.0;
    let mut total = Estimate::exact(0.0);
    let mut devices = Vec::with_capacity(hardware.len());
    for h in hardware {
        let device_hours = f64::from(h.count) * hours;
        let e = Estimate::with_rel(
            h.profile.per_hour(service_life).0 * device_hours,
            h.profile.rel_uncertainty,
        );
        total = total.add(e);
        devices.push(DeviceEmbodied {
            name: h.profile.name.clone(),
            count: h.count,
            device_hours,
            co2e: Co2e::from_estimate(e),
            source: h.profile.source.clone(),
        });
    }
    EmbodiedFootprint {
        co2e: Co2e::from_estimate(total),
        service_life_years: service_life.as_secs_f64() / SECONDS_PER_YEAR,
        devices,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_resolves() {
        for p in PRESETS {
            let h = HardwareProfile::preset(p).unwrap();
            assert!(h.embodied.0 > 0.0 && h.rel_uncertainty > 0.0, "{p}");
        }
        assert_eq!(
            HardwareProfile::preset("CPU_Server").unwrap().name,
            "cpu-server"
        );
    }

    #[test]
    fn amortisation_by_hand() {
        // 8 × H100 (164 kg) + one host (2 500 kg) for 3 h over a 2-year life:
        // life = 17 532 h; GPUs: 8·3·164 000/17 532 = 224.5037 g; host: 3·2 500 000/17 532 = 427.7892 g.
        let hw = vec![
            HardwareUse {
                profile: HardwareProfile::preset("h100").unwrap(),
                count: 8,
            },
            HardwareUse {
                profile: HardwareProfile::preset("gpu-server-host").unwrap(),
                count: 1,
            },
        ];
        let life = Duration::from_secs_f64(2.0 * SECONDS_PER_YEAR);
        let e = embodied(&hw, Duration::from_secs(3 * 3600), life);
        let gpus = 8.0 * 3.0 * 164_000.0 / 17_532.0;
        let host = 3.0 * 2_500_000.0 / 17_532.0;
        assert!((e.devices[0].co2e.value.0 - gpus).abs() < 1e-9);
        assert!((e.devices[1].co2e.value.0 - host).abs() < 1e-9);
        assert!((e.co2e.value.0 - (gpus + host)).abs() < 1e-9);
        let sd = (0.5 * gpus).hypot(0.5 * host);
        assert!((e.co2e.sd.0 - sd).abs() < 1e-9);
        assert_eq!(e.devices[0].device_hours, 24.0);
        assert!((e.service_life_years - 2.0).abs() < 1e-12);
    }

    #[test]
    fn no_hardware_means_zero_not_a_guess() {
        let e = embodied(&[], Duration::from_secs(3600), DEFAULT_SERVICE_LIFE);
        assert_eq!(e.co2e.value, GramsCo2e(0.0));
        assert!(e.devices.is_empty());
    }

    #[test]
    fn custom_profiles_validate() {
        assert!(HardwareProfile::custom("x", -1.0, 0.1).is_err());
        assert!(HardwareProfile::custom("x", 1.0, f64::NAN).is_err());
        assert_eq!(
            HardwareProfile::custom("x", 2.0, 0.1).unwrap().embodied,
            GramsCo2e(2000.0)
        );
    }
}
