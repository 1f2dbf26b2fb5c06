//! [`Divergence`]: stop when the metric or the training loss is NaN/infinite, or the metric
//! crosses a bound on its bad side.

use crate::{
    Decision, DivergenceCause, DivergenceEvidence, Evidence, Observation, PolicyError, StopPolicy,
    StopReason,
};

/// Stops on a non-finite metric or training loss (when `check_finite`, the default) or, with
/// a bound, on a metric worse than the bound (Lightning's `divergence_threshold`: a loss above it, an
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
    /// Stop on NaN/infinite metrics and training losses only.
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

    /// Whether a non-finite metric or training loss stops the run (default true).
    pub fn with_check_finite(mut self, check: bool) -> Self {
        self.check_finite = check;
        self
    }
}

impl StopPolicy for Divergence {
    fn observe(&mut self, obs: &Observation<'_>) -> Decision {
        let evidence = |cause, value, bound| {
            Evidence::Divergence(DivergenceEvidence {
                step: obs.step,
                cause,
                value,
                bound,
            })
        };
        if let Some(loss) = obs.loss.filter(|l| !l.is_finite() && self.check_finite) {
            return Decision::Stop(StopReason::new(
                format!(
                    "the training loss is {loss} at step {}: the run diverged",
                    obs.step
                ),
                evidence(DivergenceCause::NonFiniteLoss, loss, None),
            ));
        }
        let Some(m) = obs.metric else {
            return Decision::Continue;
        };
        if !m.is_finite() {
            if !self.check_finite {
                return Decision::Continue;
            }
            return Decision::Stop(StopReason::new(
                format!("the metric is {m} at step {}: the run diverged", obs.step),
                evidence(DivergenceCause::NonFiniteMetric, m, None),
            ));
        }
        match self.bound {
            Some(b) if obs.direction.orient(m) < obs.direction.orient(b) => {
                Decision::Stop(StopReason::new(
                    format!(
                        "the metric {m} at step {} is past the divergence bound {b}",
                        obs.step
                    ),
                    evidence(DivergenceCause::PastBound, m, Some(b)),
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

    #[test]
    fn a_non_finite_training_loss_stops_even_with_a_fine_metric() {
        use crate::policy::test_support::obs;
        let with_loss = |loss: f64| Observation {
            loss: Some(loss),
            ..obs(7, 0.5, 1.0, 10, Up)
        };
        for bad in [f64::NAN, f64::INFINITY] {
            let Decision::Stop(r) = Divergence::non_finite().observe(&with_loss(bad)) else {
                panic!("loss {bad} must stop");
            };
            assert_eq!(r.policy, "divergence");
            assert!(r.message.contains("training loss"), "{}", r.message);
            let Evidence::Divergence(e) = r.evidence else {
                panic!("divergence evidence: {:?}", r.evidence);
            };
            assert_eq!((e.step, e.cause), (7, DivergenceCause::NonFiniteLoss));
        }
        assert!(!Divergence::non_finite().observe(&with_loss(2.5)).is_stop());
        let off = Divergence::non_finite().with_check_finite(false);
        assert!(!off.clone().observe(&with_loss(f64::NAN)).is_stop());
        // A loss without an evaluation at this step is still checked.
        let no_metric = Observation {
            metric: None,
            ..with_loss(f64::NAN)
        };
        assert!(Divergence::non_finite().observe(&no_metric).is_stop());
    }
}
