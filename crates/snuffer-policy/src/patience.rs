//! [`Patience`]: classic early stopping, with the semantics Keras and Lightning users know.
//!
//! An evaluation *improves* when it beats the best so far by more than `min_delta`
//! (absolute, or relative to |best|) in the monitored direction. After `patience`
//! evaluations in a row without improvement the policy stops. Evaluations at steps before
//! `start_from` are ignored (Keras `start_from_epoch`). With a `baseline`, the wait is only
//! reset by an improvement that also beats the baseline (Keras semantics), so a run that
//! never reaches the baseline stops after `patience` evaluations. A NaN or infinite metric
//! is never an improvement (use [`crate::Divergence`] to stop on it at once).
//!
//! Restoring the best weights: the policy always tracks the best evaluation
//! ([`Patience::best`]), *whether or not it ever fires*. The run tracker keeps the weights
//! of that step (`best.safetensors`) in both cases, which is what users of Keras'
//! `restore_best_weights` ask for (Keras only restores when the stop fires); nothing here
//! depends on whether a stop happened.

use crate::{
    Decision, Evidence, Observation, PatienceEvidence, PolicyError, StopPolicy, StopReason,
};
use snuffer_energy::significant;
use snuffer_forecast::Direction;

/// How much better than the best an evaluation must be to count as an improvement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum MinDelta {
    /// In metric units.
    Absolute(f64),
    /// As a fraction of |best|.
    Relative(f64),
}

/// Settings of [`Patience`].
#[derive(Debug, Clone, PartialEq)]
pub struct PatienceConfig {
    /// Evaluations without improvement before stopping (≥ 1).
    pub patience: u32,
    /// Required margin of an improvement.
    pub min_delta: MinDelta,
    /// Direction; `None` takes the observation's.
    pub direction: Option<Direction>,
    /// A value the run must beat for the wait to reset.
    pub baseline: Option<f64>,
    /// Evaluations before this step are ignored.
    pub start_from: u64,
}

impl PatienceConfig {
    /// `patience` evaluations, no margin, no baseline.
    pub fn new(patience: u32) -> Self {
        PatienceConfig {
            patience,
            min_delta: MinDelta::Absolute(0.0),
            direction: None,
            baseline: None,
            start_from: 0,
        }
    }
    /// Absolute margin.
    pub fn with_min_delta(mut self, delta: f64) -> Self {
        self.min_delta = MinDelta::Absolute(delta);
        self
    }
    /// Relative margin (fraction of |best|).
    pub fn with_min_delta_relative(mut self, fraction: f64) -> Self {
        self.min_delta = MinDelta::Relative(fraction);
        self
    }
    /// Monitor this direction instead of the observation's.
    pub fn with_direction(mut self, direction: Direction) -> Self {
        self.direction = Some(direction);
        self
    }
    /// Require beating this value.
    pub fn with_baseline(mut self, baseline: f64) -> Self {
        self.baseline = Some(baseline);
        self
    }
    /// Ignore evaluations before this step.
    pub fn with_start_from(mut self, step: u64) -> Self {
        self.start_from = step;
        self
    }
}

/// Early stopping on a lack of improvement (see the module docs).
#[derive(Debug, Clone)]
pub struct Patience {
    config: PatienceConfig,
    best: Option<(u64, f64)>,
    wait: u32,
}

impl Patience {
    /// A policy with validated settings.
    pub fn new(config: PatienceConfig) -> Result<Self, PolicyError> {
        let bad = |name: &str, value: String, expected: &str| {
            Err(PolicyError::InvalidSetting {
                name: name.into(),
                value,
                expected: expected.into(),
            })
        };
        if config.patience == 0 {
            return bad("patience", "0".into(), "at least 1 evaluation");
        }
        let d = match config.min_delta {
            MinDelta::Absolute(d) | MinDelta::Relative(d) => d,
        };
        if !(d.is_finite() && d >= 0.0) {
            return bad("min_delta", d.to_string(), "a finite margin ≥ 0");
        }
        if config.baseline.is_some_and(|b| !b.is_finite()) {
            return bad(
                "baseline",
                format!("{:?}", config.baseline),
                "a finite value",
            );
        }
        Ok(Patience {
            config,
            best: None,
            wait: 0,
        })
    }

    /// The best evaluation so far as `(step, value)` in the metric's own units — the step
    /// whose weights to restore, tracked whether or not the policy fires.
    pub fn best(&self) -> Option<(u64, f64)> {
        self.best
    }

    /// Evaluations since the last improvement.
    pub fn wait(&self) -> u32 {
        self.wait
    }

    fn improves(&self, candidate: f64, reference: f64) -> bool {
        let margin = match self.config.min_delta {
            MinDelta::Absolute(d) => d,
            MinDelta::Relative(f) => f * reference.abs(),
        };
        candidate - margin > reference
    }
}

