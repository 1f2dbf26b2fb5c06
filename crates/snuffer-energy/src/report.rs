//! What the sampler answers: energy and power per domain plus a total that
//! keeps provenance and uncertainty.

use crate::{DomainEnergy, Joules, Provenance, Watts};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// Energy per domain over some interval, with the total.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EnergyReport {
    /// Per-domain energy (same order as the sampler's domains).
    pub domains: Vec<DomainEnergy>,
    /// Sum over domains.
    pub total: Joules,
    /// The weakest provenance of the parts ([`Provenance::combine`]).
    pub provenance: Provenance,
    /// Relative uncertainty of the total: the parts' absolute uncertainties
    /// added linearly (their errors may be correlated, e.g. two estimates from
    /// one model, so the conservative sum is used rather than quadrature).
    pub uncertainty: f64,
}

impl EnergyReport {
    /// Build a report (total, provenance, uncertainty) from domain figures.
    pub fn from_domains(domains: Vec<DomainEnergy>) -> EnergyReport {
        let total: f64 = domains.iter().map(|d| d.joules.0).sum();
        let abs: f64 = domains.iter().map(|d| d.joules.0 * d.uncertainty).sum();
        let provenance = domains
            .iter()
            .map(|d| &d.provenance)
            .fold(None::<Provenance>, |acc, p| {
                Some(acc.map_or_else(|| p.clone(), |a| a.combine(p)))
            })
            .unwrap_or(Provenance::Estimated {
                model: "no domains".into(),
            });
        let uncertainty = if total > 0.0 {
            abs / total
        } else {
            domains.iter().map(|d| d.uncertainty).fold(0.0, f64::max)
        };
        EnergyReport {
            domains,
            total: Joules(total),
            provenance,
            uncertainty,
        }
    }

    /// The figure for one domain.
    pub fn domain(&self, name: &str) -> Option<&DomainEnergy> {
        self.domains.iter().find(|d| d.domain == name)
    }
}

/// Mean power of one domain over a window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DomainPower {
    /// Domain name.
    pub domain: String,
    /// Mean power.
    pub power: Watts,
    /// How the underlying energy was obtained.
    pub provenance: Provenance,
    /// Relative uncertainty.
    pub uncertainty: f64,
}

/// Mean power per domain over a recent window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PowerReport {
    /// Per-domain power.
    pub domains: Vec<DomainPower>,
    /// Sum over domains.
    pub total: Watts,
    /// The window actually covered (may be shorter than asked right after start).
    pub window: Duration,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn totals_keep_the_weakest_provenance_and_linear_uncertainty() {
        let r = EnergyReport::from_domains(vec![
            DomainEnergy {
                domain: "cpu-package:0".into(),
                joules: Joules(90.0),
                provenance: Provenance::Counter,
                uncertainty: 0.05,
            },
            DomainEnergy {
                domain: "ram-estimate".into(),
                joules: Joules(10.0),
                provenance: Provenance::Estimated { model: "m".into() },
                uncertainty: 0.4,
            },
        ]);
        assert_eq!(r.total, Joules(100.0));
        assert!(r.provenance.is_estimate());
        assert!((r.uncertainty - (4.5 + 4.0) / 100.0).abs() < 1e-12);
        assert_eq!(
            r.domain("ram-estimate").map(|d| d.joules),
            Some(Joules(10.0))
        );
    }
}
