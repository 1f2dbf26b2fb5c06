//! Where a replayed run's energy comes from, and the power assumptions behind estimates.
//!
//! A log either recorded energy (a Snuffer run directory: kept as recorded, with its own
//! provenance), or recorded time (TensorBoard `wall_time`, W&B `_runtime`, the Trainer's
//! `train_runtime`), or neither. Time becomes energy only with a power the user gives
//! (`--power-w`) or a hardware preset (its TDP); without one, energy is taken as proportional
//! to steps. Both of the latter are **estimates**, and [`EnergyBasis`] says so wherever a
//! figure is shown.

use crate::ImportError;
use serde::Serialize;
use snuffer_energy::{Joules, Provenance, Watts};
use std::fmt;

/// Largest power `--power-w` accepts: a gigawatt, more than any training cluster draws. An
/// engineering bound, not fitted: it keeps time × power finite and catches a unit slip.
pub const MAX_POWER_W: f64 = 1e9;

/// A power assumption: watts and where the figure comes from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Power {
    /// The power drawn while the run trained.
    pub watts: Watts,
    /// Where the figure comes from (`--power-w`, or the preset and its source).
    pub source: String,
}

impl Power {
    /// A power the user gave (`--power-w`); must be a positive, finite number of watts.
    pub fn given(watts: f64) -> Result<Power, ImportError> {
        if !(watts.is_finite() && watts > 0.0 && watts <= MAX_POWER_W) {
            return Err(ImportError::InvalidAssumption {
                name: "power".into(),
                value: watts.to_string(),
                expected: format!(
                    "a positive number of watts up to {MAX_POWER_W:e} (a gigawatt, more than \
                     any training cluster draws), e.g. 300"
                ),
            });
        }
        Ok(Power {
            watts: Watts(watts),
            source: format!("{watts} W as given"),
        })
    }

    /// A hardware preset: a GPU from [`GPU_PRESETS`], or a CPU model from the energy crate's
    /// TDP table (`snuffer_energy::tdp`), optionally with a count: `8xa100-sxm4`, `2x EPYC 7763`.
    /// The power is the thermal design power, which a busy device approaches but seldom
    /// exceeds: an upper-end estimate.
    pub fn preset(name: &str) -> Result<Power, ImportError> {
        let trimmed = name.trim();
        let (count, model) = split_count(trimmed);
        let key = normalise(model);
        if let Some(g) = GPU_PRESETS.iter().find(|g| normalise(g.name) == key) {
            return Ok(Power {
                watts: Watts(g.tdp_w * f64::from(count)),
                source: format!(
                    "{}{} TDP {} W ({})",
                    if count > 1 {
                        format!("{count} × ")
                    } else {
                        String::new()
                    },
                    g.name,
                    g.tdp_w,
                    GPU_SOURCE
                ),
            });
        }
        if let Some(c) = snuffer_energy::tdp::lookup(model).filter(|_| !model.is_empty()) {
            return Ok(Power {
                watts: Watts(c.tdp.0 * f64::from(count)),
                source: format!(
                    "{}{} TDP {} W (the energy crate's CPU TDP table)",
                    if count > 1 {
                        format!("{count} × ")
                    } else {
                        String::new()
                    },
                    c.pattern,
                    c.tdp.0
                ),
            });
        }
        let known: Vec<&str> = GPU_PRESETS.iter().map(|g| g.name).collect();
        Err(ImportError::InvalidAssumption {
            name: "hardware".into(),
            value: name.to_string(),
            expected: format!(
                "a GPU preset ({}), or a CPU model of the TDP table (e.g. \"EPYC 7763\"), \
                 optionally with a count (e.g. 8xa100-sxm4 or a100-sxm4=8); or give the power with --power-w",
                known.join(", ")
            ),
        })
    }
}

