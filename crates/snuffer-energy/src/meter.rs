//! The [`Meter`] trait: cumulative energy per domain.

use crate::{EnergyError, Joules, Provenance};
use serde::{Deserialize, Serialize};

/// One domain's cumulative energy since the meter was created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainEnergy {
    /// Domain name: `cpu-package:0`, `dram:0`, `gpu:0`, `cpu-estimate`, `ram-estimate`, …
    pub domain: String,
    /// Cumulative energy since the meter started (monotone non-decreasing).
    pub joules: Joules,
    /// How the figure was obtained.
    pub provenance: Provenance,
    /// Relative standard uncertainty of the figure (0.4 = ±40 %).
    pub uncertainty: f64,
}

/// A source of cumulative energy readings.
///
/// Implementations report energy *since they were created* for each of their
/// domains, always in the same order, never decreasing (wraparound is the
/// meter's job). Meters are polled from the sampler's background thread.
pub trait Meter: Send {
    /// A short name for the source (`rapl`, `nvml`, `cpu-estimate`, …).
    fn name(&self) -> &str;

    /// Read the cumulative energy of every domain.
    fn read(&mut self) -> Result<Vec<DomainEnergy>, EnergyError>;
}

impl<M: Meter + ?Sized> Meter for Box<M> {
    fn name(&self) -> &str {
        (**self).name()
    }
    fn read(&mut self) -> Result<Vec<DomainEnergy>, EnergyError> {
        (**self).read()
    }
}
