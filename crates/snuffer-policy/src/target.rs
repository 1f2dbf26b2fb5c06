//! [`Target`]: stop once the metric reaches a value (MLPerf-style time-to-quality).

use crate::{Decision, Evidence, Observation, PolicyError, StopPolicy, StopReason, TargetEvidence};
use snuffer_energy::significant;

/// Stops at the first evaluation that reaches `target` in the metric's good direction.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    target: f64,
}

impl Target {
    /// Stop once the metric is at least as good as `target` (own units).
    pub fn new(target: f64) -> Result<Self, PolicyError> {
        if !target.is_finite() {
            return Err(PolicyError::InvalidSetting {
                name: "target".into(),
                value: target.to_string(),
                expected: "a finite metric value".into(),
            });
        }
        Ok(Target { target })
    }

    /// The target value.
    pub fn target(&self) -> f64 {
        self.target
    }
}

impl StopPolicy for Target {
    fn observe(&mut self, obs: &Observation<'_>) -> Decision {
        match obs.metric {
            Some(m)
                if m.is_finite()
                    && obs.direction.orient(m) >= obs.direction.orient(self.target) =>
            {
                Decision::Stop(StopReason::new(
                    format!(
                        "the metric reached {} at step {}, target {}",
                        significant(m, 4),
                        obs.step,
                        significant(self.target, 4)
                    ),
                    Evidence::Target(TargetEvidence {
                        step: obs.step,
                        metric: m,
                        target: self.target,
                    }),
                ))
            }
            _ => Decision::Continue,
        }
    }

    fn name(&self) -> &str {
        "target"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::test_support::{stop_index, Row};
    use snuffer_forecast::Direction::{HigherIsBetter as Up, LowerIsBetter as Down};

    #[test]
    fn target_table() {
        let rows: &[Row<f64>] = &[
            ("reached exactly", 0.5, &[0.1, 0.5, 0.9], Up, Some(1)),
            ("never reached", 0.95, &[0.1, 0.5, 0.9], Up, None),
            ("loss target", 2.0, &[3.0, 2.5, 1.9], Down, Some(2)),
            ("NaN does not reach", 0.5, &[f64::NAN, 0.6], Up, Some(1)),
        ];
        for (why, t, m, d, want) in rows {
            let mut p = Target::new(*t).unwrap();
            assert_eq!(stop_index(&mut p, m, *d), *want, "{why}");
        }
        assert!(Target::new(f64::INFINITY).is_err());
    }
}
