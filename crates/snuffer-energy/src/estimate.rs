//! The CPU/RAM estimate: always available, clearly labelled as a model.
//!
//! cpu-estimate = CPU time × power of one busy hardware thread (TDP ÷ threads
//! from [`crate::tdp`], or the table median for an unknown CPU).
//! ram-estimate = resident memory × 0.375 W/GiB × wall time (CodeCarbon's
//! "3 W per 8 GB").
//!
//! Both carry a relative uncertainty of 0.4: CodeCarbon-style TDP estimates
//! err by up to ≈ 40 % against wall-plug measurements, turbo and idle power
//! being the main sources. The estimate counts only *active* CPU time, not the
//! machine's idle floor: it is the energy the work itself is responsible for.

use crate::cputime::CpuSource;
use crate::tdp::{cpu_model_name, default_watts_per_thread, lookup};
use crate::{DomainEnergy, EnergyError, Joules, Meter, Provenance, Watts};
use std::time::{Duration, Instant};

/// RAM power per GiB resident (CodeCarbon: 3 W per 8 GB).
pub const RAM_WATTS_PER_GIB: f64 = 3.0 / 8.0;
/// Relative uncertainty of both estimate domains.
pub const ESTIMATE_UNCERTAINTY: f64 = 0.4;

/// The per-thread power figure and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct CpuPowerModel {
    /// Power of one busy hardware thread.
    pub watts_per_thread: Watts,
    /// The CPU model name, if known.
    pub cpu_model: Option<String>,
    /// Where the figure comes from, in words.
    pub basis: String,
}

impl CpuPowerModel {
    /// The model for this machine's CPU (`/proc/cpuinfo`).
    pub fn detect() -> CpuPowerModel {
        let info = std::fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        CpuPowerModel::for_model(cpu_model_name(&info).as_deref())
    }

    /// The model for a CPU model name.
    pub fn for_model(name: Option<&str>) -> CpuPowerModel {
        match name.and_then(lookup) {
            Some(e) => CpuPowerModel {
                watts_per_thread: e.watts_per_thread(),
                cpu_model: name.map(str::to_owned),
                basis: format!(
                    "TDP table: {} {} W / {} threads",
                    e.pattern, e.tdp.0, e.threads
                ),
            },
            None => CpuPowerModel {
                watts_per_thread: default_watts_per_thread(),
                cpu_model: name.map(str::to_owned),
                basis: format!(
                    "default for a CPU not in the TDP table ({}): median TDP per thread",
                    name.unwrap_or("unknown model")
                ),
            },
        }
    }
}

/// Estimates energy from CPU time and resident memory; see the module docs.
#[derive(Debug)]
pub struct EstimateMeter {
    source: CpuSource,
    model: CpuPowerModel,
    cpu: bool,
    ram: bool,
    cpu_start: Duration,
    ram_joules: f64,
    last: Instant,
    last_rss: u64,
    cpu_provenance: Provenance,
    ram_provenance: Provenance,
}

impl EstimateMeter {
    /// CPU and RAM estimate for `source`, with this machine's CPU model.
    pub fn new(source: CpuSource) -> Result<EstimateMeter, EnergyError> {
        EstimateMeter::with_model(source, CpuPowerModel::detect(), true, true)
    }

    /// Full control: which terms to include (e.g. no RAM term when a RAPL dram
    /// counter exists).
    pub fn with_model(
        source: CpuSource,
        model: CpuPowerModel,
        cpu: bool,
        ram: bool,
    ) -> Result<EstimateMeter, EnergyError> {
        if !cpu && !ram {
            return Err(EnergyError::InvalidConfig {
                setting: "estimate terms",
                message: "enable the CPU term, the RAM term or both".into(),
            });
        }
        let (cpu_start, rss) = source.sample()?;
        let cpu_provenance = Provenance::Estimated {
            model: format!(
                "{} × {:.2} W per busy thread ({})",
                source.describe(),
                model.watts_per_thread.0,
                model.basis
            ),
        };
        let ram_provenance = Provenance::Estimated {
            model: format!(
                "resident memory × {RAM_WATTS_PER_GIB} W/GiB (CodeCarbon's 3 W per 8 GB)"
            ),
        };
        Ok(EstimateMeter {
            source,
            model,
            cpu,
            ram,
            cpu_start,
            ram_joules: 0.0,
            last: Instant::now(),
            last_rss: rss,
            cpu_provenance,
            ram_provenance,
        })
    }

    /// The CPU power model in use.
    pub fn model(&self) -> &CpuPowerModel {
        &self.model
    }
}

impl Meter for EstimateMeter {
    fn name(&self) -> &str {
        "cpu-estimate"
    }

    fn read(&mut self) -> Result<Vec<DomainEnergy>, EnergyError> {
        let (cpu, rss) = self.source.sample()?;
        let now = Instant::now();
        let dt = now.saturating_duration_since(self.last);
        self.last = now;
        // Mean of the two RSS readings over the interval (trapezoid rule).
        let gib = (self.last_rss + rss) as f64 / 2.0 / (1u64 << 30) as f64;
        self.ram_joules += Watts(gib * RAM_WATTS_PER_GIB).over(dt).0;
        self.last_rss = rss;
        let mut out = Vec::with_capacity(2);
        if self.cpu {
            let busy = cpu.saturating_sub(self.cpu_start);
            out.push(DomainEnergy {
                domain: "cpu-estimate".into(),
                joules: self.model.watts_per_thread.over(busy),
                provenance: self.cpu_provenance.clone(),
                uncertainty: ESTIMATE_UNCERTAINTY,
            });
        }
        if self.ram {
            out.push(DomainEnergy {
                domain: "ram-estimate".into(),
                joules: Joules(self.ram_joules),
                provenance: self.ram_provenance.clone(),
                uncertainty: ESTIMATE_UNCERTAINTY,
            });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labelled_as_estimate_with_its_basis() {
        let model = CpuPowerModel::for_model(Some("AMD EPYC 7763 64-Core Processor"));
        assert!((model.watts_per_thread.0 - 280.0 / 128.0).abs() < 1e-12);
        let mut m = EstimateMeter::with_model(CpuSource::SelfProcess, model, true, true).unwrap();
        let r = m.read().unwrap();
        assert_eq!(r.len(), 2);
        for d in &r {
            assert!(d.provenance.is_estimate());
            assert_eq!(d.uncertainty, ESTIMATE_UNCERTAINTY);
        }
        assert!(
            r[0].provenance.to_string().contains("EPYC 7763"),
            "{}",
            r[0].provenance
        );
    }

    #[test]
    fn ram_term_grows_with_time() {
        let model = CpuPowerModel::for_model(None);
        let mut m = EstimateMeter::with_model(CpuSource::SelfProcess, model, false, true).unwrap();
        std::thread::sleep(Duration::from_millis(20));
        let r = m.read().unwrap();
        assert_eq!(r.len(), 1);
        assert!(r[0].joules.0 > 0.0, "{r:?}");
    }

    #[test]
    fn no_terms_is_a_config_error() {
        let err = EstimateMeter::with_model(
            CpuSource::SelfProcess,
            CpuPowerModel::for_model(None),
            false,
            false,
        );
        assert!(matches!(err, Err(EnergyError::InvalidConfig { .. })));
    }
}
