//! Picking the best available source per domain, and saying why the others
//! were skipped.
//!
//! Order of preference: hardware counters (RAPL package/dram, NVML energy),
//! then integrated power (NVML power), then the estimate. The CPU estimate is
//! used only when no RAPL package counter exists, the RAM estimate only when
//! no RAPL dram counter exists: never two figures for one domain.

use crate::cputime::CpuSource;
use crate::estimate::{CpuPowerModel, EstimateMeter};
use crate::gpu::{GpuBackend, GpuMeter, NvmlBackend};
use crate::rapl::{powercap_root, RaplMeter};
use crate::Meter;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// A source that was not used, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Skipped {
    /// The source (`rapl`, `nvml`, `cpu-estimate`, `rapl intel-rapl:1`, …).
    pub source: String,
    /// Why, in words.
    pub reason: String,
}

/// The meters chosen by [`auto`] and the sources skipped.
pub struct AutoSelection {
    /// Meters to poll (never empty unless even the estimate failed; see `skipped`).
    pub meters: Vec<Box<dyn Meter>>,
    /// Every source not used, with why.
    pub skipped: Vec<Skipped>,
    /// Whether a RAPL package counter is among the meters (process attribution
    /// with [`crate::CpuShare`] is then meaningful).
    pub has_package_counter: bool,
}

impl std::fmt::Debug for AutoSelection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AutoSelection")
            .field(
                "meters",
                &self
                    .meters
                    .iter()
                    .map(|m| m.name().to_owned())
                    .collect::<Vec<_>>(),
            )
            .field("skipped", &self.skipped)
            .finish()
    }
}

/// What [`auto_with`] looks at.
pub struct AutoConfig {
    /// Powercap root (default: [`powercap_root()`], i.e. `$SNUFFER_POWERCAP_ROOT` or `/sys/class/powercap`).
    pub powercap_root: PathBuf,
    /// Whether to look for GPUs.
    pub gpu: bool,
    /// GPU backend to use instead of NVML (tests, other vendors).
    pub gpu_backend: Option<Box<dyn GpuBackend>>,
    /// Whose CPU time the estimate covers.
    pub cpu_source: CpuSource,
    /// CPU power model for the estimate (default: detected from /proc/cpuinfo).
    pub cpu_model: Option<CpuPowerModel>,
}

impl Default for AutoConfig {
    fn default() -> AutoConfig {
        AutoConfig {
            powercap_root: powercap_root(),
            gpu: true,
            gpu_backend: None,
            cpu_source: CpuSource::SelfProcess,
            cpu_model: None,
        }
    }
}

impl std::fmt::Debug for AutoConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AutoConfig")
            .field("powercap_root", &self.powercap_root)
            .field("gpu", &self.gpu)
            .field("cpu_source", &self.cpu_source)
            .finish()
    }
}

/// The best meters for this process on this machine, with the default settings.
pub fn auto() -> AutoSelection {
    auto_with(AutoConfig::default())
}

