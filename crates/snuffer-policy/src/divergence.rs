//! [`Divergence`]: stop when the metric is NaN/infinite or crosses a bound on its bad side.

use crate::{Decision, Observation, PolicyError, StopPolicy, StopReason};

/// Stops on a non-finite metric (when `check_finite`, the default) or, with a bound, on a
/// metric worse than the bound (Lightning's `divergence_threshold`: a loss above it, an
/// accuracy below it).
#[derive(Debug, Clone, PartialEq)]
pub struct Divergence {
    bound: Option<f64>,
    check_finite: bool,
}

impl Default for Divergence {
    fn default() -> Self {
        Divergence {
            bound: None,
            check_finite: true,
        }
    }
}

impl Divergence {
    /// Stop on NaN/infinite metrics only.
    pub fn non_finite() -> Self {
        Divergence::default()
    }

    /// Also stop when the metric is worse than `bound` (own units).
    pub fn with_bound(mut self, bound: f64) -> Result<Self, PolicyError> {
        if !bound.is_finite() {
            return Err(PolicyError::InvalidSetting {
                name: "divergence_bound".into(),
                value: bound.to_string(),
                expected: "a finite metric value".into(),
            });
        }
        self.bound = Some(bound);
        Ok(self)
    }

    /// Whether a non-finite metric stops the run (default true).
    pub fn with_check_finite(mut self, check: bool) -> Self {
        self.check_finite = check;
        self
    }
}

impl StopPolicy for Divergence {
    fn observe(&mut self, obs: &Observation<'_>) -> Decision {
        let Some(m) = obs.metric else {
            return Decision::Continue;
        };
        let step = obs.step as f64;
        if !m.is_finite() {
            if !self.check_finite {
                return Decision::Continue;
            }
            return Decision::Stop(StopReason::new(
                "divergence",
                format!("the metric is {m} at step {}: the run diverged", obs.step),
                &[("step", step), ("metric", m)],
            ));
        }
        match self.bound {
            Some(b) if obs.direction.orient(m) < obs.direction.orient(b) => {
                Decision::Stop(StopReason::new(
                    "divergence",
                    format!(
                        "the metric {m} at step {} is past the divergence bound {b}",
                        obs.step
                    ),
                    &[("step", step), ("metric", m), ("bound", b)],
                ))
            }
            _ => Decision::Continue,
        }
    }

    fn name(&self) -> &str {
        "divergence"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::test_support::{stop_index, Row};
    use snuffer_forecast::Direction::{HigherIsBetter as Up, LowerIsBetter as Down};

    #[test]
    fn divergence_table() {
        let d = Divergence::non_finite;
        let rows: &[Row<Divergence>] = &[
            ("NaN stops", d(), &[1.0, f64::NAN], Down, Some(1)),
            ("inf stops", d(), &[1.0, f64::INFINITY], Down, Some(1)),
            ("finite never stops", d(), &[1.0, 1e9], Down, None),
            (
                "check_finite off",
                d().with_check_finite(false),
                &[f64::NAN],
                Down,
                None,
            ),
            (
                "loss above bound",
                d().with_bound(10.0).unwrap(),
                &[5.0, 11.0],
                Down,
                Some(1),
            ),
            (
                "accuracy below bound",
                d().with_bound(0.2).unwrap(),
                &[0.5, 0.1],
                Up,
                Some(1),
            ),
        ];
        for (why, pol, m, dir, want) in rows {
            let mut p = pol.clone();
            assert_eq!(stop_index(&mut p, m, *dir), *want, "{why}");
        }
        assert!(d().with_bound(f64::NAN).is_err());
    }
}