/// `8xa100` → (8, "a100"); `a100` → (1, "a100").
/// `8xa100-sxm4`, `8 × a100-sxm4` or `a100-sxm4=8` (the form `snuffer footprint --hardware`
/// also takes) → (8, `a100-sxm4`).
fn split_count(s: &str) -> (u32, &str) {
    if let Some((rest, n)) = s.rsplit_once('=') {
        if let Ok(n) = n.trim().parse::<u32>() {
            if n > 0 {
                return (n, rest.trim());
            }
        }
    }
    if let Some((n, rest)) = s.split_once(['x', 'X', '×', '*']) {
        if let Ok(n) = n.trim().parse::<u32>() {
            if n > 0 {
                return (n, rest.trim());
            }
        }
    }
    (1, s)
}

fn normalise(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// One GPU preset.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GpuPreset {
    /// Preset name (matched ignoring case, spaces and dashes).
    pub name: &'static str,
    /// Thermal design power of one board, W.
    pub tdp_w: f64,
}

/// Where the GPU figures come from.
pub const GPU_SOURCE: &str =
    "TDP as listed in the ML CO2 Impact calculator's data/gpus.csv, mlco2/impact commit ff5e21cc";

/// GPU boards common in training, with the TDP the ML CO2 Impact calculator lists
/// (`data/gpus.csv` of `mlco2/impact`, commit `ff5e21cc`; each row there cites the vendor
/// datasheet or techpowerup.com). Boards absent from that file (H100, L4, RTX 4090) are left
/// out rather than filled in from memory: give their power with `--power-w`.
pub const GPU_PRESETS: &[GpuPreset] = &[
    GpuPreset {
        name: "a100-pcie",
        tdp_w: 250.0,
    },
    GpuPreset {
        name: "a100-sxm4",
        tdp_w: 400.0,
    },
    GpuPreset {
        name: "v100-pcie",
        tdp_w: 300.0,
    },
    GpuPreset {
        name: "v100-sxm2-16gb",
        tdp_w: 250.0,
    },
    GpuPreset {
        name: "v100-sxm2-32gb",
        tdp_w: 300.0,
    },
    GpuPreset {
        name: "p100",
        tdp_w: 250.0,
    },
    GpuPreset {
        name: "t4",
        tdp_w: 70.0,
    },
    GpuPreset {
        name: "k80",
        tdp_w: 300.0,
    },
    GpuPreset {
        name: "rtx-a4000",
        tdp_w: 140.0,
    },
    GpuPreset {
        name: "rtx-a5000",
        tdp_w: 230.0,
    },
    GpuPreset {
        name: "rtx-a6000",
        tdp_w: 300.0,
    },
    GpuPreset {
        name: "rtx-2080-ti",
        tdp_w: 250.0,
    },
    GpuPreset {
        name: "rtx-3080",
        tdp_w: 320.0,
    },
    GpuPreset {
        name: "rtx-3090",
        tdp_w: 350.0,
    },
    GpuPreset {
        name: "titan-rtx",
        tdp_w: 280.0,
    },
];

/// Where the energy of a replayed run comes from. Only [`EnergyBasis::Recorded`] can be a
/// measurement, and only when its provenance is one.
#[derive(Debug, Clone, PartialEq)]
pub enum EnergyBasis {
    /// The log recorded energy (a Snuffer run directory), with the provenance it recorded.
    Recorded {
        /// The recorded provenance (counter, integrated power or estimated).
        provenance: Provenance,
        /// The recorded relative uncertainty.
        uncertainty: f64,
    },
    /// Recorded wall time × an assumed power: an estimate.
    WallTimeTimesPower {
        /// The power assumed.
        power: Power,
        /// Which time the log recorded (`TensorBoard wall_time`, `train_runtime`, …).
        time_source: String,
    },
    /// No energy, no time (or no power to turn time into energy): energy proportional to
    /// steps, an estimate that only rescales τ.
    Steps {
        /// Energy of one step.
        step_energy: Joules,
        /// Whether the log recorded a time (then only a power was missing).
        has_time: bool,
        /// Whether a power was given (then only a time was missing).
        power_given: bool,
    },
}