/// The best meters under `config`.
pub fn auto_with(config: AutoConfig) -> AutoSelection {
    let mut meters: Vec<Box<dyn Meter>> = Vec::new();
    let mut skipped = Vec::new();
    let (mut has_package, mut has_dram) = (false, false);

    match RaplMeter::with_root(&config.powercap_root) {
        Ok(m) => {
            has_package = true;
            has_dram = m.has_dram();
            skipped.extend(m.ignored().iter().cloned());
            meters.push(Box::new(m));
        }
        Err(e) => {
            let text = e.to_string();
            skipped.push(Skipped {
                source: "rapl".into(),
                reason: format!(
                    "unavailable, because {}",
                    text.strip_prefix("rapl: ").unwrap_or(&text)
                ),
            })
        }
    }

    if config.gpu {
        let backend = match config.gpu_backend {
            Some(b) => Ok(b),
            None => NvmlBackend::new().map(|b| Box::new(b) as Box<dyn GpuBackend>),
        };
        match backend.and_then(GpuMeter::new) {
            Ok(m) => {
                skipped.extend(m.ignored().iter().cloned());
                meters.push(Box::new(m));
            }
            Err(e) => skipped.push(Skipped {
                source: "nvml".into(),
                reason: e.to_string().trim_start_matches("nvml: ").to_owned(),
            }),
        }
    } else {
        skipped.push(Skipped {
            source: "nvml".into(),
            reason: "GPU measurement turned off".into(),
        });
    }

    if has_package {
        skipped.push(Skipped {
            source: "cpu-estimate".into(),
            reason: "not needed, because a RAPL package counter measures the CPU".into(),
        });
    }
    if has_dram {
        skipped.push(Skipped {
            source: "ram-estimate".into(),
            reason: "not needed, because a RAPL dram counter measures the memory".into(),
        });
    }
    if !has_package || !has_dram {
        let model = config.cpu_model.unwrap_or_else(CpuPowerModel::detect);
        match EstimateMeter::with_model(config.cpu_source, model, !has_package, !has_dram) {
            Ok(m) => meters.push(Box::new(m)),
            Err(e) => skipped.push(Skipped {
                source: "cpu-estimate".into(),
                reason: format!("unavailable, because {e}"),
            }),
        }
    }

    AutoSelection {
        meters,
        skipped,
        has_package_counter: has_package,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::FakePowercap;

    fn names(sel: &AutoSelection) -> Vec<String> {
        sel.meters.iter().map(|m| m.name().to_owned()).collect()
    }

    fn config(root: PathBuf) -> AutoConfig {
        AutoConfig {
            powercap_root: root,
            gpu: false,
            ..AutoConfig::default()
        }
    }

    #[test]
    fn no_counters_means_the_estimate_with_reasons() {
        let sel = auto_with(config("/nonexistent/powercap".into()));
        assert_eq!(names(&sel), ["cpu-estimate"]);
        let rapl = sel.skipped.iter().find(|s| s.source == "rapl").unwrap();
        assert!(rapl.reason.starts_with("unavailable, because"), "{rapl:?}");
        assert!(!sel.has_package_counter);
    }

    #[test]
    fn package_counter_replaces_the_cpu_estimate_but_not_ram() {
        let fake = FakePowercap::new();
        fake.zone("intel-rapl:0", "package-0", 0, Some(1 << 40));
        let mut sel = auto_with(config(fake.root().into()));
        assert_eq!(names(&sel), ["rapl", "cpu-estimate"]);
        assert!(sel
            .skipped
            .iter()
            .any(|s| s.source == "cpu-estimate" && s.reason.contains("counter")));
        let domains: Vec<String> = sel
            .meters
            .iter_mut()
            .flat_map(|m| m.read().unwrap())
            .map(|d| d.domain)
            .collect();
        assert_eq!(domains, ["cpu-package:0", "ram-estimate"]);
    }

    #[test]
    fn package_and_dram_need_no_estimate() {
        let fake = FakePowercap::new();
        fake.zone("intel-rapl:0", "package-0", 0, Some(1 << 40));
        fake.zone("intel-rapl:0:0", "dram", 0, Some(1 << 40));
        let sel = auto_with(config(fake.root().into()));
        assert_eq!(names(&sel), ["rapl"]);
        assert!(sel.skipped.iter().any(|s| s.source == "ram-estimate"));
    }

    #[test]
    fn gpu_skip_reason_is_recorded() {
        let sel = auto_with(AutoConfig {
            powercap_root: "/nonexistent".into(),
            ..AutoConfig::default()
        });
        // Without a driver NVML is skipped with a reason; with one it is a meter.
        assert!(
            names(&sel).contains(&"nvml".to_string())
                || sel.skipped.iter().any(|s| s.source == "nvml")
        );
    }
}