impl StopPolicy for Patience {
    fn observe(&mut self, obs: &Observation<'_>) -> Decision {
        let Some(metric) = obs.metric else {
            return Decision::Continue;
        };
        if obs.step < self.config.start_from {
            return Decision::Continue;
        }
        let dir = self.config.direction.unwrap_or(obs.direction);
        let v = dir.orient(metric);
        self.wait += 1;
        let beats_best = v.is_finite()
            && self
                .best
                .is_none_or(|(_, b)| self.improves(v, dir.orient(b)));
        if beats_best {
            self.best = Some((obs.step, metric));
            let beats_baseline = self
                .config
                .baseline
                .is_none_or(|b| self.improves(v, dir.orient(b)));
            if beats_baseline {
                self.wait = 0;
                return Decision::Continue;
            }
        }
        if self.wait < self.config.patience {
            return Decision::Continue;
        }
        let (best_step, best) = self.best.unwrap_or((0, f64::NAN));
        Decision::Stop(StopReason::new(
            format!(
                "no improvement{} for {} evaluation(s) (patience {}); best {} at step {best_step}",
                match self.config.baseline {
                    Some(b) => format!(" beating the baseline {b}"),
                    None => String::new(),
                },
                self.wait,
                self.config.patience,
                significant(best, 4)
            ),
            Evidence::Patience(PatienceEvidence {
                step: obs.step,
                wait: self.wait,
                patience: self.config.patience,
                best: self.best.map(|(_, b)| b),
                best_step: self.best.map(|(s, _)| s),
                baseline: self.config.baseline,
            }),
        ))
    }

    fn name(&self) -> &str {
        "patience"
    }

    fn reset(&mut self) {
        self.best = None;
        self.wait = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::policy::test_support::{stop_index, Row};
    use Direction::{HigherIsBetter as Up, LowerIsBetter as Down};

    #[test]
    fn keras_semantics_table() {
        let nan = f64::NAN;
        let rows: &[Row<PatienceConfig>] = &[
            (
                "improving never stops",
                PatienceConfig::new(2),
                &[0.1, 0.2, 0.3, 0.4],
                Up,
                None,
            ),
            (
                "two flat evaluations stop with patience 2",
                PatienceConfig::new(2),
                &[0.1, 0.5, 0.5, 0.5],
                Up,
                Some(3),
            ),
            (
                "loss direction",
                PatienceConfig::new(1),
                &[3.0, 2.0, 2.5],
                Down,
                Some(2),
            ),
            (
                "min_delta makes small gains count as none",
                PatienceConfig::new(2).with_min_delta(0.05),
                &[0.5, 0.52, 0.54],
                Up,
                Some(2),
            ),
            (
                "relative min_delta",
                PatienceConfig::new(1).with_min_delta_relative(0.1),
                &[1.0, 1.05],
                Up,
                Some(1),
            ),
            (
                "baseline never beaten",
                PatienceConfig::new(2).with_baseline(0.9),
                &[0.1, 0.2, 0.3],
                Up,
                Some(1),
            ),
            (
                "baseline beaten resets",
                PatienceConfig::new(2).with_baseline(0.15),
                &[0.1, 0.2, 0.3, 0.4],
                Up,
                None,
            ),
            (
                "start_from ignores early evaluations",
                PatienceConfig::new(1).with_start_from(3),
                &[0.5, 0.1, 0.1, 0.2],
                Up,
                None,
            ),
            (
                "NaN is no improvement",
                PatienceConfig::new(1),
                &[0.5, nan],
                Up,
                Some(1),
            ),
            (
                "direction override",
                PatienceConfig::new(1).with_direction(Down),
                &[0.5, 0.6],
                Up,
                Some(1),
            ),
        ];
        for (why, cfg, metrics, dir, expected) in rows {
            let mut p = Patience::new(cfg.clone()).unwrap();
            assert_eq!(stop_index(&mut p, metrics, *dir), *expected, "{why}");
        }
    }

    #[test]
    fn best_is_tracked_even_without_a_stop() {
        let mut p = Patience::new(PatienceConfig::new(10)).unwrap();
        assert_eq!(
            stop_index(&mut p, &[0.1, 0.7, 0.3], Direction::HigherIsBetter),
            None
        );
        assert_eq!(p.best(), Some((2, 0.7)));
        assert_eq!(p.wait(), 1);
        p.reset();
        assert_eq!(p.best(), None);
    }

    #[test]
    fn invalid_settings_are_rejected() {
        assert!(Patience::new(PatienceConfig::new(0)).is_err());
        assert!(Patience::new(PatienceConfig::new(1).with_min_delta(-1.0)).is_err());
        assert!(Patience::new(PatienceConfig::new(1).with_baseline(f64::NAN)).is_err());
    }
}
