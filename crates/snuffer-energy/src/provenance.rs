//! Where an energy figure comes from, and how much to trust it.

use serde::{Deserialize, Serialize};
use std::fmt;

/// How an energy figure was obtained. Every number Snuffer reports carries one,
/// and totals never mix them silently (see [`Provenance::combine`]).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Provenance {
    /// A hardware energy counter (RAPL `energy_uj`, NVML total energy).
    Counter,
    /// Power samples integrated over time (NVML power usage, a replayed power trace).
    IntegratedPower,
    /// A model, not a measurement (e.g. CPU time × per-core power).
    Estimated {
        /// Which model produced the figure, in words (e.g. "cpu-time × 11.9 W/core (TDP table: …)").
        model: String,
    },
}

impl Provenance {
    /// True for anything that is not a measurement.
    pub fn is_estimate(&self) -> bool {
        matches!(self, Provenance::Estimated { .. })
    }

    /// Short label: `counter`, `integrated_power` or `estimated`.
    pub fn label(&self) -> &'static str {
        match self {
            Provenance::Counter => "counter",
            Provenance::IntegratedPower => "integrated_power",
            Provenance::Estimated { .. } => "estimated",
        }
    }

    /// The provenance of a sum: the weakest of the parts (an estimate anywhere
    /// makes the total an estimate; integrated power beats nothing but estimates).
    pub fn combine(&self, other: &Provenance) -> Provenance {
        fn rank(p: &Provenance) -> u8 {
            match p {
                Provenance::Counter => 0,
                Provenance::IntegratedPower => 1,
                Provenance::Estimated { .. } => 2,
            }
        }
        match (self, other) {
            (Provenance::Estimated { model: a }, Provenance::Estimated { model: b }) if a != b => {
                Provenance::Estimated {
                    model: format!("{a}; {b}"),
                }
            }
            _ if rank(self) >= rank(other) => self.clone(),
            _ => other.clone(),
        }
    }
}

impl fmt::Display for Provenance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Provenance::Counter => f.write_str("counter"),
            Provenance::IntegratedPower => f.write_str("integrated power"),
            Provenance::Estimated { model } => write!(f, "estimated ({model})"),
        }
    }
}
