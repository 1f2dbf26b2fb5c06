//! [`Target`]: stop once the metric reaches a value (MLPerf-style time-to-quality), or
//! strictly beats it (Lightning's `stopping_threshold`: [`Target::with_strict`]).

use crate::{Decision, Evidence, Observation, PolicyError, StopPolicy, StopReason, TargetEvidence};
use snuffer_energy::significant;

/// Stops at the first evaluation that reaches `target` in the metric's good direction
/// (inclusive: a value equal to the target stops), or, when strict, that is better than it.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    target: f64,
    strict: bool,
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
        Ok(Target {
            target,
            strict: false,
        })
    }

    /// Stop only on a value strictly better than the target (Lightning's
    /// `stopping_threshold`: on [5, 3, 2.9, 1] with 2.9 it stops at 1, not at 2.9).
    pub fn with_strict(mut self, strict: bool) -> Self {
        self.strict = strict;
        self
    }

    /// The target's comparison as `compat` makes it (strict under Lightning).
    pub fn with_compat(self, compat: crate::Compat) -> Self {
        self.with_strict(compat.strict_target())
    }

    /// The target value.
    pub fn target(&self) -> f64 {
        self.target
    }
}

impl Target {
    fn reached(&self, v: f64, direction: snuffer_forecast::Direction) -> bool {
        let t = direction.orient(self.target);
        if self.strict {
            v > t
        } else {
            v >= t
        }
    }
}

impl StopPolicy for Target {
    fn observe(&mut self, obs: &Observation<'_>) -> Decision {
        match obs.metric {
            Some(m) if m.is_finite() && self.reached(obs.direction.orient(m), obs.direction) => {
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
        // Lightning's strict threshold (the example).
        let mut strict = Target::new(2.9)
            .unwrap()
            .with_compat(crate::Compat::Lightning);
        assert_eq!(
            stop_index(&mut strict, &[5.0, 3.0, 2.9, 1.0], Down),
            Some(3)
        );
        let mut inclusive = Target::new(2.9).unwrap();
        assert_eq!(
            stop_index(&mut inclusive, &[5.0, 3.0, 2.9, 1.0], Down),
            Some(2)
        );
    }
}
