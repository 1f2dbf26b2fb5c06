//! A meter that assumes a constant power (user-given), e.g. a GPU's or a
//! server's nameplate draw when nothing better is readable.

use crate::{DomainEnergy, EnergyError, Meter, Provenance, Watts};
use std::time::Instant;

/// Cumulative energy = a constant power × time since creation.
#[derive(Debug, Clone)]
pub struct ConstantMeter {
    domain: String,
    power: Watts,
    provenance: Provenance,
    uncertainty: f64,
    start: Instant,
}

impl ConstantMeter {
    /// `power` on `domain`, labelled [`Provenance::Estimated`] with uncertainty 0.4
    /// (the same as the CPU estimate: a nameplate figure is a model too).
    pub fn new(domain: impl Into<String>, power: Watts) -> Result<ConstantMeter, EnergyError> {
        if !power.0.is_finite() || power.0 < 0.0 {
            return Err(EnergyError::InvalidConfig {
                setting: "constant power",
                message: format!(
                    "expected a finite, non-negative number of watts, got {}",
                    power.0
                ),
            });
        }
        Ok(ConstantMeter {
            domain: domain.into(),
            power,
            provenance: Provenance::Estimated {
                model: format!("constant {} W (user-given)", power.0),
            },
            uncertainty: 0.4,
            start: Instant::now(),
        })
    }

    /// Override the provenance when the user asserts the figure was measured
    /// (e.g. a wall-plug meter on a steady load).
    pub fn with_provenance(mut self, provenance: Provenance) -> ConstantMeter {
        self.provenance = provenance;
        self
    }

    /// Override the relative uncertainty (clamped to ≥ 0).
    pub fn with_uncertainty(mut self, uncertainty: f64) -> ConstantMeter {
        self.uncertainty = if uncertainty.is_finite() {
            uncertainty.max(0.0)
        } else {
            0.4
        };
        self
    }
}

impl Meter for ConstantMeter {
    fn name(&self) -> &str {
        "constant"
    }
    fn read(&mut self) -> Result<Vec<DomainEnergy>, EnergyError> {
        Ok(vec![DomainEnergy {
            domain: self.domain.clone(),
            joules: self.power.over(self.start.elapsed()),
            provenance: self.provenance.clone(),
            uncertainty: self.uncertainty,
        }])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_at_the_given_power() {
        let mut m = ConstantMeter::new("gpu:0", Watts(100.0)).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let r = m.read().unwrap();
        assert!(r[0].joules.0 >= 2.0 && r[0].joules.0 < 20.0, "{r:?}");
        assert!(r[0].provenance.is_estimate());
        let m = m
            .with_provenance(Provenance::IntegratedPower)
            .with_uncertainty(0.05);
        assert_eq!(m.provenance, Provenance::IntegratedPower);
    }

    #[test]
    fn rejects_negative_and_nan() {
        assert!(ConstantMeter::new("x", Watts(-1.0)).is_err());
        assert!(ConstantMeter::new("x", Watts(f64::NAN)).is_err());
    }
}