impl EnergyBasis {
    /// Short machine label: `recorded`, `wall_time_x_power` or `steps`.
    pub fn label(&self) -> &'static str {
        match self {
            EnergyBasis::Recorded { .. } => "recorded",
            EnergyBasis::WallTimeTimesPower { .. } => "wall_time_x_power",
            EnergyBasis::Steps { .. } => "steps",
        }
    }

    /// True unless the log recorded a measurement.
    pub fn is_estimate(&self) -> bool {
        match self {
            EnergyBasis::Recorded { provenance, .. } => provenance.is_estimate(),
            _ => true,
        }
    }
}

impl fmt::Display for EnergyBasis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EnergyBasis::Recorded {
                provenance,
                uncertainty,
            } => write!(
                f,
                "recorded by the run: {provenance}, ±{:.0} %",
                100.0 * uncertainty
            ),
            EnergyBasis::WallTimeTimesPower { power, time_source } => write!(
                f,
                "estimate: {time_source} × {} ({})",
                power.watts, power.source
            ),
            EnergyBasis::Steps {
                step_energy,
                has_time,
                power_given,
            } => {
                let why = match (has_time, power_given) {
                    (false, true) => {
                        "the log has no energy and no time column, so the power given cannot \
                         become energy"
                    }
                    (false, false) => "the log has no energy and no time column",
                    (true, _) => {
                        "the log has no energy, and no power was given to turn its time into \
                         energy (--power-w or --hardware)"
                    }
                };
                write!(
                    f,
                    "estimate: proportional to steps ({step_energy} per step; {why})"
                )
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_resolve_with_counts_and_cpu_models() {
        let p = Power::preset("8xA100-SXM4").unwrap();
        assert_eq!(p.watts, Watts(3200.0));
        assert!(p.source.contains("mlco2/impact"), "{}", p.source);
        assert_eq!(Power::preset("t4").unwrap().watts, Watts(70.0));
        assert_eq!(Power::preset("A100 PCIe").unwrap().watts, Watts(250.0));
        // Issue 19: the footprint command's NAME=COUNT form means the same.
        assert_eq!(Power::preset("a100-sxm4=8").unwrap().watts, Watts(3200.0));
        let cpu = Power::preset("2x EPYC 7763").unwrap();
        assert_eq!(cpu.watts, Watts(560.0));
        let err = Power::preset("h100").unwrap_err().to_string();
        assert!(
            err.contains("--power-w") && err.contains("a100-sxm4"),
            "{err}"
        );
        assert!(Power::preset("").is_err());
    }

    #[test]
    fn given_power_must_be_positive() {
        for bad in [0.0, -3.0, f64::NAN, f64::INFINITY] {
            assert!(Power::given(bad).is_err(), "{bad}");
        }
        assert_eq!(Power::given(300.0).unwrap().watts, Watts(300.0));
    }

    #[test]
    fn only_recorded_measurements_are_not_estimates() {
        let counter = EnergyBasis::Recorded {
            provenance: Provenance::Counter,
            uncertainty: 0.05,
        };
        assert!(!counter.is_estimate());
        let steps = EnergyBasis::Steps {
            step_energy: Joules(1.0),
            has_time: true,
            power_given: false,
        };
        assert!(steps.is_estimate() && steps.to_string().starts_with("estimate"));
        assert!(steps.to_string().contains("no power was given"), "{steps}");
        // Issue 19: a power was given but the log has no time column: say that.
        let no_time = EnergyBasis::Steps {
            step_energy: Joules(1.0),
            has_time: false,
            power_given: true,
        };
        let text = no_time.to_string();
        assert!(
            !text.contains("no power was given") && text.contains("no time column"),
            "{text}"
        );
    }
}
